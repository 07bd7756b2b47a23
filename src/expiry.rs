//! What expires next, and where it is bound: the certificates of every account whose notAfter
//! comes before a moment, soonest first, each with the listeners and domain extensions that
//! name it (`slbcert certificates expiring`).

use std::collections::HashMap;

use serde_json::{Value, json};

use crate::clock;
use crate::store::load_balancers::{ListenerStatus, LoadBalancer};
use crate::store::{Certificate, CertificateKind, Store, StoreError};

/// Where a certificate is bound: a listener, as its certificate, its client CA, or through one
/// of its domain extensions.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Binding {
    pub load_balancer_id: String,
    pub protocol: &'static str,
    pub port: u16,
    pub running: bool,
    /// `ServerCertificate`, `CACertificate` or `DomainExtension`.
    pub role: &'static str,
    /// The domain of a domain extension.
    pub domain: Option<String>,
}

impl Binding {
    /// `lb-… HTTPS:443 running`, with the domain for a domain extension.
    pub fn describe(&self) -> String {
        let status = if self.running { "running" } else { "stopped" };
        let domain = match (&self.domain, self.role) {
            (Some(domain), _) => format!(" {domain}"),
            (None, "CACertificate") => " (client CA)".to_owned(),
            _ => String::new(),
        };
        format!(
            "{} {}:{}{domain} {status}",
            self.load_balancer_id, self.protocol, self.port
        )
    }
}

#[derive(Clone, Debug)]
pub struct Expiring {
    pub certificate: Certificate,
    pub bindings: Vec<Binding>,
}

/// Where each certificate is bound, keyed by (account, region, kind, certificate ID): built in
/// one pass over the load balancers, so that a report costs one lookup per certificate.
type BindingIndex<'a> = HashMap<(&'a str, &'a str, CertificateKind, &'a str), Vec<Binding>>;

fn index_bindings(load_balancers: &[LoadBalancer]) -> BindingIndex<'_> {
    let mut index: BindingIndex<'_> = HashMap::new();
    for load_balancer in load_balancers {
        let scope = (
            load_balancer.account_id.as_str(),
            load_balancer.region_id.as_str(),
        );
        for listener in &load_balancer.listeners {
            let binding = |role: &'static str, domain: Option<String>| Binding {
                load_balancer_id: load_balancer.id.clone(),
                protocol: listener.protocol.as_str(),
                port: listener.port,
                running: listener.status == ListenerStatus::Running
                    && load_balancer.status == "active",
                role,
                domain,
            };
            let mut found = Vec::new();
            if let Some(id) = listener.server_certificate_id.as_deref() {
                found.push((
                    CertificateKind::Server,
                    id,
                    binding("ServerCertificate", None),
                ));
            }
            if let Some(id) = listener.ca_certificate_id.as_deref() {
                found.push((CertificateKind::Ca, id, binding("CACertificate", None)));
            }
            for extension in &listener.domain_extensions {
                found.push((
                    CertificateKind::Server,
                    &extension.server_certificate_id,
                    binding("DomainExtension", Some(extension.domain.clone())),
                ));
            }
            for (kind, id, binding) in found {
                let key = (scope.0, scope.1, kind, id);
                index.entry(key).or_default().push(binding);
            }
        }
    }
    index
}

/// Every certificate whose notAfter is before `before_ms` (at most `limit`), with its
/// bindings.
pub async fn report(
    store: &dyn Store,
    before_ms: i64,
    limit: usize,
) -> Result<Vec<Expiring>, StoreError> {
    let certificates = store.certificates_expiring_before(before_ms, limit).await?;
    let load_balancers = if certificates.is_empty() {
        Vec::new()
    } else {
        store.all_load_balancers().await?
    };
    let index = index_bindings(&load_balancers);
    Ok(certificates
        .into_iter()
        .map(|certificate| Expiring {
            bindings: index
                .get(&(
                    certificate.scope.account_id.as_str(),
                    certificate.scope.region_id.as_str(),
                    certificate.kind,
                    certificate.id.as_str(),
                ))
                .cloned()
                .unwrap_or_default(),
            certificate,
        })
        .collect())
}

