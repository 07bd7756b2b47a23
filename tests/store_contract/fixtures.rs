//! Rows the tests store, and the two accounts every store starts with here.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use slbcert::crypto::Sealed;
use slbcert::store::load_balancers::{
    AddressPool, Listener, ListenerStatus, LoadBalancer, Protocol,
};
use slbcert::store::{
    AccessKey, Account, AuditEntry, Certificate, CertificateFilter, CertificateKind,
    CertificateMaterial, Scope, Store, Tag, UserCertificate,
};

use slbcert::store::certificate_orders::{CertificateOrder, OrderStatus, ValidateType};

use crate::Engine;

pub const SERVER: CertificateKind = CertificateKind::Server;
pub const CA: CertificateKind = CertificateKind::Ca;
pub const ME: &str = "1111111111111111";
pub const THEM: &str = "2222222222222222";

/// A distinct audit line per call.
pub fn line() -> String {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    format!("{{\"line\":{}}}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn sealed(tag: &str) -> Sealed {
    Sealed::from_stored(format!("sealed:{tag}").into_bytes())
}

pub fn scope(account: &str, region: &str) -> Scope {
    Scope {
        account_id: account.into(),
        region_id: region.into(),
    }
}

pub fn mine() -> Scope {
    scope(ME, "cn-hangzhou")
}

pub fn tag(key: &str, value: &str) -> Tag {
    Tag {
        key: key.into(),
        value: value.into(),
    }
}

pub fn certificate(id: &str, kind: CertificateKind, scope: Scope, tags: Vec<Tag>) -> Certificate {
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

pub fn material(tag: &str) -> CertificateMaterial {
    CertificateMaterial {
        certificate_pem: format!("-----BEGIN CERTIFICATE-----\n{tag}\n"),
        private_key: Some(sealed(tag)),
    }
}

pub fn user_certificate(
    cert_id: i64,
    account: &str,
    name: &str,
    not_after_ms: i64,
) -> UserCertificate {
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

/// The engine's store with accounts [`ME`] (key `LTAI0`) and [`THEM`] (`LTAI1`) in it.
pub async fn seeded(engine: &Engine) -> Arc<dyn Store> {
    let store = engine.open().await;
    if store.count_accounts().await.unwrap() == 0 {
        for (n, id) in [ME, THEM].iter().enumerate() {
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

pub async fn ids(
    store: &dyn Store,
    scope: &Scope,
    kind: CertificateKind,
    filter: CertificateFilter,
) -> Vec<String> {
    let listed = store.list_certificates(scope, kind, &filter).await.unwrap();
    listed.into_iter().map(|c| c.id).collect()
}

/// The audit records after `seq` once at least `count` are there. PostgreSQL shows a record
/// once every older transaction of the cluster has ended (other tests write meanwhile), so
/// this waits for them, and then for nothing more to come.
pub async fn audit_after(store: &dyn Store, seq: i64, count: usize) -> Vec<AuditEntry> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let records = store.audit_records_after(seq, 10_000).await.unwrap();
        if records.len() >= count {
            return records;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} audit records expected after {seq}, {} there",
            records.len()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The last record's number now (0 for none).
pub async fn last_seq(store: &dyn Store) -> i64 {
    let records = store.audit_records_after(0, 100_000).await.unwrap();
    records.last().map_or(0, |record| record.seq)
}

pub fn load_balancer(id: &str, scope: &Scope) -> LoadBalancer {
    LoadBalancer {
        id: id.into(),
        account_id: scope.account_id.clone(),
        region_id: scope.region_id.clone(),
        address: Ipv4Addr::UNSPECIFIED,
        status: "active".into(),
        delete_protection: false,
        created_ms: 0,
        client_token: None,
        revision: 0,
        resource_group_id: "rg-default".into(),
        attributes: BTreeMap::new(),
        tags: vec![],
        listeners: vec![],
        backend_servers: vec![],
        vserver_groups: vec![],
        master_slave_groups: vec![],
        access_log: None,
    }
}

/// An HTTPS listener on 443 serving `certificate`, with `settings`.
pub fn https_listener(certificate: &str, settings: &[(&str, &str)]) -> Listener {
    let settings = settings
        .iter()
        .map(|(name, value)| {
            let value = slbcert::store::load_balancers::Setting::Text((*value).into());
            ((*name).to_owned(), value)
        })
        .collect();
    Listener {
        port: 443,
        protocol: Protocol::Https,
        status: ListenerStatus::Running,
        server_certificate_id: Some(certificate.into()),
        ca_certificate_id: None,
        settings,
        domain_extensions: vec![],
        rules: vec![],
        tags: vec![],
    }
}

pub fn pool(cidr: &str) -> AddressPool {
    AddressPool::from_cidr(cidr).unwrap()
}

/// An order of `account` for `domain`, waiting for its proof, due at `next_attempt_ms`.
pub fn order(
    order_id: i64,
    account: &str,
    domain: &str,
    next_attempt_ms: Option<i64>,
) -> CertificateOrder {
    CertificateOrder {
        order_id,
        account_id: account.into(),
        resource_group_id: "rg-default".into(),
        domain: domain.into(),
        validate_type: ValidateType::Dns,
        product_code: "digicert-free-1-free".into(),
        username: String::new(),
        phone: String::new(),
        email: String::new(),
        tags: vec![tag("env", "prod")],
        created_ms: order_id,
        status: OrderStatus::DomainVerify,
        csr_pem: None,
        certificate_pem: None,
        acme_order_url: Some(format!("https://ca.example/order/{order_id}")),
        challenge: None,
        failure: None,
        issued: None,
        next_attempt_ms,
        attempts: 0,
        deadline_ms: i64::MAX,
        renews: None,
        renewed_by: None,
        rotation_pending: false,
    }
}
