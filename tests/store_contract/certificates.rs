//! Server, CA and SSL Certificates Service certificates: scoping, filters, tags, quotas,
//! atomicity, uniqueness and durability.

use slbcert::store::{
    CertificateField, CertificateFilter, CertificateMaterial, StoreError, Tag, TagFilter, TagQuery,
};

use crate::Engine;
use crate::fixtures::*;

pub async fn every_operation_is_confined_to_its_account_region_and_kind(engine: &Engine) {
    let store = seeded(engine).await;
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
        (scope(THEM, "cn-hangzhou"), SERVER),
        (scope(ME, "cn-shanghai"), SERVER),
        (mine(), CA),
    ];
    for (other, kind) in others {
        assert!(
            ids(store.as_ref(), &other, kind, CertificateFilter::default())
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
    let stranger = scope(THEM, "cn-hangzhou");
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

pub async fn describe_filters_by_ids_group_and_every_tag_in_upload_order(engine: &Engine) {
    let store = seeded(engine).await;
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
    let all = |filter| ids(store.as_ref(), &here, SERVER, filter);
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

pub async fn tagging_is_all_or_nothing_and_capped(engine: &Engine) {
    let store = seeded(engine).await;
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

pub async fn tag_listing_pages_with_a_cursor(engine: &Engine) {
    let store = seeded(engine).await;
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

pub async fn the_quota_holds_under_concurrent_uploads_per_kind(engine: &Engine) {
    let store = seeded(engine).await;
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

pub async fn a_failing_write_leaves_no_trace_and_spares_its_others(engine: &Engine) {
    let store = seeded(engine).await;
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
        ids(
            store.as_ref(),
            &mine(),
            SERVER,
            CertificateFilter::default()
        )
        .await
        .len(),
        20
    );
}

pub async fn acknowledged_writes_survive_reopening(engine: &Engine) {
    let row = certificate("c1", SERVER, mine(), vec![tag("a", "1")]);
    {
        let store = seeded(engine).await;
        store
            .insert_certificate(row.clone(), material("kept"), None, line())
            .await
            .unwrap();
    }
    let store = seeded(engine).await;
    assert_eq!(store.count_accounts().await.unwrap(), 2);
    let owner = store.find_access_key("LTAI0").await.unwrap().unwrap();
    assert_eq!(owner.account_id, ME);
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
