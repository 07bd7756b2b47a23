//! Load balancers: addresses, client tokens, quotas, scoping, compare-and-swap edits, and the
//! certificates their listeners name.

use std::net::Ipv4Addr;

use slbcert::store::load_balancers::Owner;
use slbcert::store::{CertificateKind, StoreError};

use crate::Engine;
use crate::fixtures::*;

fn owner(account: &str) -> Owner {
    Owner {
        account_id: account.into(),
        region_id: Some("cn-hangzhou".into()),
    }
}

pub async fn addresses_are_the_lowest_free_unless_one_is_asked_for(engine: &Engine) {
    let store = seeded(engine).await;
    let pool = pool("127.41.0.0/29"); // .1 to .6
    let mut addresses = Vec::new();
    for n in 0..3 {
        let stored = store
            .insert_load_balancer(
                load_balancer(&format!("lb-{n}"), &mine()),
                None,
                pool,
                line(),
            )
            .await
            .unwrap();
        addresses.push(stored.address.to_string());
    }
    assert_eq!(addresses, ["127.41.0.1", "127.41.0.2", "127.41.0.3"]);
    // Asked for: granted when free and in the pool, else Conflict.
    let mut wanted = load_balancer("lb-wanted", &mine());
    wanted.address = Ipv4Addr::new(127, 41, 0, 6);
    let stored = store.insert_load_balancer(wanted.clone(), None, pool, line());
    assert_eq!(stored.await.unwrap().address, wanted.address);
    for (id, address) in [("lb-taken", [127, 41, 0, 2]), ("lb-outside", [10, 0, 0, 1])] {
        let mut asked = load_balancer(id, &mine());
        asked.address = Ipv4Addr::from(address);
        let refused = store.insert_load_balancer(asked, None, pool, line()).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict("address"))),
            "{id}"
        );
    }
    // A deleted one's address is the lowest free again.
    let second = store
        .load_balancer(&owner(ME), "lb-1")
        .await
        .unwrap()
        .unwrap();
    store.delete_load_balancer(&second, line()).await.unwrap();
    let next = store
        .insert_load_balancer(load_balancer("lb-next", &mine()), None, pool, line())
        .await
        .unwrap();
    assert_eq!(next.address.to_string(), "127.41.0.2");
    // .4 and .5 are left, then the pool is exhausted.
    for n in 0..2 {
        let id = format!("lb-fill-{n}");
        let insert = store.insert_load_balancer(load_balancer(&id, &mine()), None, pool, line());
        insert.await.unwrap();
    }
    let full = store
        .insert_load_balancer(load_balancer("lb-full", &mine()), None, pool, line())
        .await;
    assert!(matches!(full, Err(StoreError::Exhausted(_))));
}

/// A repeated creation with the same client token answers the first one, even at the quota.
pub async fn a_client_token_makes_a_creation_idempotent_before_the_quota(engine: &Engine) {
    let store = seeded(engine).await;
    let pool = pool("127.42.0.0/24");
    let mut first = load_balancer("lb-first", &mine());
    first.client_token = Some("token-1".into());
    let stored = store
        .insert_load_balancer(first, Some(1), pool, line())
        .await
        .unwrap();
    let mut repeat = load_balancer("lb-repeat", &mine());
    repeat.client_token = Some("token-1".into());
    let answered = store
        .insert_load_balancer(repeat, Some(1), pool, line())
        .await
        .unwrap();
    assert_eq!(answered.id, "lb-first");
    assert_eq!(answered.address, stored.address);
    let mut other = load_balancer("lb-other", &mine());
    other.client_token = Some("token-2".into());
    let over = store
        .insert_load_balancer(other, Some(1), pool, line())
        .await;
    assert!(matches!(
        over,
        Err(StoreError::OverQuota { used: 1, limit: 1 })
    ));
    // Another account's token of the same text is its own.
    let mut theirs = load_balancer("lb-theirs", &scope(THEM, "cn-hangzhou"));
    theirs.client_token = Some("token-1".into());
    let theirs = store.insert_load_balancer(theirs, Some(1), pool, line());
    assert_eq!(theirs.await.unwrap().id, "lb-theirs");
    assert_eq!(store.list_load_balancers(&mine()).await.unwrap().len(), 1);
}

