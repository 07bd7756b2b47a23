//! Accounts and their keys, and the SSL Certificates Service's certificates: unique, and each
//! account's own.

use slbcert::store::{AccessKey, Account, StoreError, UserCertificateFilter};

use crate::Engine;
use crate::fixtures::*;

pub async fn account_ids_and_access_keys_are_unique(engine: &Engine) {
    let store = seeded(engine).await;
    let again = Account {
        account_id: ME.into(),
        name: String::new(),
        default_resource_group_id: "rg-x".into(),
        created_ms: 0,
    };
    let access_key = AccessKey {
        access_key_id: "LTAIfresh".into(),
        account_id: ME.into(),
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

pub async fn user_certificates_are_per_account_with_unique_names(engine: &Engine) {
    let store = seeded(engine).await;
    let (me, them) = (ME, THEM);
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
