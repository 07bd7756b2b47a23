//! Filling a store through the library, fast: accounts created, keys sealed, records audited
//! and group-committed as uploads are; the certificate is one fixture, validated once. A
//! filled directory keeps its samples, so that a later run reuses it.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use slbcert::audit::AuditRecord;
use slbcert::crypto::Binding;
use slbcert::store::{Certificate, CertificateKind, CertificateMaterial, Scope};

const CERTIFICATE: &str = include_str!("../../tests/fixtures/pki/p256.crt");
const PRIVATE_KEY: &str = include_str!("../../tests/fixtures/pki/p256.sec1.key");
const SAMPLES: &str = "bench-samples.json";

/// One account of the store, and one certificate of it.
#[derive(serde::Serialize, serde::Deserialize)]
pub struct Sample {
    pub access_key_id: String,
    pub secret: String,
    pub certificate_id: String,
}

/// Fills `dir` unless an earlier run did; returns a sample per account.
pub async fn fill_once(dir: &Path, accounts: usize, certificates: usize) -> Vec<Sample> {
    if let Ok(text) = std::fs::read_to_string(dir.join(SAMPLES)) {
        return serde_json::from_str(&text).expect("samples");
    }
    let started = Instant::now();
    let data = slbcert::data_dir::open(dir, &Default::default(), "bench")
        .await
        .expect("open the data directory");
    let leaf =
        slbcert::pki::validate_server_certificate(CERTIFICATE, PRIVATE_KEY, slbcert::clock::now())
            .expect("the fixture validates")
            .chain
            .leaf;
    let audit = AuditRecord::new("bench-fill", "UploadServerCertificate", "bench");
    let mut samples = Vec::with_capacity(accounts);
    let per_account = certificates / accounts;
    let in_flight = Arc::new(tokio::sync::Semaphore::new(1024));
    let mut tasks = tokio::task::JoinSet::new();
    for n in 0..accounts {
        let credentials =
            slbcert::accounts::create(data.store.as_ref(), &data.vault, &format!("a{n}"), &audit)
                .await
                .expect("create an account");
        let mut first = None;
        for _ in 0..per_account {
            let created_ms = slbcert::clock::unix_ms(slbcert::clock::now());
            let certificate = Certificate {
                id: slbcert::ids::certificate_id(&credentials.account_id, created_ms),
                kind: CertificateKind::Server,
                scope: Scope {
                    account_id: credentials.account_id.clone(),
                    region_id: "cn-hangzhou".into(),
                },
                name: String::new(),
                resource_group_id: "rg-bench".into(),
                fingerprint: leaf.fingerprint.clone(),
                common_name: leaf.common_name.clone(),
                subject_alternative_names: leaf.subject_alternative_names.clone(),
                encryption_algorithm: leaf.public_key.encryption().0.to_owned(),
                encryption_key_length: leaf.public_key.encryption().1,
                expire_ms: slbcert::clock::unix_ms(leaf.not_after),
                created_ms: created_ms - created_ms.rem_euclid(1000),
                ali_cloud: None,
                tags: Vec::new(),
            };
            first.get_or_insert_with(|| certificate.id.clone());
            let (store, vault) = (data.store.clone(), data.vault.clone());
            let line = audit.success(&certificate.id, Some(&certificate.fingerprint));
            let permit = in_flight.clone().acquire_owned().await.expect("semaphore");
            tasks.spawn(async move {
                let binding = Binding::CertificateKey {
                    account_id: certificate.scope.account_id.clone(),
                    region_id: certificate.scope.region_id.clone(),
                    certificate_id: certificate.id.clone(),
                };
                let sealed = vault
                    .seal(PRIVATE_KEY.as_bytes(), &binding)
                    .await
                    .expect("seal");
                let material = CertificateMaterial {
                    certificate_pem: CERTIFICATE.to_owned(),
                    private_key: Some(sealed),
                };
                store
                    .insert_certificate(certificate, material, None, line)
                    .await
                    .expect("insert");
                drop(permit);
            });
            while tasks.try_join_next().is_some() {}
        }
        samples.push(Sample {
            access_key_id: credentials.access_key_id.clone(),
            secret: credentials.access_key_secret.expose().to_owned(),
            certificate_id: first.unwrap_or_default(),
        });
        if (n + 1) % (accounts / 10).max(1) == 0 {
            eprintln!(
                "filled {} of {accounts} accounts in {:.0?}",
                n + 1,
                started.elapsed()
            );
        }
    }
    while tasks.join_next().await.is_some() {}
    let exported = data.export_audit().await.expect("export the audit trail");
    eprintln!(
        "filled {certificates} certificates in {:.0?} ({exported} audit lines exported)",
        started.elapsed()
    );
    std::fs::write(
        dir.join(SAMPLES),
        serde_json::to_string(&samples).expect("JSON"),
    )
    .expect("samples");
    samples
}
