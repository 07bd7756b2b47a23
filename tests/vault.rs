//! The vault over a real store, in the style of Vault's barrier tests and Kubernetes'
//! encryption-at-rest tests: values bound to their records, rotation, online rewrap resumed
//! after an interruption, and a wrong master key refused.

mod common;

use std::sync::Arc;

use common::open_store;
use slbcert::audit::AuditRecord;
use slbcert::crypto::{Binding, MasterKey};
use slbcert::store::{
    AccessKey, Account, Certificate, CertificateFilter, CertificateKind, CertificateMaterial,
    Scope, Store,
};
use slbcert::vault::{Vault, VaultError, rotation as keys};

const PEM: &[u8] = b"-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n";

fn audit() -> AuditRecord {
    AuditRecord::new("test", "Test", "test")
}

async fn vault(store: &Arc<dyn Store>, master: MasterKey) -> Result<Vault, VaultError> {
    let record = audit();
    Vault::open(master, store.clone(), |v| {
        record.success(&format!("kek-v{v}"), None)
    })
    .await
}

fn store(dir: &tempfile::TempDir) -> Arc<dyn Store> {
    Arc::new(open_store(dir.path()))
}

fn key_of(id: &str) -> Binding {
    Binding::CertificateKey {
        account_id: "1111111111111111".into(),
        region_id: "cn-hangzhou".into(),
        certificate_id: id.into(),
    }
}

#[tokio::test]
async fn a_sealed_value_opens_only_on_its_own_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let vault = vault(&store, MasterKey::generate()).await.unwrap();
    let first = vault.seal(PEM, &key_of("c1")).await.unwrap();
    let second = vault.seal(PEM, &key_of("c1")).await.unwrap();
    assert_ne!(first, second, "two seals of the same key differ");
    assert_eq!(
        vault
            .open_sealed(&first, &key_of("c1"))
            .await
            .unwrap()
            .as_slice(),
        PEM
    );
    // Moved to another certificate, account or kind of record: it does not open.
    for other in [
        key_of("c2"),
        Binding::CertificateKey {
            account_id: "2222222222222222".into(),
            region_id: "cn-hangzhou".into(),
            certificate_id: "c1".into(),
        },
        Binding::AccessKeySecret {
            access_key_id: "c1".into(),
        },
    ] {
        assert!(matches!(
            vault.open_sealed(&first, &other).await,
            Err(VaultError::Envelope(_))
        ));
    }
}

#[tokio::test]
async fn a_flipped_byte_is_a_clean_error() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let vault = vault(&store, MasterKey::generate()).await.unwrap();
    let sealed = vault.seal(PEM, &key_of("c1")).await.unwrap();
    for index in 0..sealed.as_stored().len() {
        let mut bytes = sealed.as_stored().to_vec();
        bytes[index] ^= 0x80;
        let damaged = slbcert::crypto::Sealed::from_stored(bytes);
        assert!(
            vault.open_sealed(&damaged, &key_of("c1")).await.is_err(),
            "byte {index}"
        );
    }
}

#[tokio::test]
async fn another_master_key_does_not_open_the_keyring() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    vault(&store, MasterKey::generate()).await.unwrap();
    let error = vault(&store, MasterKey::generate()).await.err().unwrap();
    assert!(matches!(error, VaultError::WrongMasterKey(1)), "{error}");
}

/// Stores `count` certificates with keys sealed by `vault` and one AccessKey.
async fn populate(store: &Arc<dyn Store>, vault: &Vault, from: usize, count: usize) {
    let scope = Scope {
        account_id: "1111111111111111".into(),
        region_id: "cn-hangzhou".into(),
    };
    if from == 0 {
        let account = Account {
            account_id: scope.account_id.clone(),
            name: String::new(),
            default_resource_group_id: "rg-x".into(),
            created_ms: 0,
        };
        let binding = Binding::AccessKeySecret {
            access_key_id: "LTAIkey".into(),
        };
        let key = AccessKey {
            access_key_id: "LTAIkey".into(),
            account_id: scope.account_id.clone(),
            sealed_secret: vault.seal(b"the-secret", &binding).await.unwrap(),
            created_ms: 0,
            user_id: None,
        };
        store
            .insert_account(account, key, "line".into())
            .await
            .unwrap();
    }
    for n in from..from + count {
        let id = format!("c{n}");
        let certificate = Certificate {
            id: id.clone(),
            kind: CertificateKind::Server,
            scope: scope.clone(),
            name: String::new(),
            resource_group_id: "rg-x".into(),
            fingerprint: String::new(),
            common_name: String::new(),
            subject_alternative_names: vec![],
            encryption_algorithm: "ECC".into(),
            encryption_key_length: 256,
            expire_ms: 0,
            created_ms: 0,
            ali_cloud: None,
            tags: vec![],
        };
        let material = CertificateMaterial {
            certificate_pem: String::new(),
            private_key: Some(vault.seal(PEM, &key_of(&id)).await.unwrap()),
        };
        store
            .insert_certificate(certificate, material, None, "line".into())
            .await
            .unwrap();
    }
}

