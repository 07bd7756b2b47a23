//! The SQLite store: scoping, quotas under concurrency, group commit, atomicity, durability.

use std::sync::Arc;

use slbcert::crypto::{SealedPrivateKey, Secret};
use slbcert::store::sqlite::SqliteStore;
use slbcert::store::{
    AccessKey, Account, CertificateMaterial, Scope, ServerCertificate, ServerCertificateFilter,
    Store, StoreError,
};

fn scope(account: &str, region: &str) -> Scope {
    Scope {
        account_id: account.into(),
        region_id: region.into(),
    }
}

fn certificate(id: &str, scope: Scope, created_ms: i64) -> ServerCertificate {
    ServerCertificate {
        id: id.into(),
        scope,
        name: format!("name-{id}"),
        resource_group_id: "rg-default".into(),
        fingerprint: "aa:bb".into(),
        common_name: "example.com".into(),
        subject_alternative_names: vec!["example.com".into(), "192.0.2.1".into()],
        expire_ms: 4_000_000_000_000,
        created_ms,
    }
}

fn key(tag: &str) -> CertificateMaterial {
    CertificateMaterial {
        certificate_pem: format!("-----BEGIN CERTIFICATE-----\n{tag}\n"),
        private_key: SealedPrivateKey::seal(&format!("-----BEGIN PRIVATE KEY-----\n{tag}\n")),
    }
}

async fn with_accounts(store: &SqliteStore, ids: &[&str]) {
    for (n, id) in ids.iter().enumerate() {
        let account = Account {
            account_id: (*id).into(),
            name: String::new(),
            default_resource_group_id: "rg-default".into(),
            created_ms: 0,
        };
        let access_key = AccessKey {
            access_key_id: format!("LTAI{n}"),
            account_id: (*id).into(),
            secret: Secret::new(format!("secret-{n}")),
            created_ms: 0,
        };
        store.insert_account(account, access_key).await.unwrap();
    }
}

#[tokio::test]
async fn every_operation_is_confined_to_its_account_and_region() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    with_accounts(&store, &["1111111111111111", "2222222222222222"]).await;
    let mine = scope("1111111111111111", "cn-hangzhou");
    store
        .insert_server_certificate(certificate("c1", mine.clone(), 1), key("k1"), None)
        .await
        .unwrap();

    let all = ServerCertificateFilter::default();
    let listed = store.list_server_certificates(&mine, &all).await.unwrap();
    assert_eq!(listed, vec![certificate("c1", mine.clone(), 1)]);
    for other in [
        scope("2222222222222222", "cn-hangzhou"),
        scope("1111111111111111", "cn-shanghai"),
    ] {
        assert!(
            store
                .list_server_certificates(&other, &all)
                .await
                .unwrap()
                .is_empty()
        );
        assert!(
            !store
                .rename_server_certificate(&other, "c1", "x")
                .await
                .unwrap()
        );
        assert!(!store.delete_server_certificate(&other, "c1").await.unwrap());
        assert!(
            store
                .server_certificate_material(&other, "c1")
                .await
                .unwrap()
                .is_none()
        );
    }
    assert!(
        store
            .rename_server_certificate(&mine, "c1", "renamed")
            .await
            .unwrap()
    );
    let listed = store.list_server_certificates(&mine, &all).await.unwrap();
    assert_eq!(listed[0].name, "renamed");
    assert!(store.delete_server_certificate(&mine, "c1").await.unwrap());
    assert!(
        store
            .server_certificate_material(&mine, "c1")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn filters_by_ids_and_resource_group() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    with_accounts(&store, &["1111111111111111"]).await;
    let mine = scope("1111111111111111", "cn-hangzhou");
    for (n, id) in ["a", "b", "c"].iter().enumerate() {
        let mut row = certificate(id, mine.clone(), n as i64);
        if *id == "c" {
            row.resource_group_id = "rg-other".into();
        }
        store
            .insert_server_certificate(row, key(id), None)
            .await
            .unwrap();
    }
    let ids = |list: &[ServerCertificate]| list.iter().map(|c| c.id.clone()).collect::<Vec<_>>();
    let filter = ServerCertificateFilter {
        ids: vec!["c".into(), "a".into(), "zzz".into()],
        resource_group_id: None,
    };
    assert_eq!(
        ids(&store
            .list_server_certificates(&mine, &filter)
            .await
            .unwrap()),
        ["a", "c"]
    );
    let filter = ServerCertificateFilter {
        ids: vec![],
        resource_group_id: Some("rg-other".into()),
    };
    assert_eq!(
        ids(&store
            .list_server_certificates(&mine, &filter)
            .await
            .unwrap()),
        ["c"]
    );
}

