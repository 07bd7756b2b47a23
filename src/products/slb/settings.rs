//! Parameters that are stored as given and echoed back, declared as tables: each row names a
//! parameter, the values it takes, the protocols it applies to and its default. Parsing a
//! request against a table gives typed [`Setting`]s before anything is stored.

use std::collections::BTreeMap;

use crate::api::error::ApiError;
use crate::api::params::RpcParams;
use crate::store::load_balancers::{Protocol, Setting};
pub use crate::store::load_balancers::{int, text};

#[derive(Clone, Copy, Debug)]
pub enum Kind {
    /// A whole number in the range.
    Int(i64, i64),
    /// One of these, compared without case, stored as written here.
    Enum(&'static [&'static str]),
    /// Any text of at most this many characters.
    Text(usize),
    /// A comma-separated list of these.
    EnumList(&'static [&'static str]),
    /// One of these, or the ID of a resource with this prefix (`tls-…`), which the store
    /// checks exists.
    EnumOrId(&'static [&'static str], &'static str),
}

#[derive(Clone, Copy, Debug)]
pub enum Fallback {
    None,
    Int(i64),
    Text(&'static str),
}

const ALL: &[Protocol] = &[
    Protocol::Http,
    Protocol::Https,
    Protocol::Tcp,
    Protocol::Udp,
];
const WEB: &[Protocol] = &[Protocol::Http, Protocol::Https];
const HTTPS: &[Protocol] = &[Protocol::Https];
const HTTP: &[Protocol] = &[Protocol::Http];
const TCP: &[Protocol] = &[Protocol::Tcp];
const L4: &[Protocol] = &[Protocol::Tcp, Protocol::Udp];
const UDP: &[Protocol] = &[Protocol::Udp];
const HEALTH_URI: &[Protocol] = &[Protocol::Http, Protocol::Https, Protocol::Tcp];

#[derive(Debug)]
pub struct Field {
    pub name: &'static str,
    pub kind: Kind,
    pub protocols: &'static [Protocol],
    pub default: Fallback,
    /// Other names clients send it under (Create TCP/UDP's `healthCheckInterval`).
    pub aliases: &'static [&'static str],
    /// Shown at the top of DescribeLoadBalancerListeners' items, not in the protocol's config.
    pub common: bool,
}

const ON_OFF: &[&str] = &["on", "off"];
/// What each allows: slb-listeners.md §12 (the data plane maps them to TLS versions and suites).
const TLS_POLICIES: &[&str] = &[
    "tls_cipher_policy_1_0",
    "tls_cipher_policy_1_1",
    "tls_cipher_policy_1_2",
    "tls_cipher_policy_1_2_strict",
    "tls_cipher_policy_1_2_strict_with_1_3",
];

const fn field(
    name: &'static str,
    kind: Kind,
    protocols: &'static [Protocol],
    default: Fallback,
) -> Field {
    Field {
        name,
        kind,
        protocols,
        default,
        aliases: &[],
        common: false,
    }
}

const fn common(name: &'static str, kind: Kind, default: Fallback) -> Field {
    Field {
        name,
        kind,
        protocols: ALL,
        default,
        aliases: &[],
        common: true,
    }
}

use Fallback as D;
use Kind as K;

