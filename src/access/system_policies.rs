//! The system policies every account has, by name, as RAM attaches them.

use std::sync::LazyLock;

use super::policy::{MAX_DOCUMENT_CHARS, Policy};

pub struct SystemPolicy {
    pub name: &'static str,
    pub description: &'static str,
    pub document: &'static str,
    pub policy: Policy,
}

const TABLE: &[(&str, &str, &str)] = &[
    (
        "AdministratorAccess",
        "Provides full access to Alibaba Cloud services and resources.",
        r#"{"Version":"1","Statement":[{"Action":"*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunSLBFullAccess",
        "Provides full access to Server Load Balancer (SLB) via Management Console.",
        r#"{"Version":"1","Statement":[{"Action":"slb:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunSLBReadOnlyAccess",
        "Provides read-only access to Server Load Balancer (SLB) via Management Console.",
        r#"{"Version":"1","Statement":[{"Action":["slb:Describe*","slb:List*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunYundunCertFullAccess",
        "Provides full access to SSL Certificates Service.",
        r#"{"Version":"1","Statement":[{"Action":"yundun-cert:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunYundunCertReadOnlyAccess",
        "Provides read-only access to SSL Certificates Service.",
        r#"{"Version":"1","Statement":[{"Action":["yundun-cert:Describe*","yundun-cert:List*","yundun-cert:Get*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunRAMFullAccess",
        "Provides full access to Resource Access Management (RAM).",
        r#"{"Version":"1","Statement":[{"Action":"ram:*","Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunRAMReadOnlyAccess",
        "Provides read-only access to Resource Access Management (RAM).",
        r#"{"Version":"1","Statement":[{"Action":["ram:Get*","ram:List*"],"Effect":"Allow","Resource":"*"}]}"#,
    ),
    (
        "AliyunSTSAssumeRoleAccess",
        "Provides access to assume RAM roles through Security Token Service (STS).",
        r#"{"Version":"1","Statement":[{"Action":"sts:AssumeRole","Effect":"Allow","Resource":"*"}]}"#,
    ),
];

pub static SYSTEM_POLICIES: LazyLock<Vec<SystemPolicy>> = LazyLock::new(|| {
    TABLE
        .iter()
        .map(|(name, description, document)| SystemPolicy {
            name,
            description,
            document,
            policy: Policy::permission(document, MAX_DOCUMENT_CHARS)
                .expect("system policies parse"),
        })
        .collect()
});

pub fn find(name: &str) -> Option<&'static SystemPolicy> {
    SYSTEM_POLICIES.iter().find(|policy| policy.name == name)
}
