//! The SQLite store: scoping, kinds, tags, quotas under concurrency, group commit, atomicity,
//! durability, and the SSL Certificates Service's table.

use std::sync::Arc;

use slbcert::crypto::Sealed;
use slbcert::store::prelude::*;
use slbcert::store::sqlite::SqliteStore;
use slbcert::store::{
    AccessKey, Account, Certificate, CertificateField, CertificateFilter, CertificateKind,
    CertificateMaterial, Scope, StoreError, Tag, TagFilter, TagQuery, UserCertificate,
    UserCertificateFilter,
};

/// A distinct audit line per call.
fn line() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("line-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

fn sealed(tag: &str) -> Sealed {
    Sealed::from_stored(format!("sealed:{tag}").into_bytes())
}

mod common;
use common::open_store;

const SERVER: CertificateKind = CertificateKind::Server;
const CA: CertificateKind = CertificateKind::Ca;

fn scope(account: &str, region: &str) -> Scope {
    Scope {
        account_id: account.into(),
        region_id: region.into(),
    }
}

fn mine() -> Scope {
    scope("1111111111111111", "cn-hangzhou")
}

fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

fn certificate(id: &str, kind: CertificateKind, scope: Scope, tags: Vec<Tag>) -> Certificate {
    Certificate {
        id: id.into(),
        kind,
        scope,
        name: format!("name-{id}"),
        resource_group_id: "rg-default".into(),
        fingerprint: "aa:bb".into(),
        common_name: "example.com".into(),
        subject_alternative_names: vec!["example.com".into(), "192.0.2.1".into()],
        encryption_algorithm: "RSA".into(),
        encryption_key_length: 2048,
        expire_ms: 4_000_000_000_000,
        created_ms: 1_000,
        ali_cloud: None,
        tags,
    }
}

fn material(tag: &str) -> CertificateMaterial {
    CertificateMaterial {
        certificate_pem: format!("-----BEGIN CERTIFICATE-----\n{tag}\n"),
        private_key: Some(sealed(tag)),
    }
}

async fn open(dir: &tempfile::TempDir) -> SqliteStore {
    let store = open_store(dir.path());
    if store.count_accounts().await.unwrap() == 0 {
        for (n, id) in ["1111111111111111", "2222222222222222"].iter().enumerate() {
            let account = Account {
                account_id: (*id).into(),
                name: String::new(),
                default_resource_group_id: "rg-default".into(),
                created_ms: 0,
            };
            let access_key = AccessKey {
                access_key_id: format!("LTAI{n}"),
                account_id: (*id).into(),
                sealed_secret: sealed(&format!("secret-{n}")),
                created_ms: 0,
                user_id: None,
            };
            store
                .insert_account(account, access_key, line())
                .await
                .unwrap();
        }
    }
    store
}

async fn ids(
    store: &SqliteStore,
    scope: &Scope,
    kind: CertificateKind,
    filter: CertificateFilter,
) -> Vec<String> {
    let listed = store.list_certificates(scope, kind, &filter).await.unwrap();
    listed.into_iter().map(|c| c.id).collect()
}

#[tokio::test]
async fn every_operation_is_confined_to_its_account_region_and_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let row = certificate("c1", SERVER, mine(), vec![tag("env", "ci")]);
    store
        .insert_certificate(row.clone(), material("k1"), None, line())
        .await
        .unwrap();

    let listed = store
        .list_certificates(&mine(), SERVER, &CertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(listed, vec![row]);
    let others = [
        (scope("2222222222222222", "cn-hangzhou"), SERVER),
        (scope("1111111111111111", "cn-shanghai"), SERVER),
        (mine(), CA),
    ];
    for (other, kind) in others {
        assert!(
            ids(&store, &other, kind, CertificateFilter::default())
                .await
                .is_empty()
        );
        let renamed = store
            .set_certificate_field(&other, kind, "c1", CertificateField::Name, "x", line())
            .await;
        assert!(matches!(renamed, Err(StoreError::NotFound(_))));
        let deleted = store.delete_certificate(&other, kind, "c1", line()).await;
        assert!(matches!(deleted, Err(StoreError::NotFound(_))));
        assert!(
            store
                .certificate_material(&other, kind, "c1")
                .await
                .unwrap()
                .is_none()
        );
    }
    let stranger = scope("2222222222222222", "cn-hangzhou");
    let error = store
        .tag_certificates(
            &stranger,
            vec!["c1".into()],
            vec![tag("a", "b")],
            20,
            line(),
        )
        .await;
    assert!(matches!(error, Err(StoreError::NotFound(id)) if id == "c1"));
    assert!(
        store
            .list_certificate_tags(
                &stranger,
                &TagQuery {
                    limit: 10,
                    ..TagQuery::default()
                }
            )
            .await
            .unwrap()
            .is_empty()
    );

    store
        .set_certificate_field(
            &mine(),
            SERVER,
            "c1",
            CertificateField::Name,
            "renamed",
            line(),
        )
        .await
        .unwrap();
    let listed = store
        .list_certificates(&mine(), SERVER, &CertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(listed[0].name, "renamed");
    store
        .delete_certificate(&mine(), SERVER, "c1", line())
        .await
        .unwrap();
    assert!(
        store
            .certificate_material(&mine(), SERVER, "c1")
            .await
            .unwrap()
            .is_none()
    );
}

#[tokio::test]
async fn describe_filters_by_ids_group_and_every_tag_in_upload_order() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let rows = [
        (
            "z",
            "rg-default",
            vec![tag("env", "prod"), tag("team", "a")],
        ),
        ("a", "rg-default", vec![tag("env", "dev")]),
        ("m", "rg-other", vec![tag("env", "prod")]),
    ];
    for (id, group, tags) in rows {
        let mut row = certificate(id, SERVER, mine(), tags);
        row.resource_group_id = group.into();
        store
            .insert_certificate(row, material(id), None, line())
            .await
            .unwrap();
    }
    let here = mine();
    let all = |filter| ids(&store, &here, SERVER, filter);
    assert_eq!(all(CertificateFilter::default()).await, ["z", "a", "m"]);
    let by_ids = CertificateFilter {
        ids: vec!["m".into(), "z".into(), "nope".into()],
        ..Default::default()
    };
    assert_eq!(all(by_ids).await, ["z", "m"]);
    let by_group = CertificateFilter {
        resource_group_id: Some("rg-other".into()),
        ..Default::default()
    };
    assert_eq!(all(by_group).await, ["m"]);
    let prod = TagFilter {
        key: "env".into(),
        value: Some("prod".into()),
    };
    let team = TagFilter {
        key: "team".into(),
        value: None,
    };
    assert_eq!(
        all(CertificateFilter {
            tags: vec![prod.clone()],
            ..Default::default()
        })
        .await,
        ["z", "m"]
    );
    assert_eq!(
        all(CertificateFilter {
            tags: vec![prod, team],
            ..Default::default()
        })
        .await,
        ["z"]
    );
    let listed = store
        .list_certificates(&mine(), SERVER, &CertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(listed[0].tags, vec![tag("env", "prod"), tag("team", "a")]);
}

#[tokio::test]
async fn tagging_is_all_or_nothing_and_capped() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let eighteen: Vec<Tag> = (0..18).map(|n| tag(&format!("k{n:02}"), "v")).collect();
    store
        .insert_certificate(
            certificate("full", SERVER, mine(), eighteen),
            material("f"),
            None,
            line(),
        )
        .await
        .unwrap();
    store
        .insert_certificate(
            certificate("ca", CA, mine(), vec![]),
            CertificateMaterial {
                certificate_pem: "x".into(),
                private_key: None,
            },
            None,
            line(),
        )
        .await
        .unwrap();

    // Server and CA certificates share the tag namespace; re-tagging replaces a value.
    store
        .tag_certificates(
            &mine(),
            vec!["full".into(), "ca".into()],
            vec![tag("k00", "new"), tag("x", "1")],
            20,
            line(),
        )
        .await
        .unwrap();
    // Three more would make 22 on "full": refused, and "ca" keeps nothing of this call either.
    let error = store
        .tag_certificates(
            &mine(),
            vec!["ca".into(), "full".into()],
            vec![tag("y", "1"), tag("z", "1"), tag("w", "1")],
            20,
            line(),
        )
        .await;
    assert!(
        matches!(error, Err(StoreError::TagLimit { ref resource_id, count: 22 }) if resource_id == "full")
    );
    let error = store
        .tag_certificates(
            &mine(),
            vec!["ca".into(), "ghost".into()],
            vec![tag("q", "1")],
            20,
            line(),
        )
        .await;
    assert!(matches!(error, Err(StoreError::NotFound(id)) if id == "ghost"));
    let ca = store
        .list_certificates(&mine(), CA, &CertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(ca[0].tags, vec![tag("k00", "new"), tag("x", "1")]);

    store
        .untag_certificates(
            &mine(),
            vec!["ca".into()],
            Some(vec!["x".into(), "absent".into()]),
            line(),
        )
        .await
        .unwrap();
    store
        .untag_certificates(&mine(), vec!["full".into()], None, line())
        .await
        .unwrap();
    let query = TagQuery {
        limit: 100,
        ..TagQuery::default()
    };
    let rows = store.list_certificate_tags(&mine(), &query).await.unwrap();
    let listed: Vec<(String, String)> = rows
        .iter()
        .map(|r| (r.resource_id.clone(), r.tag.key.clone()))
        .collect();
    assert_eq!(listed, [("ca".to_string(), "k00".to_string())]);

    // Deleting a certificate deletes its tags.
    store
        .delete_certificate(&mine(), CA, "ca", line())
        .await
        .unwrap();
    assert!(
        store
            .list_certificate_tags(&mine(), &query)
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn tag_listing_pages_with_a_cursor() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    for id in ["b", "a"] {
        let tags = (0..5).map(|n| tag(&format!("k{n}"), id)).collect();
        store
            .insert_certificate(
                certificate(id, SERVER, mine(), tags),
                material(id),
                None,
                line(),
            )
            .await
            .unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let query = TagQuery {
            after: after.clone(),
            limit: 3,
            ..TagQuery::default()
        };
        let page = store.list_certificate_tags(&mine(), &query).await.unwrap();
        seen.extend(
            page.iter()
                .map(|r| format!("{}:{}", r.resource_id, r.tag.key)),
        );
        match page.last() {
            Some(last) if page.len() == 3 => after = Some(last.cursor.clone()),
            _ => break,
        }
    }
    assert_eq!(
        seen,
        [
            "b:k0", "b:k1", "b:k2", "b:k3", "b:k4", "a:k0", "a:k1", "a:k2", "a:k3", "a:k4"
        ]
    );
    let only_a = TagQuery {
        resource_ids: vec!["a".into()],
        tags: vec![TagFilter {
            key: "k1".into(),
            value: Some("a".into()),
        }],
        limit: 50,
        ..TagQuery::default()
    };
    assert_eq!(
        store
            .list_certificate_tags(&mine(), &only_a)
            .await
            .unwrap()
            .len(),
        5
    );
}

#[tokio::test]
async fn the_quota_holds_under_concurrent_uploads_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&dir).await);
    let mut tasks = Vec::new();
    for n in 0..40 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let row = certificate(&format!("c{n}"), SERVER, mine(), vec![]);
            store
                .insert_certificate(row, material("k"), Some(10), line())
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
    // CA certificates count apart.
    let ca = certificate("ca", CA, mine(), vec![]);
    store
        .insert_certificate(ca, material("ca"), Some(10), line())
        .await
        .unwrap();
}

