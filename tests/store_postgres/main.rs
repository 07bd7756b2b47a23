//! What only PostgreSQL has to show (what every store must do is tests/store_contract/): the store
//! under concurrency, where there is no single writer to order things: the
//! audit trail numbered without gaps, a certificate's delete racing its binding, tag limits,
//! and two stores (two nodes) sharing one database. Each test gets a fresh database on the
//! server SLBCERT_TEST_DATABASE_URL names; without it they say so and pass vacuously, except
//! under SLBCERT_STRICT (.ci/run), where they fail.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use slbcert::crypto::Sealed;
use slbcert::store::load_balancers::{
    AddressPool, Listener, ListenerStatus, LoadBalancer, Protocol,
};
use slbcert::store::postgres::PostgresStore;
use slbcert::store::prelude::*;
use slbcert::store::{
    AccessKey, Account, Certificate, CertificateKind, CertificateMaterial, Scope, StoreError, Tag,
    UsedNonce,
};

mod audit;
mod database;
mod write_nonce;

use database::{Database, audit_lines};

const ACCOUNT: &str = "1111111111111111";

fn scope() -> Scope {
    Scope {
        account_id: ACCOUNT.into(),
        region_id: "cn-hangzhou".into(),
    }
}

async fn with_account(store: &PostgresStore) {
    let account = Account {
        account_id: ACCOUNT.into(),
        name: String::new(),
        default_resource_group_id: "rg-default".into(),
        created_ms: 0,
    };
    let key = AccessKey {
        access_key_id: "LTAI0".into(),
        account_id: ACCOUNT.into(),
        sealed_secret: Sealed::from_stored(b"sealed".to_vec()),
        created_ms: 0,
        user_id: None,
    };
    store
        .insert_account(account, key, "{}".into())
        .await
        .unwrap();
}

fn certificate(id: &str) -> (Certificate, CertificateMaterial) {
    let certificate = Certificate {
        id: id.into(),
        kind: CertificateKind::Server,
        scope: scope(),
        name: id.into(),
        resource_group_id: "rg-default".into(),
        fingerprint: "aa".into(),
        common_name: "example.com".into(),
        subject_alternative_names: vec![],
        encryption_algorithm: "ECC".into(),
        encryption_key_length: 256,
        expire_ms: 4_000_000_000_000,
        created_ms: 0,
        ali_cloud: None,
        tags: vec![],
    };
    let material = CertificateMaterial {
        certificate_pem: "pem".into(),
        private_key: Some(Sealed::from_stored(b"key".to_vec())),
    };
    (certificate, material)
}

fn load_balancer(id: &str) -> LoadBalancer {
    LoadBalancer {
        id: id.into(),
        account_id: ACCOUNT.into(),
        region_id: "cn-hangzhou".into(),
        address: Ipv4Addr::UNSPECIFIED,
        status: "active".into(),
        delete_protection: false,
        created_ms: 0,
        client_token: None,
        revision: 0,
        resource_group_id: "rg-default".into(),
        attributes: BTreeMap::new(),
        tags: vec![],
        listeners: vec![],
        backend_servers: vec![],
        vserver_groups: vec![],
        master_slave_groups: vec![],
        access_log: None,
    }
}

