//! A write request's `SignatureNonce`, claimed by the transaction of its change where the store
//! can do that (PostgreSQL): the claim then rides on a round trip the request makes anyway, and
//! a replay fails that transaction, so that it changes nothing. The dispatcher runs the handler
//! in [`scope`]; a store that commits a change [`take`]s the nonce into its transaction and
//! [`give_back`]s it if the transaction fails. A nonce still pending when the handler is done
//! (it changed nothing, or failed) is claimed on its own, as reads' nonces are.

use std::future::Future;
use std::sync::Mutex;

use super::UsedNonce;

/// A nonce and the time its claim is judged at (a live earlier use makes it a replay).
#[derive(Clone, Debug)]
pub struct PendingNonce {
    pub nonce: UsedNonce,
    pub now_ms: i64,
}

tokio::task_local! {
    static PENDING: Mutex<Option<PendingNonce>>;
}

/// Runs `work` with `pending` to claim; answers its output and the nonce if nothing took it.
pub async fn scope<F: Future>(pending: PendingNonce, work: F) -> (F::Output, Option<PendingNonce>) {
    PENDING
        .scope(Mutex::new(Some(pending)), async {
            let output = work.await;
            (output, take())
        })
        .await
}

/// The nonce this request has yet to claim, for the transaction about to commit.
pub fn take() -> Option<PendingNonce> {
    PENDING
        .try_with(|pending| pending.lock().unwrap_or_else(|p| p.into_inner()).take())
        .ok()
        .flatten()
}

/// Returns a nonce whose transaction did not commit: it is still to be claimed.
pub fn give_back(nonce: PendingNonce) {
    let _ = PENDING.try_with(|pending| {
        *pending.lock().unwrap_or_else(|p| p.into_inner()) = Some(nonce);
    });
}