/// Every stored value opens, and reports which KEK versions hold them.
async fn versions_of_everything(store: &Arc<dyn Store>, vault: &Vault) -> Vec<u32> {
    let scope = Scope {
        account_id: "1111111111111111".into(),
        region_id: "cn-hangzhou".into(),
    };
    let mut versions = Vec::new();
    let listed = store
        .list_certificates(
            &scope,
            CertificateKind::Server,
            &CertificateFilter::default(),
        )
        .await
        .unwrap();
    for certificate in listed {
        let material = store
            .certificate_material(&scope, CertificateKind::Server, &certificate.id)
            .await
            .unwrap()
            .unwrap();
        let sealed = material.private_key.unwrap();
        assert_eq!(
            vault
                .open_sealed(&sealed, &key_of(&certificate.id))
                .await
                .unwrap()
                .as_slice(),
            PEM
        );
        versions.push(sealed.kek_version());
    }
    let owner = store.find_access_key("LTAIkey").await.unwrap().unwrap();
    let binding = Binding::AccessKeySecret {
        access_key_id: "LTAIkey".into(),
    };
    assert_eq!(
        vault
            .open_sealed(&owner.sealed_secret, &binding)
            .await
            .unwrap()
            .as_slice(),
        b"the-secret"
    );
    versions.push(owner.sealed_secret.kek_version());
    versions
}

#[tokio::test]
async fn rotate_then_read_old_and_new_then_rewrap_resumably() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let master = MasterKey::generate();
    let vault = vault(&store, master).await.unwrap();
    populate(&store, &vault, 0, 5).await;
    assert_eq!(keys::rotate(&vault, &audit()).await.unwrap(), 2);
    populate(&store, &vault, 5, 2).await;
    let mut versions = versions_of_everything(&store, &vault).await;
    versions.sort();
    assert_eq!(versions, [1, 1, 1, 1, 1, 1, 2, 2], "old and new both read");

    // An interrupted rewrap: one batch of two, then it stops.
    let mut seen = Vec::new();
    let partial = keys::rewrap(store.as_ref(), &vault, 2, Some(1), &audit(), |p| {
        seen.push(p)
    })
    .await
    .unwrap();
    assert_eq!((partial.done, partial.total, partial.version), (2, 6, 2));
    assert_eq!(seen.len(), 1);
    assert_eq!(store.count_sealed_values_below(2).await.unwrap(), 4);
    versions_of_everything(&store, &vault).await;

    // Resumed: it finishes what is left, and everything still opens.
    let finished = keys::rewrap(store.as_ref(), &vault, 3, None, &audit(), |_| {})
        .await
        .unwrap();
    assert_eq!((finished.done, finished.total), (4, 4));
    assert!(
        versions_of_everything(&store, &vault)
            .await
            .iter()
            .all(|v| *v == 2)
    );
    assert_eq!(store.count_sealed_values_below(2).await.unwrap(), 0);
}

fn master_key(encoded: &str) -> MasterKey {
    let dir = tempfile::tempdir().unwrap();
    let value = zeroize::Zeroizing::new(encoded.to_owned());
    slbcert::crypto::master_key::load(None, Some(value), dir.path(), false)
        .unwrap()
        .0
}

#[tokio::test]
async fn a_rotation_elsewhere_reaches_a_running_vault() {
    use base64::Engine;
    let encoded = base64::engine::general_purpose::STANDARD.encode([42u8; 32]);
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    // Two vaults on one store, as a server and `slbcert keys rotate` share a data directory.
    let running = vault(&store, master_key(&encoded)).await.unwrap();
    let administrator = vault(&store, master_key(&encoded)).await.unwrap();
    let before = running.seal(PEM, &key_of("a")).await.unwrap();
    assert_eq!(before.kek_version(), 1);
    assert_eq!(keys::rotate(&administrator, &audit()).await.unwrap(), 2);
    // The running vault reads the newest version at most once a second.
    tokio::time::sleep(slbcert::vault::NEWEST_KEK_FOR).await;
    let after = running.seal(PEM, &key_of("b")).await.unwrap();
    assert_eq!(
        after.kek_version(),
        2,
        "a seal a second after the rotation uses the new KEK, without a restart"
    );
    let from_administrator = administrator.seal(PEM, &key_of("c")).await.unwrap();
    assert_eq!(
        running
            .open_sealed(&from_administrator, &key_of("c"))
            .await
            .unwrap()
            .as_slice(),
        PEM
    );
    assert_eq!(
        running
            .open_sealed(&before, &key_of("a"))
            .await
            .unwrap()
            .as_slice(),
        PEM
    );
}

#[tokio::test]
async fn a_ciphertext_moved_to_another_row_in_the_database_fails_to_open() {
    let dir = tempfile::tempdir().unwrap();
    let store = store(&dir);
    let vault = vault(&store, MasterKey::generate()).await.unwrap();
    populate(&store, &vault, 0, 2).await;
    // What someone with write access to the database file could do: copy c0's sealed key
    // onto c1's row.
    let db = rusqlite::Connection::open(dir.path().join("slbcert.db")).unwrap();
    db.execute(
        "UPDATE certificate_keys SET sealed_key = \
         (SELECT sealed_key FROM certificate_keys WHERE certificate_id = 'c0') \
         WHERE certificate_id = 'c1'",
        [],
    )
    .unwrap();
    let scope = Scope {
        account_id: "1111111111111111".into(),
        region_id: "cn-hangzhou".into(),
    };
    let moved = store
        .certificate_material(&scope, CertificateKind::Server, "c1")
        .await
        .unwrap()
        .unwrap()
        .private_key
        .unwrap();
    let error = vault.open_sealed(&moved, &key_of("c1")).await.unwrap_err();
    assert!(matches!(error, VaultError::Envelope(_)), "{error}");
    assert_eq!(
        vault
            .open_sealed(&moved, &key_of("c0"))
            .await
            .unwrap()
            .as_slice(),
        PEM
    );
}