#[tokio::test]
async fn a_failing_write_leaves_no_trace_and_spares_its_batch() {
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(open(&dir).await);
    let first = certificate("dup", SERVER, mine(), vec![tag("origin", "first")]);
    store
        .insert_certificate(first, material("first"), None, line())
        .await
        .unwrap();
    // Queued together, so that most of them share a batch with the failing duplicate.
    let mut tasks = Vec::new();
    for n in 0..20 {
        let store = store.clone();
        let id = if n == 10 {
            "dup".to_string()
        } else {
            format!("ok{n}")
        };
        tasks.push(tokio::spawn(async move {
            let row = certificate(&id, SERVER, mine(), vec![tag("origin", "second")]);
            store
                .insert_certificate(row, material("second"), None, line())
                .await
        }));
    }
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 19);
    assert!(matches!(results[10], Err(StoreError::Conflict(_))));
    let stored = store
        .certificate_material(&mine(), SERVER, "dup")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.private_key.unwrap().as_stored().ends_with(b"first"));
    assert!(stored.certificate_pem.contains("first"));
    let filter = CertificateFilter {
        ids: vec!["dup".into()],
        ..Default::default()
    };
    let dup = store
        .list_certificates(&mine(), SERVER, &filter)
        .await
        .unwrap();
    assert_eq!(dup[0].tags, vec![tag("origin", "first")]);
    assert_eq!(
        ids(&store, &mine(), SERVER, CertificateFilter::default())
            .await
            .len(),
        20
    );
}

