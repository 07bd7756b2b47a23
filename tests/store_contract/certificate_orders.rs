//! Certificate orders: per account, one holder of an order's lease at a time, saves refused to
//! a holder who lost it, issue and save in one transaction, deletes only in the states given;
//! ACME accounts stored once; every sealed value among those a KEK rotation rewraps.

use slbcert::crypto::{Binding, Sealed};
use slbcert::store::StoreError;
use slbcert::store::certificate_orders::{CertificateOrderFilter, IssuedCertificate, OrderStatus};

use crate::Engine;
use crate::fixtures::*;

/// Ours are due soon; the other account's later.
fn due(id: i64, account: &str) -> i64 {
    if account == ME { 100 + id } else { 10_000 }
}

fn all(page: u64, page_size: u64) -> CertificateOrderFilter {
    CertificateOrderFilter {
        page,
        page_size,
        ..Default::default()
    }
}

pub async fn orders_are_per_account_leased_to_one_holder_and_saved_by_it(engine: &Engine) {
    let store = seeded(engine).await;
    for (id, account, domain) in [
        (1, ME, "a.example.com"),
        (2, ME, "b.example.com"),
        (3, THEM, "c.example.com"),
    ] {
        store
            .insert_certificate_order(
                order(id, account, domain, Some(due(id, account))),
                Some(sealed("k")),
                None,
                line(),
            )
            .await
            .unwrap();
    }
    let again = store
        .insert_certificate_order(order(1, ME, "x.example.com", None), None, None, line())
        .await;
    assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
    // Another account's order answers like a missing one.
    assert!(store.certificate_order(THEM, 1).await.unwrap().is_none());
    assert_eq!(
        store.certificate_order(ME, 1).await.unwrap().unwrap(),
        order(1, ME, "a.example.com", Some(101))
    );
    let (mine, total) = store
        .list_certificate_orders(ME, &all(1, 10))
        .await
        .unwrap();
    assert_eq!(total, 2);
    // Newest first.
    assert_eq!(mine.iter().map(|o| o.order_id).collect::<Vec<_>>(), [2, 1]);
    let (page, total) = store.list_certificate_orders(ME, &all(2, 1)).await.unwrap();
    assert_eq!((page.len(), page[0].order_id, total), (1, 1, 2));
    let keyword = CertificateOrderFilter {
        keyword: Some("b.ex".into()),
        ..all(1, 10)
    };
    let (found, _) = store.list_certificate_orders(ME, &keyword).await.unwrap();
    assert_eq!(found.iter().map(|o| o.order_id).collect::<Vec<_>>(), [2]);
    let counts = store.count_certificate_orders().await.unwrap();
    assert_eq!(counts.with_status(OrderStatus::DomainVerify), 3);
    assert_eq!(counts.next_renewal_ms, None);

    // Nothing is due before its time; then the earliest, with its key, to one holder only.
    assert!(
        store
            .claim_certificate_order(100, "node-a", 1_000)
            .await
            .unwrap()
            .is_none()
    );
    let (claimed, key) = store
        .claim_certificate_order(102, "node-a", 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((claimed.order_id, key), (1, Some(sealed("k"))));
    let (second, _) = store
        .claim_certificate_order(102, "node-b", 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(second.order_id, 2, "a leased order is not claimed twice");
    // The third is another account's, not yet due.
    assert!(
        store
            .claim_certificate_order(102, "node-b", 1_000)
            .await
            .unwrap()
            .is_none()
    );
    // A save by whoever does not hold the lease changes nothing.
    let mut worked = claimed.clone();
    worked.status = OrderStatus::Process;
    worked.next_attempt_ms = Some(500);
    let stolen = store.save_certificate_order(worked.clone(), "node-b").await;
    assert!(matches!(stolen, Err(StoreError::Stale)), "{stolen:?}");
    store
        .save_certificate_order(worked.clone(), "node-a")
        .await
        .unwrap();
    assert_eq!(
        store.certificate_order(ME, 1).await.unwrap().unwrap(),
        worked
    );
    // Saved is released: due again at its next attempt, its key still there.
    let (again, key) = store
        .claim_certificate_order(500, "node-c", 2_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((again.order_id, key), (1, Some(sealed("k"))));
    let mut done = second;
    done.next_attempt_ms = None;
    store.save_certificate_order(done, "node-b").await.unwrap();
    // A lapsed lease is taken over; the old holder's save is then refused.
    let (taken, _) = store
        .claim_certificate_order(2_001, "node-d", 3_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(taken.order_id, 1);
    let late = store.save_certificate_order(again, "node-c").await;
    assert!(matches!(late, Err(StoreError::Stale)), "{late:?}");
}

pub async fn an_issue_stores_the_certificate_and_the_order_together(engine: &Engine) {
    let store = seeded(engine).await;
    store
        .insert_certificate_order(
            order(7, ME, "a.example.com", Some(0)),
            Some(sealed("k")),
            None,
            line(),
        )
        .await
        .unwrap();
    let (mut claimed, _) = store
        .claim_certificate_order(1, "node", 10_000)
        .await
        .unwrap()
        .unwrap();
    claimed.status = OrderStatus::Certificate;
    claimed.next_attempt_ms = None;
    claimed.issued = Some(IssuedCertificate {
        cert_id: Some(70),
        not_before_ms: 0,
        not_after_ms: 5_000,
    });
    // A certificate that cannot join the list (its name is taken) leaves the order as it was.
    store
        .insert_user_certificate(user_certificate(1, ME, "taken", 9), material("u"), line())
        .await
        .unwrap();
    let refused = store
        .issue_certificate_order(
            claimed.clone(),
            "node",
            user_certificate(70, ME, "taken", 5_000),
            material("c"),
            "{\"a\":\"refused\"}".into(),
        )
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store
            .certificate_order(ME, 7)
            .await
            .unwrap()
            .unwrap()
            .status,
        OrderStatus::DomainVerify
    );
    assert!(store.user_certificate(ME, 70).await.unwrap().is_none());
    store
        .issue_certificate_order(
            claimed.clone(),
            "node",
            user_certificate(70, ME, "cert-70", 5_000),
            material("c"),
            "{\"a\":\"issued\"}".into(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.certificate_order(ME, 7).await.unwrap().unwrap(),
        claimed
    );
    assert!(store.user_certificate(ME, 70).await.unwrap().is_some());
    // The accounts', the order's, the other certificate's and the issue's: not the refused one's.
    let records = audit_after(store.as_ref(), 0, 5).await;
    let lines: Vec<&str> = records.iter().map(|r| r.line.as_str()).collect();
    assert!(lines.contains(&"{\"a\":\"issued\"}"), "{lines:?}");
    assert!(!lines.contains(&"{\"a\":\"refused\"}"), "{lines:?}");
    let counts = store.count_certificate_orders().await.unwrap();
    assert_eq!(counts.with_status(OrderStatus::DomainVerify), 0);
    assert_eq!(counts.with_status(OrderStatus::Certificate), 1);
    assert_eq!(
        counts.next_renewal_ms, None,
        "claimed's next attempt was cleared"
    );
    assert!(
        store
            .claim_certificate_order(i64::MAX - 1, "node", i64::MAX)
            .await
            .unwrap()
            .is_none()
    );
    // Listed by its certificate's end.
    let ending = |from: Option<i64>, until: Option<i64>| CertificateOrderFilter {
        statuses: vec![OrderStatus::Certificate],
        not_after_from: from,
        not_after_until: until,
        ..all(1, 10)
    };
    assert_eq!(
        store
            .list_certificate_orders(ME, &ending(Some(5_000), None))
            .await
            .unwrap()
            .1,
        1
    );
    assert_eq!(
        store
            .list_certificate_orders(ME, &ending(Some(5_001), None))
            .await
            .unwrap()
            .1,
        0
    );
    assert_eq!(
        store
            .list_certificate_orders(ME, &ending(None, Some(5_000)))
            .await
            .unwrap()
            .1,
        0
    );
    // Only the states given may be deleted.
    let refused = store
        .delete_certificate_order(ME, 7, &[OrderStatus::VerifyFail], line())
        .await;
    assert!(matches!(refused, Err(StoreError::Stale)), "{refused:?}");
    let missing = store
        .delete_certificate_order(THEM, 7, &[OrderStatus::Certificate], line())
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );
    store
        .delete_certificate_order(ME, 7, &[OrderStatus::Certificate], line())
        .await
        .unwrap();
    assert!(store.certificate_order(ME, 7).await.unwrap().is_none());
}

pub async fn acme_accounts_are_stored_once_and_rewrapped_with_order_keys(engine: &Engine) {
    use slbcert::crypto::envelope::{self, Kek};
    let store = seeded(engine).await;
    let directory = "https://ca.example/dir";
    assert!(store.acme_account(ME, directory).await.unwrap().is_none());
    let kek = Kek::generate(1);
    let credentials = Sealed::from_stored(envelope::seal(&kek, b"{}", b"x"));
    store
        .insert_acme_account(ME, directory, credentials.clone(), 0)
        .await
        .unwrap();
    let twice = store
        .insert_acme_account(ME, directory, sealed("other"), 0)
        .await;
    assert!(matches!(twice, Err(StoreError::Conflict(_))), "{twice:?}");
    assert_eq!(
        store.acme_account(ME, directory).await.unwrap(),
        Some(credentials.clone())
    );
    assert!(store.acme_account(THEM, directory).await.unwrap().is_none());
    let key = Sealed::from_stored(envelope::seal(&kek, b"pem", b"x"));
    store
        .insert_certificate_order(
            order(9, ME, "a.example.com", None),
            Some(key.clone()),
            None,
            line(),
        )
        .await
        .unwrap();
    let below = store.sealed_values_below(2, 100).await.unwrap();
    let acme = below
        .iter()
        .find(|v| matches!(v.binding, Binding::AcmeAccount { .. }))
        .unwrap();
    assert_eq!(
        (&acme.binding, &acme.sealed),
        (
            &Binding::AcmeAccount {
                account_id: ME.into(),
                directory_url: directory.into()
            },
            &credentials
        )
    );
    let order_key = below
        .iter()
        .find(|v| matches!(v.binding, Binding::CertificateOrderKey { .. }))
        .unwrap();
    assert_eq!(
        (&order_key.binding, &order_key.sealed),
        (
            &Binding::CertificateOrderKey {
                account_id: ME.into(),
                order_id: 9
            },
            &key
        )
    );
    let updates = [acme, order_key].map(|value| slbcert::store::SealedUpdate {
        binding: value.binding.clone(),
        old: value.sealed.clone(),
        new: Sealed::from_stored(
            envelope::rewrap(&kek, &Kek::generate(2), value.sealed.as_stored(), b"x").unwrap(),
        ),
    });
    assert_eq!(
        store
            .replace_sealed_values(updates.to_vec(), line())
            .await
            .unwrap(),
        2
    );
    let left = store.sealed_values_below(2, 100).await.unwrap();
    assert!(!left.iter().any(|v| matches!(
        v.binding,
        Binding::AcmeAccount { .. } | Binding::CertificateOrderKey { .. }
    )));
    assert_eq!(
        store.acme_account(ME, directory).await.unwrap(),
        Some(updates[0].new.clone())
    );
}
