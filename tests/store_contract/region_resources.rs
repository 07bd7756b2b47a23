//! Region resources (here access control lists): unique names, and references from listeners
//! that keep a named one from deletion and a missing one from being named.

use slbcert::store::StoreError;
use slbcert::store::acls::Acl;
use slbcert::store::region_resources as resources;

use crate::Engine;
use crate::fixtures::*;

fn acl(id: &str, name: &str, account: &str) -> Acl {
    Acl {
        id: id.into(),
        account_id: account.into(),
        region_id: "cn-hangzhou".into(),
        name: name.into(),
        ip_version: "ipv4".into(),
        resource_group_id: "rg-default".into(),
        created_ms: 0,
        tags: vec![],
        entries: vec![],
        revision: 0,
    }
}

pub async fn an_acl_in_use_cannot_be_deleted_and_a_missing_one_cannot_be_bound(engine: &Engine) {
    let store = seeded(engine).await;
    let store = store.as_ref();
    let mine_acl = resources::insert(store, acl("acl-1", "office", ME), Some(2), line())
        .await
        .unwrap();
    let same_name = resources::insert(store, acl("acl-2", "office", ME), Some(2), line()).await;
    assert!(matches!(same_name, Err(StoreError::Conflict("name"))));
    resources::insert(store, acl("acl-3", "office", THEM), Some(2), line())
        .await
        .unwrap();
    resources::insert(store, acl("acl-4", "lab", ME), Some(2), line())
        .await
        .unwrap();
    let over = resources::insert(store, acl("acl-5", "more", ME), Some(2), line()).await;
    assert!(matches!(over, Err(StoreError::OverQuota { .. })));
    let listed: Vec<Acl> = resources::list(store, &mine()).await.unwrap();
    let names: Vec<&str> = listed.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["office", "lab"]);
    let theirs: Option<Acl> = resources::get(store, &mine(), "acl-3").await.unwrap();
    assert!(theirs.is_none(), "another account's ACL is not found");

    let cert = certificate("cert-1", SERVER, mine(), vec![]);
    store
        .insert_certificate(cert, material("k"), None, line())
        .await
        .unwrap();
    let read = store
        .insert_load_balancer(
            load_balancer("lb-1", &mine()),
            None,
            pool("127.47.0.0/24"),
            line(),
        )
        .await
        .unwrap();
    let mut naming_theirs = read.clone();
    naming_theirs.listeners = vec![https_listener("cert-1", &[("AclId", "acl-3")])];
    let refused = store
        .replace_load_balancers(vec![naming_theirs], line())
        .await;
    assert!(
        matches!(refused, Err(StoreError::MissingResource { .. })),
        "{refused:?}"
    );
    let mut bound = read.clone();
    bound.listeners = vec![https_listener("cert-1", &[("AclId", "acl-1")])];
    store
        .replace_load_balancers(vec![bound], line())
        .await
        .unwrap();
    assert_eq!(store.resource_users("acl-1").await.unwrap(), ["lb-1"]);
    let in_use = resources::delete(store, &mine_acl, line()).await;
    assert!(matches!(in_use, Err(StoreError::InUse(_))), "{in_use:?}");
    let mut renamed = mine_acl.clone();
    renamed.name = "lab".into();
    let clash = resources::replace(store, renamed, line()).await;
    assert!(matches!(clash, Err(StoreError::Conflict("name"))));
}