/// Listener parameters (slb-listeners.md 4.1), besides the port, the protocol, the
/// certificates and `VServerGroupId`, which are typed fields of the listener.
#[rustfmt::skip]
pub static LISTENER_FIELDS: &[Field] = &[
    common("Bandwidth", K::Int(-1, 5120), D::Int(-1)),
    common("BackendServerPort", K::Int(1, 65535), D::None),
    common("Scheduler", K::Enum(&["wrr", "rr", "wlc", "sch", "tch", "qch"]), D::Text("wrr")),
    common("Description", K::Text(256), D::None),
    common("AclStatus", K::Enum(ON_OFF), D::Text("off")),
    common("AclType", K::Enum(&["white", "black"]), D::None),
    common("AclId", K::Text(256), D::None),
    field("StickySession", K::Enum(ON_OFF), WEB, D::Text("off")),
    field("StickySessionType", K::Enum(&["insert", "server"]), WEB, D::None),
    field("CookieTimeout", K::Int(1, 86400), WEB, D::None),
    field("Cookie", K::Text(200), WEB, D::None),
    field("HealthCheck", K::Enum(ON_OFF), ALL, D::Text("on")).aliased(&["HealthCheckSwitch"]),
    field("HealthCheckType", K::Enum(&["tcp", "http"]), TCP, D::Text("tcp")),
    // Echoed even when never given: Terraform's defaults are "/" and "", and an absent field
    // would read as a change.
    field("HealthCheckURI", K::Text(80), WEB, D::Text("/")),
    field("HealthCheckURI", K::Text(80), TCP, D::None),
    field("HealthCheckDomain", K::Text(80), WEB, D::Text("")),
    field("HealthCheckDomain", K::Text(80), TCP, D::None),
    field("HealthCheckHttpVersion", K::Enum(&["http1.0", "http1.1"]), HEALTH_URI, D::None),
    // Both SDKs spell them in lower camel case.
    field("HealthCheckReq", K::Text(64), UDP, D::None).aliased(&["healthCheckReq"]),
    field("HealthCheckExp", K::Text(64), UDP, D::None).aliased(&["healthCheckExp"]),
    field("HealthCheckConnectPort", K::Int(1, 65535), ALL, D::None),
    field("HealthyThreshold", K::Int(2, 10), ALL, D::Int(3)),
    field("UnhealthyThreshold", K::Int(2, 10), ALL, D::Int(3)),
    field("HealthCheckTimeout", K::Int(1, 300), WEB, D::Int(5)),
    field("HealthCheckConnectTimeout", K::Int(1, 300), L4, D::Int(5)),
    field("HealthCheckInterval", K::Int(1, 50), ALL, D::Int(2)).aliased(&["healthCheckInterval"]),
    field("HealthCheckHttpCode", K::EnumList(&["http_2xx", "http_3xx", "http_4xx", "http_5xx"]), HEALTH_URI, D::Text("http_2xx")),
    field("HealthCheckMethod", K::Enum(&["head", "get"]), WEB, D::Text("head")),
    field("Gzip", K::Enum(ON_OFF), WEB, D::Text("on")),
    field("XForwardedFor", K::Enum(ON_OFF), WEB, D::Text("on")),
    field("XForwardedFor_SLBIP", K::Enum(ON_OFF), WEB, D::Text("off")),
    field("XForwardedFor_SLBID", K::Enum(ON_OFF), WEB, D::Text("off")),
    field("XForwardedFor_proto", K::Enum(ON_OFF), WEB, D::Text("off")),
    field("XForwardedFor_SLBPORT", K::Enum(ON_OFF), WEB, D::Text("off")),
    field("XForwardedFor_ClientSrcPort", K::Enum(ON_OFF), WEB, D::Text("off")),
    field("XForwardedFor_ClientCertSubjectDN", K::Enum(ON_OFF), HTTPS, D::Text("off")),
    field("XForwardedFor_ClientCertIssuerDN", K::Enum(ON_OFF), HTTPS, D::Text("off")),
    field("XForwardedFor_ClientCertFingerprint", K::Enum(ON_OFF), HTTPS, D::Text("off")),
    field("XForwardedFor_ClientCertClientVerify", K::Enum(ON_OFF), HTTPS, D::Text("off")),
    field("IdleTimeout", K::Int(1, 60), WEB, D::Int(15)),
    field("RequestTimeout", K::Int(1, 180), WEB, D::Int(60)),
    field("TLSCipherPolicy", K::EnumOrId(TLS_POLICIES, "tls-"), HTTPS, D::Text("tls_cipher_policy_1_0")),
    field("EnableHttp2", K::Enum(ON_OFF), HTTPS, D::Text("on")),
    field("ListenerForward", K::Enum(ON_OFF), HTTP, D::Text("off")),
    field("ForwardPort", K::Int(1, 65535), HTTP, D::None),
    field("PersistenceTimeout", K::Int(0, 3600), TCP, D::Int(0)),
    field("EstablishedTimeout", K::Int(10, 900), TCP, D::Int(900)),
    field("ConnectionDrain", K::Enum(ON_OFF), L4, D::Text("off")),
    field("ConnectionDrainTimeout", K::Int(10, 900), L4, D::None),
    field("ProxyProtocolV2Enabled", K::Enum(&["true", "false"]), L4, D::Text("false")),
    field("MasterSlaveServerGroupId", K::Text(64), L4, D::None),
];

impl Field {
    const fn aliased(self, aliases: &'static [&'static str]) -> Field {
        Field { aliases, ..self }
    }

    pub fn applies_to(&self, protocol: Protocol) -> bool {
        self.protocols.contains(&protocol)
    }

    pub fn default_value(&self) -> Option<Setting> {
        match self.default {
            D::None => None,
            D::Int(value) => Some(Setting::Int(value)),
            D::Text(value) => Some(Setting::Text(value.to_owned())),
        }
    }

    /// The value the request gives this field, under its name or an alias; `None` if absent
    /// or empty.
    pub fn parse(&self, params: &RpcParams) -> Result<Option<Setting>, ApiError> {
        let given = std::iter::once(self.name)
            .chain(self.aliases.iter().copied())
            .find_map(|name| params.non_empty(name));
        let Some(text) = given else {
            return Ok(None);
        };
        parse_value(self.name, self.kind, text).map(Some)
    }
}