#[tokio::test]
async fn listing_follows_upload_order_within_the_same_second() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    with_accounts(&store, &["1111111111111111"]).await;
    let mine = scope("1111111111111111", "cn-hangzhou");
    for id in ["z", "a", "m"] {
        let row = certificate(id, mine.clone(), 1_000);
        store
            .insert_server_certificate(row, key(id), None)
            .await
            .unwrap();
    }
    let listed = store
        .list_server_certificates(&mine, &ServerCertificateFilter::default())
        .await
        .unwrap();
    let ids: Vec<&str> = listed.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids, ["z", "a", "m"]);
}

#[tokio::test]
async fn the_quota_holds_under_concurrent_uploads() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    with_accounts(&store, &["1111111111111111"]).await;
    let mine = scope("1111111111111111", "cn-hangzhou");
    let mut tasks = Vec::new();
    for n in 0..40 {
        let (store, mine) = (store.clone(), mine.clone());
        tasks.push(tokio::spawn(async move {
            let row = certificate(&format!("c{n}"), mine, n);
            store
                .insert_server_certificate(row, key("k"), Some(10))
                .await
        }));
    }
    let mut accepted = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(()) => accepted += 1,
            Err(StoreError::OverQuota { used, limit }) => assert_eq!((used, limit), (10, 10)),
            Err(other) => panic!("unexpected {other}"),
        }
    }
    assert_eq!(accepted, 10);
    let listed = store
        .list_server_certificates(&mine, &ServerCertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 10);
}

#[tokio::test]
async fn a_failing_write_leaves_no_trace_and_spares_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(SqliteStore::open(dir.path()).unwrap());
    with_accounts(&store, &["1111111111111111"]).await;
    let mine = scope("1111111111111111", "cn-hangzhou");
    store
        .insert_server_certificate(certificate("dup", mine.clone(), 0), key("first"), None)
        .await
        .unwrap();
    // Queued together, so that most of them share a batch with the failing duplicate.
    let mut tasks = Vec::new();
    for n in 0..20 {
        let (store, mine) = (store.clone(), mine.clone());
        let id = if n == 10 {
            "dup".to_string()
        } else {
            format!("ok{n}")
        };
        tasks.push(tokio::spawn(async move {
            store
                .insert_server_certificate(certificate(&id, mine, n), key("second"), None)
                .await
        }));
    }
    let results: Vec<_> = futures_join(tasks).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 19);
    assert!(matches!(results[10], Err(StoreError::Conflict(_))));
    // The duplicate's key did not replace the original's.
    let stored = store
        .server_certificate_material(&mine, "dup")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.private_key.open().unwrap().contains("first"));
    assert!(stored.certificate_pem.contains("first"));
    let listed = store
        .list_server_certificates(&mine, &ServerCertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(listed.len(), 20);
}

async fn futures_join<T>(tasks: Vec<tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut results = Vec::with_capacity(tasks.len());
    for task in tasks {
        results.push(task.await.unwrap());
    }
    results
}

#[tokio::test]
async fn acknowledged_writes_survive_reopening_and_keys_come_back_sealed() {
    let dir = tempfile::tempdir().unwrap();
    let mine = scope("1111111111111111", "cn-hangzhou");
    {
        let store = SqliteStore::open(dir.path()).unwrap();
        with_accounts(&store, &["1111111111111111"]).await;
        store
            .insert_server_certificate(certificate("c1", mine.clone(), 5), key("kept"), None)
            .await
            .unwrap();
    }
    let store = SqliteStore::open(dir.path()).unwrap();
    assert_eq!(store.count_accounts().await.unwrap(), 1);
    let owner = store.find_access_key("LTAI0").await.unwrap().unwrap();
    assert_eq!(owner.account_id, "1111111111111111");
    assert_eq!(owner.secret, Secret::new("secret-0".into()));
    assert!(store.find_access_key("LTAI9").await.unwrap().is_none());
    let listed = store
        .list_server_certificates(&mine, &ServerCertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(listed, vec![certificate("c1", mine.clone(), 5)]);
    let stored = store
        .server_certificate_material(&mine, "c1")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.private_key.open().unwrap().contains("kept"));
    assert!(stored.certificate_pem.contains("kept"));
}

#[tokio::test]
async fn account_ids_and_access_keys_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(dir.path()).unwrap();
    with_accounts(&store, &["1111111111111111"]).await;
    let again = Account {
        account_id: "1111111111111111".into(),
        name: String::new(),
        default_resource_group_id: "rg-x".into(),
        created_ms: 0,
    };
    let access_key = AccessKey {
        access_key_id: "LTAIfresh".into(),
        account_id: "1111111111111111".into(),
        secret: Secret::new("s".into()),
        created_ms: 0,
    };
    let error = store.insert_account(again, access_key).await.unwrap_err();
    assert!(matches!(error, StoreError::Conflict("account")));
    // Neither row of the refused account was written.
    assert!(store.find_access_key("LTAIfresh").await.unwrap().is_none());
}