#[tokio::test]
async fn acknowledged_writes_survive_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let row = certificate("c1", SERVER, mine(), vec![tag("a", "1")]);
    {
        let store = open(&dir).await;
        store
            .insert_certificate(row.clone(), material("kept"), None, line())
            .await
            .unwrap();
    }
    let store = open(&dir).await;
    assert_eq!(store.count_accounts().await.unwrap(), 2);
    let owner = store.find_access_key("LTAI0").await.unwrap().unwrap();
    assert_eq!(owner.account_id, "1111111111111111");
    assert_eq!(owner.sealed_secret, sealed("secret-0"));
    assert!(store.find_access_key("LTAI9").await.unwrap().is_none());
    let listed = store
        .list_certificates(&mine(), SERVER, &CertificateFilter::default())
        .await
        .unwrap();
    assert_eq!(listed, vec![row]);
    let stored = store
        .certificate_material(&mine(), SERVER, "c1")
        .await
        .unwrap()
        .unwrap();
    assert!(stored.private_key.unwrap().as_stored().ends_with(b"kept"));
}

#[tokio::test]
async fn account_ids_and_access_keys_are_unique() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let again = Account {
        account_id: "1111111111111111".into(),
        name: String::new(),
        default_resource_group_id: "rg-x".into(),
        created_ms: 0,
    };
    let access_key = AccessKey {
        access_key_id: "LTAIfresh".into(),
        account_id: "1111111111111111".into(),
        sealed_secret: sealed("s"),
        created_ms: 0,
        user_id: None,
    };
    let error = store
        .insert_account(again, access_key, line())
        .await
        .unwrap_err();
    assert!(matches!(error, StoreError::Conflict("account")));
    assert!(store.find_access_key("LTAIfresh").await.unwrap().is_none());
}

