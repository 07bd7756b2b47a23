//! UDP listeners: each client address is a flow, given a backend by the listener's scheduler on
//! its first datagram and a socket of its own connected to that backend; answers go back to
//! the client from the listener's address. A flow ends after `FLOW_IDLE` without datagrams
//! either way. Flows per listener are bounded (`--listener-max-connections`): datagrams of a
//! new client beyond the bound are dropped.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::net::UdpSocket;
use tokio::sync::watch;
use tokio::task::JoinSet;

use super::proxy::{Shared, Stop};
use super::runtime::ListenerRuntime;

/// How long a flow lives without a datagram either way.
const FLOW_IDLE: Duration = Duration::from_secs(60);
/// The largest datagram relayed (the largest a UDP/IPv4 datagram can carry).
const MAX_DATAGRAM: usize = 65_507;

/// A client's flow: its socket to the backend, and when a datagram last went either way.
struct Flow {
    upstream: UdpSocket,
    active: Mutex<tokio::time::Instant>,
}

impl Flow {
    fn touch(&self) {
        *self.active.lock().unwrap_or_else(|p| p.into_inner()) = tokio::time::Instant::now();
    }

    fn idle_for(&self) -> Duration {
        self.active
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .elapsed()
    }
}

type Flows = Arc<Mutex<HashMap<SocketAddr, Arc<Flow>>>>;

pub(super) async fn serve(
    socket: UdpSocket,
    runtime: watch::Receiver<Arc<ListenerRuntime>>,
    mut stop: Stop,
    shared: Arc<Shared>,
    max_flows: usize,
) {
    let socket = Arc::new(socket);
    let flows: Flows = Arc::default();
    // Each flow's relay of answers; they end with the listener.
    let mut relays = JoinSet::new();
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let (length, client) = tokio::select! {
            _ = stop.stopped.wait_for(|stopped| *stopped) => break,
            received = socket.recv_from(&mut buffer) => match received {
                Ok(received) => received,
                // An ICMP error of an earlier send, say: the socket goes on.
                Err(_) => continue,
            },
        };
        while relays.try_join_next().is_some() {}
        let current = runtime.borrow().clone();
        if !current
            .admit
            .iter()
            .all(|filter| filter.admits(client.ip()))
        {
            continue;
        }
        let existing = flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&client)
            .cloned();
        let flow = match existing {
            Some(flow) => flow,
            None => {
                if flows.lock().unwrap_or_else(|p| p.into_inner()).len() >= max_flows {
                    continue;
                }
                let Some(upstream) = open(&current, &shared).await else {
                    continue;
                };
                let flow = Arc::new(Flow {
                    upstream,
                    active: Mutex::new(tokio::time::Instant::now()),
                });
                flows
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(client, flow.clone());
                relays.spawn(relay(flow.clone(), socket.clone(), client, flows.clone()));
                flow
            }
        };
        flow.touch();
        let _ = flow.upstream.send(&buffer[..length]).await;
    }
    relays.shutdown().await;
}

/// A socket connected to the backend the scheduler picks for a new flow.
async fn open(runtime: &ListenerRuntime, shared: &Shared) -> Option<UdpSocket> {
    let index = runtime.pick(|backend| shared.usable(runtime, backend))?;
    let backend = runtime.backends[index].address;
    let local: SocketAddr = match backend {
        SocketAddr::V4(_) => ([0, 0, 0, 0], 0).into(),
        SocketAddr::V6(_) => (std::net::Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let upstream = UdpSocket::bind(local).await.ok()?;
    upstream.connect(backend).await.ok()?;
    Some(upstream)
}

/// The backend's answers, back to the client, until the flow is idle both ways.
async fn relay(flow: Arc<Flow>, listener: Arc<UdpSocket>, client: SocketAddr, flows: Flows) {
    let mut buffer = vec![0u8; MAX_DATAGRAM];
    loop {
        let wait = FLOW_IDLE.saturating_sub(flow.idle_for());
        match tokio::time::timeout(wait, flow.upstream.recv(&mut buffer)).await {
            Ok(Ok(length)) => {
                flow.touch();
                let _ = listener.send_to(&buffer[..length], client).await;
            }
            // Refused by the backend (ICMP): the flow waits for the client's next datagram.
            Ok(Err(_)) => {}
            Err(_) if flow.idle_for() < FLOW_IDLE => {}
            Err(_) => {
                let mut flows = flows.lock().unwrap_or_else(|p| p.into_inner());
                if flows.get(&client).is_some_and(|f| Arc::ptr_eq(f, &flow)) {
                    flows.remove(&client);
                }
                return;
            }
        }
    }
}