fn pool() -> AddressPool {
    AddressPool::from_cidr("127.40.0.0/24").unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_delete_and_a_binding_on_two_nodes_never_both_commit() {
    let Some(database) = Database::create("references").await else {
        return;
    };
    let (first, second) = (
        Arc::new(database.open().await),
        Arc::new(database.open().await),
    );
    with_account(&first).await;
    let stored = first
        .insert_load_balancer(load_balancer("lb-1"), None, pool(), "{}".into())
        .await
        .unwrap();
    let mut read = stored;
    for round in 0..40 {
        let id = format!("cert-{round}");
        let (certificate, material) = certificate(&id);
        first
            .insert_certificate(certificate, material, None, "{}".into())
            .await
            .unwrap();
        let mut bound = read.clone();
        bound.listeners = vec![Listener {
            port: 443,
            protocol: Protocol::Https,
            status: ListenerStatus::Running,
            server_certificate_id: Some(id.clone()),
            ca_certificate_id: None,
            settings: BTreeMap::new(),
            domain_extensions: vec![],
            rules: vec![],
            tags: vec![],
        }];
        let (deleting, binding) = (first.clone(), second.clone());
        let scope = scope();
        let delete = tokio::spawn({
            let id = id.clone();
            async move {
                deleting
                    .delete_certificate(&scope, CertificateKind::Server, &id, "{}".into())
                    .await
            }
        });
        let bind = tokio::spawn(async move {
            binding
                .replace_load_balancers(vec![bound], "{}".into())
                .await
        });
        let (deleted, bound) = (delete.await.unwrap(), bind.await.unwrap());
        match (&deleted, &bound) {
            (Ok(()), Err(StoreError::MissingCertificate { .. })) => {}
            (Err(StoreError::InUse(_)), Ok(written)) => read = written[0].clone(),
            other => panic!("round {round}: {other:?}"),
        }
        if bound.is_err() {
            continue;
        }
        // Unbind for the next round.
        let mut unbound = read.clone();
        unbound.listeners.clear();
        read = second
            .replace_load_balancers(vec![unbound], "{}".into())
            .await
            .unwrap()
            .remove(0);
    }
    drop((first, second));
    database.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tag_limits_and_quotas_hold_when_two_nodes_write_at_once() {
    let Some(database) = Database::create("limits").await else {
        return;
    };
    let (first, second) = (
        Arc::new(database.open().await),
        Arc::new(database.open().await),
    );
    with_account(&first).await;
    let (tagged, material) = certificate("tagged");
    first
        .insert_certificate(tagged, material, None, "{}".into())
        .await
        .unwrap();
    let tags = |prefix: &str| -> Vec<Tag> {
        (0..15)
            .map(|n| Tag {
                key: format!("{prefix}{n}"),
                value: "v".into(),
            })
            .collect()
    };
    let (a, b) = (first.clone(), second.clone());
    let (ta, tb) = (tags("a"), tags("b"));
    let one = tokio::spawn(async move {
        a.tag_certificates(&scope(), vec!["tagged".into()], ta, 20, "{}".into())
            .await
    });
    let two = tokio::spawn(async move {
        b.tag_certificates(&scope(), vec!["tagged".into()], tb, 20, "{}".into())
            .await
    });
    let results = [one.await.unwrap(), two.await.unwrap()];
    assert_eq!(
        results.iter().filter(|r| r.is_ok()).count(),
        1,
        "{results:?}"
    );
    let listed = first
        .list_certificates(&scope(), CertificateKind::Server, &Default::default())
        .await
        .unwrap();
    assert_eq!(listed[0].tags.len(), 15);

    // A quota of 10 with 40 uploads through two stores at once: exactly 10 stored.
    let mut uploads = Vec::new();
    for n in 0..40 {
        let store = if n % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        uploads.push(tokio::spawn(async move {
            let (row, material) = certificate(&format!("q{n}"));
            store
                .insert_certificate(row, material, Some(11), "{}".into())
                .await
        }));
    }
    let mut stored = 0;
    for upload in uploads {
        match upload.await.unwrap() {
            Ok(()) => stored += 1,
            Err(StoreError::OverQuota { limit: 11, .. }) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(stored, 10, "11 with the tagged one");
    drop((first, second));
    database.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_node_hears_of_load_balancer_and_keyring_changes_at_once() {
    let Some(database) = Database::create("feed").await else {
        return;
    };
    let (first, second) = (database.open().await, database.open().await);
    with_account(&first).await;
    let changed = second.load_balancers_changed();
    // The LISTEN connection is up once the feed reports its first (re)connection.
    tokio::time::timeout(std::time::Duration::from_secs(5), changed.notified())
        .await
        .expect("the feed connects");
    let epoch = second.keyring_epoch();
    let started = std::time::Instant::now();
    first
        .insert_load_balancer(load_balancer("lb-heard"), None, pool(), "{}".into())
        .await
        .unwrap();
    tokio::time::timeout(std::time::Duration::from_millis(500), changed.notified())
        .await
        .expect("the other node heard of the new load balancer");
    assert!(started.elapsed() < std::time::Duration::from_millis(500));
    first
        .insert_key_encryption_key(2, vec![0; 40], "{}".into())
        .await
        .unwrap();
    let deadline = std::time::Instant::now() + std::time::Duration::from_millis(500);
    while second.keyring_epoch() == epoch {
        assert!(
            std::time::Instant::now() < deadline,
            "the keyring change was not heard"
        );
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    drop((first, second));
    database.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn each_nonce_is_claimed_once_however_the_claims_are_batched() {
    let Some(database) = Database::create("nonces").await else {
        return;
    };
    let (first, second) = (
        Arc::new(database.open().await),
        Arc::new(database.open().await),
    );
    // 20 nonces, each claimed 6 times at once through two nodes: in one batch or several.
    let mut claims = Vec::new();
    for n in 0..120 {
        let store = if n % 2 == 0 { &first } else { &second }.clone();
        claims.push(tokio::spawn(async move {
            let nonce = UsedNonce {
                access_key_id: "LTAIkey".into(),
                nonce: format!("nonce-{}", n % 20),
                expires_ms: 2_000,
            };
            (n % 20, store.claim_nonce(nonce, 1_000).await.unwrap())
        }));
    }
    let mut won = [0; 20];
    for claim in claims {
        let (nonce, claimed) = claim.await.unwrap();
        won[nonce] += usize::from(claimed);
    }
    assert_eq!(won, [1; 20]);
    // Once expired, a nonce may be claimed again, once.
    let again = |store: Arc<PostgresStore>| async move {
        let nonce = UsedNonce {
            access_key_id: "LTAIkey".into(),
            nonce: "nonce-3".into(),
            expires_ms: 9_000,
        };
        store.claim_nonce(nonce, 5_000).await.unwrap()
    };
    let (a, b) = tokio::join!(again(first.clone()), again(second.clone()));
    assert!(a ^ b, "{a} {b}");
    drop((first, second));
    database.drop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_upload_with_or_without_a_quota_stores_all_of_it_or_nothing() {
    let Some(database) = Database::create("uploads").await else {
        return;
    };
    let store = database.open().await;
    with_account(&store).await;
    // Without a quota (one statement) and with one (a transaction): the same rows.
    for (id, quota) in [("free", None), ("counted", Some(10))] {
        let (mut row, material) = certificate(id);
        row.tags = vec![Tag {
            key: "env".into(),
            value: id.into(),
        }];
        store
            .insert_certificate(row, material, quota, format!("{{\"upload\":\"{id}\"}}"))
            .await
            .unwrap();
        let stored = store
            .certificate_material(&scope(), CertificateKind::Server, id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.certificate_pem, "pem");
        assert_eq!(stored.private_key.unwrap().as_stored(), b"key");
        // Again: refused whole, with no second audit record.
        let (again, material) = certificate(id);
        let refused = store
            .insert_certificate(again, material, quota, "{\"again\":1}".into())
            .await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
    }
    // A CA certificate has no key.
    let (mut ca, _) = certificate("ca");
    ca.kind = CertificateKind::Ca;
    let material = CertificateMaterial {
        certificate_pem: "ca-pem".into(),
        private_key: None,
    };
    store
        .insert_certificate(ca, material, None, "{\"upload\":\"ca\"}".into())
        .await
        .unwrap();
    let listed = store
        .list_certificates(&scope(), CertificateKind::Server, &Default::default())
        .await
        .unwrap();
    let tags: Vec<_> = listed
        .iter()
        .map(|c| (c.id.as_str(), c.tags[0].value.as_str()))
        .collect();
    assert_eq!(tags.len(), 2);
    assert!(tags.contains(&("free", "free")) && tags.contains(&("counted", "counted")));
    // The account's record and the three uploads.
    let lines: Vec<String> = audit_lines(&store, 4).await;
    assert_eq!(
        lines.iter().filter(|l| l.contains("\"upload\"")).count(),
        3,
        "{lines:?}"
    );
    assert!(!lines.iter().any(|l| l.contains("again")), "{lines:?}");
    drop(store);
    database.drop().await;
}