fn user_certificate(cert_id: i64, account: &str, name: &str, not_after_ms: i64) -> UserCertificate {
    UserCertificate {
        cert_id,
        account_id: account.into(),
        name: name.into(),
        resource_group_id: "rg-default".into(),
        fingerprint: "aa".into(),
        common_name: format!("{name}.example.com"),
        subject_alternative_names: vec![format!("{name}.example.com")],
        issuer: "Issuer".into(),
        serial_number: "01".into(),
        algorithm: "RSA".into(),
        not_before_ms: 0,
        not_after_ms,
        created_ms: 0,
        tags: Vec::new(),
        client_token: None,
    }
}

#[tokio::test]
async fn user_certificates_are_per_account_with_unique_names() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let (me, them) = ("1111111111111111", "2222222222222222");
    store
        .insert_user_certificate(
            user_certificate(11, me, "web", 100),
            material("web"),
            line(),
        )
        .await
        .unwrap();
    store
        .insert_user_certificate(
            user_certificate(12, me, "api", 200),
            material("api"),
            line(),
        )
        .await
        .unwrap();
    let error = store
        .insert_user_certificate(user_certificate(13, me, "web", 100), material("x"), line())
        .await;
    assert!(matches!(
        error,
        Err(StoreError::Conflict("certificate name"))
    ));
    // Another account may use the name.
    store
        .insert_user_certificate(
            user_certificate(14, them, "web", 100),
            material("theirs"),
            line(),
        )
        .await
        .unwrap();

    let (found, material) = store.user_certificate(me, 11).await.unwrap().unwrap();
    assert_eq!(found.name, "web");
    assert!(material.private_key.unwrap().as_stored().ends_with(b"web"));
    assert!(store.user_certificate(them, 11).await.unwrap().is_none());

    let page = |keyword: Option<&str>, from: Option<i64>| UserCertificateFilter {
        resource_group_id: None,
        keyword: keyword.map(str::to_owned),
        not_after_from: from,
        not_after_until: None,
        page: 1,
        page_size: 10,
    };
    let (listed, total) = store
        .list_user_certificates(me, &page(None, None))
        .await
        .unwrap();
    assert_eq!((listed.len(), total), (2, 2));
    let (listed, _) = store
        .list_user_certificates(me, &page(Some("api"), None))
        .await
        .unwrap();
    assert_eq!(listed[0].cert_id, 12);
    let (_, total) = store
        .list_user_certificates(me, &page(Some("%"), None))
        .await
        .unwrap();
    assert_eq!(total, 0, "LIKE wildcards in a keyword are literal");
    let (listed, _) = store
        .list_user_certificates(me, &page(None, Some(150)))
        .await
        .unwrap();
    assert_eq!(listed.iter().map(|c| c.cert_id).collect::<Vec<_>>(), [12]);

    let theirs = store.delete_user_certificate(them, 11, line()).await;
    assert!(matches!(theirs, Err(StoreError::NotFound(_))));
    store.delete_user_certificate(me, 11, line()).await.unwrap();
    assert!(store.user_certificate(me, 11).await.unwrap().is_none());
}

