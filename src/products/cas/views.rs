//! The SSL Certificates Service's answers about certificates, as serde types.

use serde::Serialize;
use time::OffsetDateTime;

use crate::clock;
use crate::products::views::TagView;
use crate::store::UserCertificate;

/// `2026-11-27`, as the service shows StartDate and EndDate.
fn day(ms: i64) -> String {
    clock::iso8601(clock::from_unix_ms(ms))[..10].to_owned()
}

fn instance_id(cert_id: i64) -> String {
    format!("cas-upload-{cert_id}")
}

/// GetUserCertificateDetail, without the PEM and key (the handler adds those, moved out of
/// their zeroizing buffers, when it may).
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Detail<'a> {
    id: i64,
    name: &'a str,
    common: &'a str,
    sans: String,
    fingerprint: &'a str,
    issuer: &'a str,
    org_name: &'static str,
    serial_no: &'a str,
    algorithm: &'a str,
    start_date: String,
    end_date: String,
    not_before: i64,
    not_after: i64,
    expired: bool,
    buy_in_aliyun: bool,
    resource_group_id: &'a str,
    cert_identifier: String,
    instance_id: String,
    country: &'static str,
    province: &'static str,
    city: &'static str,
    tags: Vec<TagView>,
}

impl<'a> Detail<'a> {
    pub fn of(certificate: &'a UserCertificate, now: OffsetDateTime) -> Detail<'a> {
        Detail {
            id: certificate.cert_id,
            name: &certificate.name,
            common: &certificate.common_name,
            sans: certificate.subject_alternative_names.join(","),
            fingerprint: &certificate.fingerprint,
            issuer: &certificate.issuer,
            org_name: "",
            serial_no: &certificate.serial_number,
            algorithm: &certificate.algorithm,
            start_date: day(certificate.not_before_ms),
            end_date: day(certificate.not_after_ms),
            not_before: certificate.not_before_ms,
            not_after: certificate.not_after_ms,
            expired: certificate.not_after_ms < clock::unix_ms(now),
            buy_in_aliyun: false,
            resource_group_id: &certificate.resource_group_id,
            cert_identifier: format!("{}-cn-hangzhou", certificate.cert_id),
            instance_id: instance_id(certificate.cert_id),
            country: "",
            province: "",
            city: "",
            tags: TagView::all(&certificate.tags),
        }
    }
}

/// An item of ListUserCertificateOrder.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Order<'a> {
    certificate_id: i64,
    name: &'a str,
    common_name: &'a str,
    domain: &'a str,
    sans: String,
    fingerprint: &'a str,
    issuer: &'a str,
    serial_no: &'a str,
    algorithm: &'a str,
    start_date: String,
    end_date: String,
    cert_start_time: i64,
    cert_end_time: i64,
    expired: bool,
    status: &'static str,
    upload: bool,
    source_type: &'static str,
    resource_group_id: &'a str,
    instance_id: String,
}

impl<'a> Order<'a> {
    pub fn of(certificate: &'a UserCertificate, status: &'static str, now_ms: i64) -> Order<'a> {
        Order {
            certificate_id: certificate.cert_id,
            name: &certificate.name,
            common_name: &certificate.common_name,
            domain: &certificate.common_name,
            sans: certificate.subject_alternative_names.join(","),
            fingerprint: &certificate.fingerprint,
            issuer: &certificate.issuer,
            serial_no: &certificate.serial_number,
            algorithm: &certificate.algorithm,
            start_date: day(certificate.not_before_ms),
            end_date: day(certificate.not_after_ms),
            cert_start_time: certificate.not_before_ms,
            cert_end_time: certificate.not_after_ms,
            expired: certificate.not_after_ms < now_ms,
            status,
            upload: true,
            source_type: "upload",
            resource_group_id: &certificate.resource_group_id,
            instance_id: instance_id(certificate.cert_id),
        }
    }
}

/// ListUserCertificateOrder.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Orders<T> {
    pub certificate_order_list: Vec<T>,
    pub current_page: u64,
    pub show_size: u64,
    pub total_count: u64,
}