pub fn parse_value(name: &str, kind: Kind, text: &str) -> Result<Setting, ApiError> {
    let invalid = |expected: String| {
        ApiError::InvalidParameter(format!(
            "The specified {name} {text:?} is not valid: {expected}."
        ))
    };
    match kind {
        K::Int(min, max) => match text.trim().parse::<i64>() {
            Ok(number) if (min..=max).contains(&number) => Ok(Setting::Int(number)),
            _ => Err(invalid(format!("use a whole number from {min} to {max}"))),
        },
        K::Enum(values) => canonical(values, text)
            .map(|value| Setting::Text(value.to_owned()))
            .ok_or_else(|| invalid(format!("use one of {}", values.join(", ")))),
        K::EnumOrId(values, prefix) => {
            let id = text.strip_prefix(prefix).is_some_and(|rest| {
                !rest.is_empty()
                    && rest.len() <= 60
                    && rest
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
            });
            canonical(values, text)
                .map(|value| Setting::Text(value.to_owned()))
                .or_else(|| id.then(|| Setting::Text(text.to_owned())))
                .ok_or_else(|| {
                    invalid(format!(
                        "use one of {} or the ID of a policy ({prefix}…)",
                        values.join(", ")
                    ))
                })
        }
        K::EnumList(values) => {
            let items: Option<Vec<&str>> = text
                .split(',')
                .map(|item| canonical(values, item.trim()))
                .collect();
            items
                .map(|items| Setting::Text(items.join(",")))
                .ok_or_else(|| {
                    invalid(format!(
                        "use a comma-separated list of {}",
                        values.join(", ")
                    ))
                })
        }
        K::Text(max) => {
            let length = text.chars().count();
            if length > max || text.chars().any(char::is_control) {
                return Err(invalid(format!(
                    "use at most {max} characters and no control characters"
                )));
            }
            Ok(Setting::Text(text.to_owned()))
        }
    }
}

/// `text` as written in `values`, compared without case.
fn canonical(values: &'static [&'static str], text: &str) -> Option<&'static str> {
    values
        .iter()
        .find(|value| value.eq_ignore_ascii_case(text))
        .copied()
}

/// The fields of `table` that apply to `protocol` and that the request gives.
pub fn parse_given(
    table: &'static [Field],
    protocol: Protocol,
    params: &RpcParams,
) -> Result<BTreeMap<String, Setting>, ApiError> {
    let mut given = BTreeMap::new();
    for field in table.iter().filter(|field| field.applies_to(protocol)) {
        if let Some(value) = field.parse(params)? {
            given.insert(field.name.to_owned(), value);
        }
    }
    Ok(given)
}

/// The defaults of `table` for `protocol`.
pub fn defaults(table: &'static [Field], protocol: Protocol) -> BTreeMap<String, Setting> {
    table
        .iter()
        .filter(|field| field.applies_to(protocol))
        .filter_map(|field| Some((field.name.to_owned(), field.default_value()?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_parsed_to_their_types_and_refused_out_of_range() {
        let params = RpcParams::parse(
            "Bandwidth=-1&Scheduler=WRR&healthCheckInterval=7&HealthCheckHttpCode=HTTP_2xx,http_3xx",
            b"",
            None,
        )
        .unwrap();
        let given = parse_given(LISTENER_FIELDS, Protocol::Tcp, &params).unwrap();
        assert_eq!(given["Bandwidth"], Setting::Int(-1));
        assert_eq!(given["Scheduler"], Setting::Text("wrr".into()));
        assert_eq!(given["HealthCheckInterval"], Setting::Int(7));
        assert_eq!(
            given["HealthCheckHttpCode"],
            Setting::Text("http_2xx,http_3xx".into())
        );
        for bad in [
            "Bandwidth=5121",
            "Scheduler=fastest",
            "IdleTimeout=0",
            "Bandwidth=1e3",
        ] {
            let params = RpcParams::parse(bad, b"", None).unwrap();
            let error = parse_given(LISTENER_FIELDS, Protocol::Https, &params).unwrap_err();
            assert_eq!(error.code(), "InvalidParameter", "{bad}");
        }
        // A field of another protocol is ignored, not refused.
        let params = RpcParams::parse("EstablishedTimeout=1", b"", None).unwrap();
        assert!(
            parse_given(LISTENER_FIELDS, Protocol::Https, &params)
                .unwrap()
                .is_empty()
        );
    }
}