/// The audit record of each mutation commits with it, numbered in commit order; failed writes
/// leave none.
#[tokio::test]
async fn successful_writes_are_audited_in_their_transaction_failed_ones_are_not() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let before = last_seq(&store).await;
    let row = certificate("c1", SERVER, mine(), vec![]);
    store
        .insert_certificate(
            row.clone(),
            material("k"),
            None,
            "{\"a\":\"uploaded\"}".into(),
        )
        .await
        .unwrap();
    let again = store
        .insert_certificate(row, material("k"), None, "{\"a\":\"duplicate\"}".into())
        .await;
    assert!(again.is_err());
    let missing = store
        .delete_certificate(
            &mine(),
            SERVER,
            "nope",
            "{\"a\":\"deleted-nothing\"}".into(),
        )
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));
    store.record("{\"a\":\"revealed\"}".into()).await.unwrap();
    let records = store.audit_records_after(before, 100).await.unwrap();
    let lines: Vec<&str> = records.iter().map(|r| r.line.as_str()).collect();
    assert_eq!(lines, ["{\"a\":\"uploaded\"}", "{\"a\":\"revealed\"}"]);
    assert_eq!(records[1].seq, records[0].seq + 1);
    // Durable: a reopened store has them, and the export cursor it was given.
    store.advance_audit_export_cursor(records[0].seq);
    store.record("{}".into()).await.unwrap();
    drop(store);
    let store = open(&dir).await;
    assert_eq!(
        store.audit_records_after(before, 100).await.unwrap().len(),
        3
    );
    assert_eq!(store.audit_export_cursor().await.unwrap(), records[0].seq);
}

async fn last_seq(store: &SqliteStore) -> i64 {
    store
        .audit_records_after(0, 100_000)
        .await
        .unwrap()
        .last()
        .map_or(0, |record| record.seq)
}

/// Refused requests queued for the writer are stored with the next batch, or within a quarter
/// second when no batch comes, without a commit of their own per refusal.
#[tokio::test]
async fn queued_refusals_ride_with_the_next_batch() {
    let dir = tempfile::tempdir().unwrap();
    let refusals = Arc::new(slbcert::audit::RefusalQueue::default());
    let store = SqliteStore::open(dir.path(), refusals.clone()).unwrap();
    let source = "192.0.2.7".parse().unwrap();
    for n in 0..3 {
        refusals.admit(format!("{{\"refused\":{n}}}"), source);
    }
    store.record("{\"a\":\"write\"}".into()).await.unwrap();
    let lines: Vec<String> = store
        .audit_records_after(0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.line)
        .collect();
    assert_eq!(
        lines,
        [
            "{\"refused\":0}",
            "{\"refused\":1}",
            "{\"refused\":2}",
            "{\"a\":\"write\"}"
        ]
    );
    refusals.admit("{\"refused\":3}".into(), source);
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    assert_eq!(store.audit_records_after(0, 100).await.unwrap().len(), 5);
}