/// Whole days from `now_ms` until `expire_ms` (negative once expired).
pub fn days_left(expire_ms: i64, now_ms: i64) -> i64 {
    (expire_ms - now_ms).div_euclid(86_400_000)
}

impl Expiring {
    pub fn to_json(&self, now_ms: i64) -> Value {
        let certificate = &self.certificate;
        json!({
            "CertificateId": certificate.id,
            "Kind": certificate.kind.as_str(),
            "AccountId": certificate.scope.account_id,
            "RegionId": certificate.scope.region_id,
            "Name": certificate.name,
            "CommonName": certificate.common_name,
            "Fingerprint": certificate.fingerprint,
            "ExpireTime": clock::iso8601(clock::from_unix_ms(certificate.expire_ms)),
            "DaysLeft": days_left(certificate.expire_ms, now_ms),
            "BoundTo": self.bindings.iter().map(|binding| json!({
                "LoadBalancerId": binding.load_balancer_id,
                "ListenerProtocol": binding.protocol,
                "ListenerPort": binding.port,
                "Running": binding.running,
                "As": binding.role,
                "Domain": binding.domain,
            })).collect::<Vec<_>>(),
        })
    }
}

/// The report as an aligned text table.
pub fn table(rows: &[Expiring], now_ms: i64) -> String {
    let header = [
        "EXPIRES",
        "DAYS",
        "ACCOUNT",
        "REGION",
        "CERTIFICATE",
        "KIND",
        "COMMON NAME",
        "BOUND TO",
    ];
    let lines: Vec<[String; 8]> = rows
        .iter()
        .map(|row| {
            let certificate = &row.certificate;
            let bound = if row.bindings.is_empty() {
                "-".to_owned()
            } else {
                row.bindings
                    .iter()
                    .map(Binding::describe)
                    .collect::<Vec<_>>()
                    .join(", ")
            };
            [
                clock::iso8601(clock::from_unix_ms(certificate.expire_ms)),
                days_left(certificate.expire_ms, now_ms).to_string(),
                certificate.scope.account_id.clone(),
                certificate.scope.region_id.clone(),
                certificate.id.clone(),
                certificate.kind.as_str().to_owned(),
                certificate.common_name.clone(),
                bound,
            ]
        })
        .collect();
    let mut widths = header.map(str::len);
    for line in &lines {
        for (width, cell) in widths.iter_mut().zip(line) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let render = |cells: Vec<&str>| {
        let mut out = String::new();
        for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
            if index + 1 == cells.len() {
                out.push_str(cell);
            } else {
                out.push_str(&format!("{cell:<width$}  "));
            }
        }
        out.trim_end().to_owned() + "\n"
    };
    let mut text = render(header.to_vec());
    for line in &lines {
        text.push_str(&render(line.iter().map(String::as_str).collect()));
    }
    text
}

/// `30d`, `12h`, `90m`, `3600s` (or plain seconds): milliseconds.
pub fn parse_within(text: &str) -> Result<i64, String> {
    let (number, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => text.split_at(at),
        None => (text, "s"),
    };
    let seconds_per = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => {
            return Err(format!(
                "{text:?}: use a number of days, hours, minutes or seconds, like 30d"
            ));
        }
    };
    let number: i64 = number.parse().map_err(|_| {
        format!("{text:?}: use a number of days, hours, minutes or seconds, like 30d")
    })?;
    number
        .checked_mul(seconds_per * 1000)
        .filter(|ms| *ms <= 100 * 365 * 86_400_000)
        .ok_or_else(|| format!("{text:?} is more than 100 years"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn within_takes_days_hours_minutes_and_seconds() {
        assert_eq!(parse_within("30d"), Ok(30 * 86_400_000));
        assert_eq!(parse_within("12h"), Ok(12 * 3_600_000));
        assert_eq!(parse_within("90m"), Ok(90 * 60_000));
        assert_eq!(parse_within("45"), Ok(45_000));
        for bad in ["", "d", "3w", "-1d", "99999999999999d"] {
            assert!(parse_within(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn days_left_count_whole_days_and_go_negative() {
        let day = 86_400_000;
        assert_eq!(days_left(10 * day + 5, 0), 10);
        assert_eq!(days_left(0, day / 2), -1);
    }
}
