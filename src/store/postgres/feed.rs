//! What other nodes changed, heard with LISTEN on a connection of its own: a load balancer
//! change wakes this node's data plane, a new KEK makes its vault read the keyring again, a
//! RAM change makes its policy cache read the account again.
//! While the connection is down nothing is heard, so on every (re)connection everything is
//! taken as changed; the data plane's periodic resync covers the rest.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio_postgres::AsyncMessage;

use super::tls::Target;

use super::CHANNEL;

const RECONNECT_AFTER: Duration = Duration::from_secs(1);

#[derive(Default)]
pub(super) struct Feed {
    keyring: AtomicU64,
    ram: AtomicU64,
    load_balancers: Arc<tokio::sync::Notify>,
}

impl Feed {
    pub fn start(target: Target) -> Arc<Feed> {
        let feed = Arc::new(Feed::default());
        tokio::spawn(listen(target, feed.clone()));
        feed
    }

    pub fn keyring_epoch(&self) -> u64 {
        self.keyring.load(Ordering::Acquire)
    }

    pub fn ram_epoch(&self) -> u64 {
        self.ram.load(Ordering::Acquire)
    }

    /// A RAM change this node made: its own caches must not wait for the notification.
    pub fn ram_changed(&self) {
        self.ram.fetch_add(1, Ordering::AcqRel);
    }

    pub fn load_balancers_changed(&self) -> Arc<tokio::sync::Notify> {
        self.load_balancers.clone()
    }

    fn heard(&self, payload: &str) {
        match payload {
            "keyring" => {
                self.keyring.fetch_add(1, Ordering::AcqRel);
            }
            "load_balancers" => self.load_balancers.notify_one(),
            "ram" => self.ram_changed(),
            _ => {}
        }
    }

    fn everything_changed(&self) {
        self.heard("keyring");
        self.heard("load_balancers");
        self.heard("ram");
    }
}

async fn listen(target: Target, feed: Arc<Feed>) {
    loop {
        match target.config.connect(target.tls.clone()).await {
            Ok((client, mut connection)) => {
                let (sender, mut payloads) = tokio::sync::mpsc::unbounded_channel();
                // The connection delivers notifications only while it is polled.
                let driver = tokio::spawn(async move {
                    while let Some(message) =
                        std::future::poll_fn(|cx| connection.poll_message(cx)).await
                    {
                        match message {
                            Ok(AsyncMessage::Notification(notification)) => {
                                let _ = sender.send(notification.payload().to_owned());
                            }
                            Ok(_) => {}
                            Err(error) => {
                                tracing::warn!(%error, "lost the database's change feed");
                                break;
                            }
                        }
                    }
                });
                match client.batch_execute(&format!("LISTEN {CHANNEL}")).await {
                    Ok(()) => {
                        feed.everything_changed();
                        while let Some(payload) = payloads.recv().await {
                            feed.heard(&payload);
                        }
                    }
                    Err(error) => tracing::warn!(%error, "cannot LISTEN for changes"),
                }
                driver.abort();
            }
            Err(error) => match super::sql::refused(&error) {
                Some(refused) => tracing::warn!(%refused, "change feed: the database refused it"),
                None => tracing::debug!(%error, "change feed: database unreachable"),
            },
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}
