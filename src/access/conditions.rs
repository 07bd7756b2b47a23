//! The `Condition` block of a policy statement: operators over the request's facts
//! (`acs:SourceIp`, `acs:CurrentTime`, `acs:SecureTransport`).
//!
//! Within a block every operator must hold, within an operator every key, and a key holds if
//! any of its values does. A key the request does not have fails a positive operator and
//! satisfies a negated one (`StringNotEquals`, `NotIpAddress`, ...), as in RAM.

use std::net::IpAddr;

use serde_json::Value;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::syntax::{PolicyError, strings, wildcard_match};

/// What a request is, for conditions.
#[derive(Clone, Debug)]
pub struct Facts {
    pub source_ip: IpAddr,
    pub current_time: OffsetDateTime,
    /// Whether the request came over TLS.
    pub secure_transport: bool,
}

impl Facts {
    /// The value of a condition key, by its lower-case name.
    fn value(&self, key: &str) -> Option<String> {
        match key {
            "acs:sourceip" => Some(self.source_ip.to_string()),
            "acs:currenttime" => self.current_time.format(&Rfc3339).ok(),
            "acs:securetransport" => Some(self.secure_transport.to_string()),
            _ => None,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Operator {
    StringEquals,
    StringNotEquals,
    StringEqualsIgnoreCase,
    StringNotEqualsIgnoreCase,
    StringLike,
    StringNotLike,
    NumericEquals,
    NumericNotEquals,
    NumericLessThan,
    NumericLessThanEquals,
    NumericGreaterThan,
    NumericGreaterThanEquals,
    DateEquals,
    DateNotEquals,
    DateLessThan,
    DateLessThanEquals,
    DateGreaterThan,
    DateGreaterThanEquals,
    Bool,
    IpAddress,
    NotIpAddress,
}

impl Operator {
    fn parse(name: &str) -> Option<Operator> {
        use Operator::*;
        Some(match name {
            "StringEquals" => StringEquals,
            "StringNotEquals" => StringNotEquals,
            "StringEqualsIgnoreCase" => StringEqualsIgnoreCase,
            "StringNotEqualsIgnoreCase" => StringNotEqualsIgnoreCase,
            "StringLike" => StringLike,
            "StringNotLike" => StringNotLike,
            "NumericEquals" => NumericEquals,
            "NumericNotEquals" => NumericNotEquals,
            "NumericLessThan" => NumericLessThan,
            "NumericLessThanEquals" => NumericLessThanEquals,
            "NumericGreaterThan" => NumericGreaterThan,
            "NumericGreaterThanEquals" => NumericGreaterThanEquals,
            "DateEquals" => DateEquals,
            "DateNotEquals" => DateNotEquals,
            "DateLessThan" => DateLessThan,
            "DateLessThanEquals" => DateLessThanEquals,
            "DateGreaterThan" => DateGreaterThan,
            "DateGreaterThanEquals" => DateGreaterThanEquals,
            "Bool" => Bool,
            "IpAddress" => IpAddress,
            "NotIpAddress" => NotIpAddress,
            _ => return None,
        })
    }

    /// Negated operators hold when no value matches (and when the key is absent).
    fn is_negated(self) -> bool {
        use Operator::*;
        matches!(
            self,
            StringNotEquals
                | StringNotEqualsIgnoreCase
                | StringNotLike
                | NumericNotEquals
                | DateNotEquals
                | NotIpAddress
        )
    }

    /// Whether `actual` matches the policy's `expected` (before negation).
    fn matches(self, actual: &str, expected: &Expected) -> bool {
        use Operator::*;
        match (self, expected) {
            (StringEquals | StringNotEquals, Expected::Text(text)) => actual == text,
            (StringEqualsIgnoreCase | StringNotEqualsIgnoreCase, Expected::Text(text)) => {
                actual.eq_ignore_ascii_case(text)
            }
            (StringLike | StringNotLike, Expected::Text(text)) => wildcard_match(text, actual),
            (Bool, Expected::Text(text)) => actual.eq_ignore_ascii_case(text),
            (_, Expected::Number(expected)) => actual
                .parse::<f64>()
                .is_ok_and(|actual| compare(self, actual.partial_cmp(expected))),
            (_, Expected::Date(expected)) => OffsetDateTime::parse(actual, &Rfc3339)
                .is_ok_and(|actual| compare(self, actual.partial_cmp(expected))),
            (_, Expected::Network(network)) => actual
                .parse::<IpAddr>()
                .is_ok_and(|ip| network.contains(ip)),
            _ => false,
        }
    }
}

fn compare(operator: Operator, ordering: Option<std::cmp::Ordering>) -> bool {
    use Operator::*;
    use std::cmp::Ordering::*;
    let Some(ordering) = ordering else {
        return false;
    };
    match operator {
        NumericEquals | NumericNotEquals | DateEquals | DateNotEquals => ordering == Equal,
        NumericLessThan | DateLessThan => ordering == Less,
        NumericLessThanEquals | DateLessThanEquals => ordering != Greater,
        NumericGreaterThan | DateGreaterThan => ordering == Greater,
        NumericGreaterThanEquals | DateGreaterThanEquals => ordering != Less,
        _ => false,
    }
}

/// A value of the policy, parsed as its operator needs it.
#[derive(Clone, Debug, PartialEq)]
enum Expected {
    Text(String),
    Number(f64),
    Date(OffsetDateTime),
    Network(Network),
}

/// An address or a CIDR block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Network {
    address: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(text: &str) -> Option<Network> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (
                address.parse::<IpAddr>().ok()?,
                Some(prefix.parse::<u8>().ok()?),
            ),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(bits);
        (prefix <= bits).then_some(Network { address, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        let ip = match (self.address, ip) {
            (IpAddr::V4(_), IpAddr::V6(v6)) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            _ => ip,
        };
        match (self.address, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => prefix_equal(
                u128::from(u32::from(net)) << 96,
                u128::from(u32::from(ip)) << 96,
                self.prefix,
            ),
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                prefix_equal(u128::from(net), u128::from(ip), self.prefix)
            }
            _ => false,
        }
    }
}

fn prefix_equal(a: u128, b: u128, prefix: u8) -> bool {
    prefix == 0 || (a ^ b) >> (128 - u32::from(prefix)) == 0
}

#[derive(Clone, Debug, PartialEq)]
pub struct Condition {
    operator: Operator,
    /// Lower case: condition keys are case-insensitive.
    key: String,
    values: Vec<Expected>,
}

impl Condition {
    /// Every condition of a statement's `Condition` block.
    pub fn parse_block(block: &Value) -> Result<Vec<Condition>, PolicyError> {
        let operators = block
            .as_object()
            .ok_or_else(|| PolicyError("\"Condition\" must be an object".into()))?;
        let mut conditions = Vec::new();
        for (name, keys) in operators {
            let operator = Operator::parse(name)
                .ok_or_else(|| PolicyError(format!("unknown condition operator {name:?}")))?;
            let keys = keys.as_object().ok_or_else(|| {
                PolicyError(format!("condition {name:?} must map keys to values"))
            })?;
            for (key, values) in keys {
                let values = condition_values(values, name)?
                    .iter()
                    .map(|value| expected(operator, value))
                    .collect::<Result<_, _>>()?;
                conditions.push(Condition {
                    operator,
                    key: key.to_ascii_lowercase(),
                    values,
                });
            }
        }
        Ok(conditions)
    }

    pub fn holds(&self, facts: &Facts) -> bool {
        let Some(actual) = facts.value(&self.key) else {
            return self.operator.is_negated();
        };
        let any = self
            .values
            .iter()
            .any(|expected| self.operator.matches(&actual, expected));
        any != self.operator.is_negated()
    }
}

/// Values may be strings, booleans or numbers, alone or in a list.
fn condition_values(value: &Value, operator: &str) -> Result<Vec<String>, PolicyError> {
    let scalar = |value: &Value| match value {
        Value::String(text) => Some(text.clone()),
        Value::Bool(flag) => Some(flag.to_string()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    };
    match value {
        Value::Array(items) if !items.is_empty() => items
            .iter()
            .map(|item| {
                scalar(item).ok_or_else(|| {
                    PolicyError(format!(
                        "condition {operator:?} has a value that is not a string"
                    ))
                })
            })
            .collect(),
        other => match scalar(other) {
            Some(one) => Ok(vec![one]),
            None => strings(other, operator),
        },
    }
}

fn expected(operator: Operator, text: &str) -> Result<Expected, PolicyError> {
    use Operator::*;
    let wrong = |what: &str| PolicyError(format!("{text:?} is not {what}"));
    Ok(match operator {
        NumericEquals
        | NumericNotEquals
        | NumericLessThan
        | NumericLessThanEquals
        | NumericGreaterThan
        | NumericGreaterThanEquals => {
            Expected::Number(text.parse().map_err(|_| wrong("a number"))?)
        }
        DateEquals
        | DateNotEquals
        | DateLessThan
        | DateLessThanEquals
        | DateGreaterThan
        | DateGreaterThanEquals => Expected::Date(
            OffsetDateTime::parse(text, &Rfc3339)
                .map_err(|_| wrong("a time like 2024-01-01T00:00:00Z"))?,
        ),
        IpAddress | NotIpAddress => Expected::Network(
            Network::parse(text).ok_or_else(|| wrong("an address or CIDR block"))?,
        ),
        Bool if !text.eq_ignore_ascii_case("true") && !text.eq_ignore_ascii_case("false") => {
            return Err(wrong("true or false"));
        }
        _ => Expected::Text(text.to_owned()),
    })
}
