//! The keyring and the sealed values under each KEK; nonces, claimed once within their window.

use slbcert::crypto::Sealed;
use slbcert::store::{CertificateMaterial, StoreError, UsedNonce};

use crate::Engine;
use crate::fixtures::*;

fn nonce(key: &str, nonce: &str, expires_ms: i64) -> UsedNonce {
    UsedNonce {
        access_key_id: key.into(),
        nonce: nonce.into(),
        expires_ms,
    }
}

/// Many claims at once (batched as the engine likes) are each stored: after a restart every one
/// is refused until it expires, and a fresh one is still accepted. (Within one process the
/// signature layer's memory cache refuses a replay before the store is asked.)
pub async fn many_claims_at_once_are_each_remembered_until_they_expire(engine: &Engine) {
    let store = seeded(engine).await;
    // Real times: a store loads the nonces still live by its clock when it opens.
    let now = slbcert::clock::unix_ms(time::OffsetDateTime::now_utc());
    let expires = now + 60_000;
    let mut claims = Vec::new();
    for n in 0..50 {
        let store = store.clone();
        claims.push(tokio::spawn(async move {
            store
                .claim_nonce(nonce("LTAI0", &format!("n{n}"), expires), now)
                .await
        }));
    }
    for claim in claims {
        assert!(claim.await.unwrap().unwrap(), "a fresh nonce is accepted");
    }
    store.record("{}".into()).await.unwrap(); // a write takes any queued claims with it
    drop(store);
    let store = engine.open().await;
    for n in [0, 17, 49] {
        let replay = store.claim_nonce(nonce("LTAI0", &format!("n{n}"), expires), now);
        assert!(
            !replay.await.unwrap(),
            "n{n} was claimed before the restart"
        );
    }
    assert!(
        store
            .claim_nonce(nonce("LTAI0", "fresh", expires), now)
            .await
            .unwrap()
    );
    let later = expires + 1;
    let expired = store.claim_nonce(nonce("LTAI0", "n3", later + 60_000), later);
    assert!(expired.await.unwrap(), "an expired nonce is free again");
}

pub async fn the_keyring_and_sealed_values_for_rewrapping(engine: &Engine) {
    use slbcert::crypto::Binding;
    use slbcert::crypto::envelope::{self, Kek};
    use slbcert::store::SealedUpdate;
    let store = seeded(engine).await;
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
pub async fn nonces_of_an_earlier_process_are_known_after_reopening(engine: &Engine) {
    let store = seeded(engine).await;
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
    let store = seeded(engine).await;
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
