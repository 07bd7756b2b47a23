//! Certificate orders changing hands: a renewal with the mark on the order it renews, a cancel
//! that takes an order from its holder, and the quota of open orders.

use slbcert::store::StoreError;
use slbcert::store::certificate_orders::{IssuedCertificate, OrderStatus, Renewed};

use crate::Engine;
use crate::fixtures::*;

/// A renewal and the mark on the order it renews commit together, only while that order is
/// issued and no other node holds it.
pub async fn a_renewal_is_stored_with_its_mark_on_the_order_it_renews(engine: &Engine) {
    let store = seeded(engine).await;
    let mut issued = order(1, ME, "a.example.com", Some(50));
    issued.status = OrderStatus::Certificate;
    issued.issued = Some(IssuedCertificate {
        cert_id: Some(10),
        not_before_ms: 0,
        not_after_ms: 100,
    });
    store
        .insert_certificate_order(issued.clone(), None, None, line())
        .await
        .unwrap();
    let mut marked = issued.clone();
    marked.renewed_by = Some(2);
    let renewal = || {
        let mut renewal = order(2, ME, "a.example.com", Some(60));
        renewal.renews = Some(Renewed {
            order_id: 1,
            cert_id: Some(10),
        });
        renewal
    };
    // Held by another node: refused, and nothing stored.
    let (claimed, _) = store
        .claim_certificate_order(50, "node-a", 1_000)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(claimed.order_id, 1);
    let busy = store
        .insert_renewal(
            renewal(),
            Some(sealed("k")),
            marked.clone(),
            None,
            60,
            line(),
        )
        .await;
    assert!(matches!(busy, Err(StoreError::Stale)), "{busy:?}");
    assert!(store.certificate_order(ME, 2).await.unwrap().is_none());
    // Its own holder may; so may anyone once the lease has lapsed.
    store
        .insert_renewal(
            renewal(),
            Some(sealed("k")),
            marked.clone(),
            Some("node-a"),
            60,
            line(),
        )
        .await
        .unwrap();
    assert_eq!(
        store.certificate_order(ME, 1).await.unwrap().unwrap(),
        marked
    );
    assert_eq!(
        store
            .certificate_order(ME, 2)
            .await
            .unwrap()
            .unwrap()
            .renews,
        renewal().renews
    );
    // An order that is not issued is not renewed.
    let mut pending = order(3, ME, "b.example.com", None);
    store
        .insert_certificate_order(pending.clone(), None, None, line())
        .await
        .unwrap();
    pending.renewed_by = Some(4);
    let not_issued = store
        .insert_renewal(
            order(4, ME, "b.example.com", None),
            Some(sealed("k")),
            pending,
            None,
            2_000,
            line(),
        )
        .await;
    assert!(
        matches!(not_issued, Err(StoreError::Stale)),
        "{not_issued:?}"
    );
    assert!(store.certificate_order(ME, 4).await.unwrap().is_none());
}

/// A cancel takes an order under validation even from a node working it, whose save is then
/// refused; the loop no longer reaches it.
pub async fn a_cancel_takes_a_pending_order_from_its_holder(engine: &Engine) {
    let store = seeded(engine).await;
    store
        .insert_certificate_order(order(5, ME, "a.example.com", Some(10)), None, None, line())
        .await
        .unwrap();
    let (claimed, _) = store
        .claim_certificate_order(10, "node", 1_000)
        .await
        .unwrap()
        .unwrap();
    let mut cancelled = claimed.clone();
    cancelled.status = OrderStatus::Payed;
    cancelled.next_attempt_ms = None;
    let mut elsewhere = cancelled.clone();
    elsewhere.account_id = THEM.into();
    let theirs = store.cancel_certificate_order(elsewhere, 500, line()).await;
    assert!(matches!(theirs, Err(StoreError::Stale)), "{theirs:?}");
    store
        .cancel_certificate_order(cancelled.clone(), 500, line())
        .await
        .unwrap();
    let mut worked = claimed;
    worked.status = OrderStatus::Process;
    let lost = store.save_certificate_order(worked, "node").await;
    assert!(matches!(lost, Err(StoreError::Stale)), "{lost:?}");
    assert_eq!(
        store.certificate_order(ME, 5).await.unwrap().unwrap(),
        cancelled
    );
    assert!(
        store
            .claim_certificate_order(i64::MAX - 1, "node", i64::MAX)
            .await
            .unwrap()
            .is_none()
    );
    let again = store
        .cancel_certificate_order(cancelled, 3_000, line())
        .await;
    assert!(matches!(again, Err(StoreError::Stale)), "{again:?}");
}

/// Orders not issued count against the quota of the account they are of; issued ones do not.
pub async fn open_orders_are_counted_against_the_quota(engine: &Engine) {
    let store = seeded(engine).await;
    let mut issued = order(1, ME, "a.example.com", None);
    issued.status = OrderStatus::Certificate;
    for candidate in [issued, order(2, ME, "b.example.com", None)] {
        store
            .insert_certificate_order(candidate, None, Some(1), line())
            .await
            .unwrap();
    }
    let over = store
        .insert_certificate_order(order(3, ME, "c.example.com", None), None, Some(1), line())
        .await;
    assert!(
        matches!(over, Err(StoreError::OverQuota { used: 1, limit: 1 })),
        "{over:?}"
    );
    assert!(store.certificate_order(ME, 3).await.unwrap().is_none());
    store
        .insert_certificate_order(order(4, THEM, "d.example.com", None), None, Some(1), line())
        .await
        .unwrap();
    store
        .insert_certificate_order(order(5, ME, "e.example.com", None), None, None, line())
        .await
        .unwrap();
}