#[tokio::test]
async fn the_keyring_and_sealed_values_for_rewrapping() {
    use slbcert::crypto::Binding;
    use slbcert::crypto::envelope::{self, Kek};
    use slbcert::store::SealedUpdate;
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    // open() made two accounts whose (fake) sealed secrets claim no KEK version.
    assert_eq!(store.newest_key_encryption_key().await.unwrap(), None);
    store
        .insert_key_encryption_key(1, vec![1], line())
        .await
        .unwrap();
    store
        .insert_key_encryption_key(2, vec![2], line())
        .await
        .unwrap();
    let again = store.insert_key_encryption_key(2, vec![9], line()).await;
    assert!(matches!(again, Err(StoreError::Conflict(_))));
    assert_eq!(store.newest_key_encryption_key().await.unwrap(), Some(2));
    assert_eq!(
        store.key_encryption_keys().await.unwrap(),
        [(1, vec![1]), (2, vec![2])]
    );

    let (old, new) = (Kek::generate(1), Kek::generate(2));
    let under_old = Sealed::from_stored(envelope::seal(&old, b"k", b"x"));
    let row = certificate("c1", SERVER, mine(), vec![]);
    let material = CertificateMaterial {
        certificate_pem: "pem".into(),
        private_key: Some(under_old.clone()),
    };
    store
        .insert_certificate(row, material, None, line())
        .await
        .unwrap();
    let below = store.sealed_values_below(2, 10).await.unwrap();
    // The two accounts' secrets and the certificate's key.
    assert_eq!(below.len(), 3);
    assert_eq!(store.count_sealed_values_below(2).await.unwrap(), 3);
    let key = below
        .iter()
        .find(|v| matches!(v.binding, Binding::CertificateKey { .. }))
        .unwrap();
    assert_eq!(key.sealed, under_old);

    let rewrapped =
        Sealed::from_stored(envelope::rewrap(&old, &new, under_old.as_stored(), b"x").unwrap());
    let update = SealedUpdate {
        binding: key.binding.clone(),
        old: under_old.clone(),
        new: rewrapped.clone(),
    };
    assert_eq!(
        store
            .replace_sealed_values(vec![update.clone()], line())
            .await
            .unwrap(),
        1
    );
    // Compare-and-swap: the same update again finds the value changed, and skips it.
    assert_eq!(
        store
            .replace_sealed_values(vec![update], line())
            .await
            .unwrap(),
        0
    );
    assert_eq!(store.count_sealed_values_below(2).await.unwrap(), 2);
    let stored = store
        .certificate_material(&mine(), SERVER, "c1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.private_key.unwrap(), rewrapped);
}

/// Nonces are stored with the writer's batches and, after a restart, answered from the live ones
/// loaded at open (this process's own are the signature layer's memory cache's to know).
#[tokio::test]
async fn nonces_of_an_earlier_process_are_known_after_reopening() {
    let dir = tempfile::tempdir().unwrap();
    let store = open(&dir).await;
    let now = 1_000_000;
    let nonce = |key: &str, nonce: &str, expires_ms| slbcert::store::UsedNonce {
        access_key_id: key.into(),
        nonce: nonce.into(),
        expires_ms,
    };
    assert!(
        store
            .claim_nonce(nonce("LTAI0", "n1", i64::MAX - 1), now)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_nonce(nonce("LTAI0", "gone", 1), now)
            .await
            .unwrap()
    );
    store.record("{}".into()).await.unwrap(); // a batch takes the queued nonces
    drop(store);
    let store = open(&dir).await;
    assert!(
        !store
            .claim_nonce(nonce("LTAI0", "n1", i64::MAX - 1), now)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_nonce(nonce("LTAI1", "n1", i64::MAX - 1), now)
            .await
            .unwrap(),
        "per AccessKey"
    );
    assert!(
        store
            .claim_nonce(nonce("LTAI0", "other", i64::MAX - 1), now)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_nonce(nonce("LTAI0", "gone", i64::MAX - 1), now)
            .await
            .unwrap(),
        "expired"
    );
}