pub async fn load_balancers_are_scoped_to_their_account_and_region(engine: &Engine) {
    let store = seeded(engine).await;
    let pool = pool("127.43.0.0/24");
    let elsewhere = scope(ME, "cn-shanghai");
    for (id, scope) in [
        ("lb-a", mine()),
        ("lb-b", mine()),
        ("lb-c", elsewhere.clone()),
    ] {
        let insert = store.insert_load_balancer(load_balancer(id, &scope), None, pool, line());
        insert.await.unwrap();
    }
    let listed = store.list_load_balancers(&mine()).await.unwrap();
    let ids: Vec<&str> = listed.iter().map(|lb| lb.id.as_str()).collect();
    assert_eq!(ids, ["lb-a", "lb-b"], "in creation order, this region only");
    assert!(
        store
            .load_balancer(&owner(THEM), "lb-a")
            .await
            .unwrap()
            .is_none()
    );
    let any_region = Owner {
        account_id: ME.into(),
        region_id: None,
    };
    assert!(
        store
            .load_balancer(&any_region, "lb-c")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .load_balancer(&owner(ME), "lb-c")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(store.all_load_balancers().await.unwrap().len(), 3);
}

/// Edits are compare-and-swap on the revision read; each commit advances the generation.
pub async fn an_edit_from_a_stale_read_is_refused(engine: &Engine) {
    let store = seeded(engine).await;
    let generation = store.load_balancer_generation().await.unwrap();
    let read = store
        .insert_load_balancer(
            load_balancer("lb-1", &mine()),
            None,
            pool("127.44.0.0/24"),
            line(),
        )
        .await
        .unwrap();
    assert_eq!(read.revision, 1);
    let mut first = read.clone();
    first.resource_group_id = "rg-first".into();
    let written = store
        .replace_load_balancers(vec![first], line())
        .await
        .unwrap();
    assert_eq!(written[0].revision, 2);
    let mut second = read.clone();
    second.resource_group_id = "rg-second".into();
    let stale = store.replace_load_balancers(vec![second], line()).await;
    assert!(matches!(stale, Err(StoreError::Stale)));
    let stored = store
        .load_balancer(&owner(ME), "lb-1")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.resource_group_id, "rg-first");
    let deleted = store.delete_load_balancer(&read, line()).await;
    assert!(
        matches!(deleted, Err(StoreError::Stale)),
        "a delete from a stale read too"
    );
    assert!(store.load_balancer_generation().await.unwrap() >= generation + 2);
}

pub async fn a_certificate_named_by_a_listener_cannot_be_deleted(engine: &Engine) {
    let store = seeded(engine).await;
    let cert = certificate("cert-1", SERVER, mine(), vec![]);
    store
        .insert_certificate(cert, material("k"), None, line())
        .await
        .unwrap();
    let theirs = certificate("cert-theirs", SERVER, scope(THEM, "cn-hangzhou"), vec![]);
    store
        .insert_certificate(theirs, material("t"), None, line())
        .await
        .unwrap();
    let read = store
        .insert_load_balancer(
            load_balancer("lb-1", &mine()),
            None,
            pool("127.45.0.0/24"),
            line(),
        )
        .await
        .unwrap();
    for (missing, why) in [
        ("cert-theirs", "another account's"),
        ("cert-none", "absent"),
    ] {
        let mut naming = read.clone();
        naming.listeners = vec![https_listener(missing, &[])];
        let refused = store.replace_load_balancers(vec![naming], line()).await;
        assert!(
            matches!(refused, Err(StoreError::MissingCertificate { .. })),
            "{why}: {refused:?}"
        );
    }
    let mut bound = read.clone();
    bound.listeners = vec![https_listener("cert-1", &[])];
    let bound = store
        .replace_load_balancers(vec![bound], line())
        .await
        .unwrap();
    let in_use = store
        .delete_certificate(&mine(), SERVER, "cert-1", line())
        .await;
    assert!(matches!(in_use, Err(StoreError::InUse(_))));
    let as_ca = store
        .delete_certificate(&mine(), CertificateKind::Ca, "cert-1", line())
        .await;
    assert!(matches!(as_ca, Err(StoreError::NotFound(_))));
    let mut unbound = bound[0].clone();
    unbound.listeners.clear();
    store
        .replace_load_balancers(vec![unbound], line())
        .await
        .unwrap();
    store
        .delete_certificate(&mine(), SERVER, "cert-1", line())
        .await
        .unwrap();
}

/// Deleting a load balancer frees its address and the certificates it named.
pub async fn a_deleted_load_balancer_frees_its_address_and_its_certificates(engine: &Engine) {
    let store = seeded(engine).await;
    let pool = pool("127.46.0.0/30"); // .1 and .2
    let cert = certificate("cert-1", SERVER, mine(), vec![]);
    store
        .insert_certificate(cert, material("k"), None, line())
        .await
        .unwrap();
    let read = store
        .insert_load_balancer(load_balancer("lb-1", &mine()), None, pool, line())
        .await
        .unwrap();
    let mut bound = read.clone();
    bound.listeners = vec![https_listener("cert-1", &[])];
    let bound = store
        .replace_load_balancers(vec![bound], line())
        .await
        .unwrap();
    store.delete_load_balancer(&bound[0], line()).await.unwrap();
    assert!(
        store
            .load_balancer(&owner(ME), "lb-1")
            .await
            .unwrap()
            .is_none()
    );
    store
        .delete_certificate(&mine(), SERVER, "cert-1", line())
        .await
        .unwrap();
    let again = store
        .insert_load_balancer(load_balancer("lb-2", &mine()), None, pool, line())
        .await
        .unwrap();
    assert_eq!(again.address, read.address);
    let gone = store.replace_load_balancers(vec![read], line()).await;
    assert!(matches!(gone, Err(StoreError::NotFound(_))));
}
