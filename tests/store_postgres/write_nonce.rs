//! A write request's nonce claimed by the write itself: in the upload's one statement and in a
//! transaction's pipeline, a replay stores nothing, and a failed write leaves the nonce to claim.

use slbcert::store::prelude::*;
use slbcert::store::write_nonce::{self, PendingNonce};
use slbcert::store::{CertificateKind, StoreError, UsedNonce};

use crate::database::Database;
use crate::{certificate, load_balancer, pool, scope, with_account};

fn pending(nonce: &str) -> PendingNonce {
    PendingNonce {
        nonce: UsedNonce {
            access_key_id: "LTAI0".into(),
            nonce: nonce.into(),
            expires_ms: i64::MAX,
        },
        now_ms: 0,
    }
}

async fn used(database: &Database, nonce: &str) -> bool {
    let row = database
        .admin_query(
            "SELECT count(*) FROM used_nonces WHERE access_key_id = 'LTAI0' AND nonce = $1",
            nonce,
        )
        .await;
    row == 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_write_claims_its_nonce_and_its_replay_changes_nothing() {
    let Some(database) = Database::create("write_nonce").await else {
        return;
    };
    let store = database.open().await;
    with_account(&store).await;

    // The upload's one statement claims the nonce with the certificate.
    let (row, material) = certificate("first");
    let (stored, left) = write_nonce::scope(
        pending("n-upload"),
        store.insert_certificate(row, material, None, "{}".into()),
    )
    .await;
    stored.unwrap();
    assert!(left.is_none(), "the upload took the nonce");
    assert!(used(&database, "n-upload").await);
    let (row, material) = certificate("replayed");
    let (replayed, left) = write_nonce::scope(
        pending("n-upload"),
        store.insert_certificate(row, material, None, "{}".into()),
    )
    .await;
    assert!(
        matches!(replayed, Err(StoreError::NonceUsed)),
        "{replayed:?}"
    );
    assert!(left.is_none());
    let gone = store
        .certificate_material(&scope(), CertificateKind::Server, "replayed")
        .await
        .unwrap();
    assert!(gone.is_none(), "a replayed upload stored its certificate");

    // A transaction (a load balancer, a quota-checked upload) claims it in its pipeline.
    let (stored, left) = write_nonce::scope(
        pending("n-transaction"),
        store.insert_load_balancer(load_balancer("lb-1"), None, pool(), "{}".into()),
    )
    .await;
    stored.unwrap();
    assert!(left.is_none());
    let (row, material) = certificate("counted");
    let (replayed, _) = write_nonce::scope(
        pending("n-transaction"),
        store.insert_certificate(row, material, Some(10), "{}".into()),
    )
    .await;
    assert!(
        matches!(replayed, Err(StoreError::NonceUsed)),
        "{replayed:?}"
    );
    let gone = store
        .certificate_material(&scope(), CertificateKind::Server, "counted")
        .await
        .unwrap();
    assert!(gone.is_none(), "a replayed transaction committed");

    // A write that fails for its own reasons leaves the nonce unclaimed, for the caller.
    let (row, material) = certificate("first");
    let (conflict, left) = write_nonce::scope(
        pending("n-conflict"),
        store.insert_certificate(row, material, None, "{}".into()),
    )
    .await;
    assert!(
        matches!(conflict, Err(StoreError::Conflict(_))),
        "{conflict:?}"
    );
    assert_eq!(left.map(|p| p.nonce.nonce).as_deref(), Some("n-conflict"));
    assert!(!used(&database, "n-conflict").await);
    drop(store);
    database.drop().await;
}
