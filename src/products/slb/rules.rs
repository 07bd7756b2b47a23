//! Forwarding rules of HTTP and HTTPS listeners (slb-families.md §3): CreateRules, DeleteRules,
//! SetRule, DescribeRules and DescribeRuleAttribute. A rule sends requests whose host matches
//! its `Domain` and whose path starts with its `Url` to its VServer group; the data plane
//! routes by them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::listeners::{port, the_listener};
use super::settings::{self, Kind as K};
use super::{Lookup, edit, find};
use crate::api::error::ApiError;
use crate::api::params::lenient_json;
use crate::ids;
use crate::products::views::{Listed, listed};
use crate::products::{Context, Fields, to_fields};
use crate::store::load_balancers::{LoadBalancer, Protocol, Rule, Setting};

const MAX_PER_CALL: usize = 10;

/// What SetRule may change besides the name, group and `ListenerSync`, with their ranges.
const RULE_SETTINGS: &[(&str, K)] = &[
    ("Scheduler", K::Enum(&["wrr", "rr"])),
    ("StickySession", K::Enum(&["on", "off"])),
    ("StickySessionType", K::Enum(&["insert", "server"])),
    ("CookieTimeout", K::Int(1, 86400)),
    ("Cookie", K::Text(200)),
    ("HealthCheck", K::Enum(&["on", "off"])),
    ("HealthCheckDomain", K::Text(80)),
    ("HealthCheckURI", K::Text(80)),
    ("HealthCheckConnectPort", K::Int(1, 65535)),
    ("HealthyThreshold", K::Int(2, 10)),
    ("UnhealthyThreshold", K::Int(2, 10)),
    ("HealthCheckTimeout", K::Int(1, 300)),
    ("HealthCheckInterval", K::Int(1, 50)),
    (
        "HealthCheckHttpCode",
        K::EnumList(&["http_2xx", "http_3xx", "http_4xx", "http_5xx"]),
    ),
];

fn invalid(what: String) -> ApiError {
    ApiError::InvalidParameter(what)
}

/// JSON, or old Terraform's single-quoted pseudo-JSON.
fn lenient<T: serde::de::DeserializeOwned>(parameter: &str, text: &str) -> Result<T, ApiError> {
    lenient_json(text)
        .ok_or_else(|| invalid(format!("The specified {parameter} is not a JSON list.")))
}

fn rule_name(name: &str) -> Result<String, ApiError> {
    let valid = (1..=40).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '/' | '.' | '_'));
    if !valid {
        return Err(invalid(format!(
            "The specified RuleName {name:?} is not valid: use 1 to 40 letters, digits, '-', '/', '.' and '_'."
        )));
    }
    Ok(name.to_owned())
}

/// A host name, lower-cased, or a wildcard `*.` before one.
fn domain(text: &str) -> Result<String, ApiError> {
    let lowered = text.to_ascii_lowercase();
    let name = lowered.strip_prefix("*.").unwrap_or(&lowered);
    let valid = !name.is_empty()
        && lowered.len() <= 80
        && name.split('.').all(|label| {
            !label.is_empty()
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if !valid {
        return Err(invalid(format!(
            "The specified Domain {text:?} is not valid: use a host name like www.example.com or *.example.com."
        )));
    }
    Ok(lowered)
}

/// A path prefix: `/` then 1 to 79 of letters, digits, `-/.%?#&`; not `/` alone.
fn url(text: &str) -> Result<String, ApiError> {
    let valid = text.starts_with('/')
        && text.len() > 1
        && text.len() <= 80
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-/.%?#&_".contains(&b));
    if !valid {
        return Err(invalid(format!(
            "The specified Url {text:?} is not valid: a path such as /images, up to 80 characters."
        )));
    }
    Ok(text.to_owned())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GivenRule {
    rule_name: String,
    domain: Option<String>,
    url: Option<String>,
    #[serde(rename = "VServerGroupId")]
    vserver_group_id: String,
}

fn parse_rule(given: GivenRule) -> Result<Rule, ApiError> {
    let domain = given
        .domain
        .filter(|d| !d.is_empty())
        .map(|d| domain(&d))
        .transpose()?;
    let url = given
        .url
        .filter(|u| !u.is_empty())
        .map(|u| url(&u))
        .transpose()?;
    if domain.is_none() && url.is_none() {
        return Err(invalid("A rule needs a Domain, a Url or both.".into()));
    }
    let mut settings = BTreeMap::new();
    settings.insert("ListenerSync".into(), Setting::Text("on".into()));
    Ok(Rule {
        id: ids::rule_id(),
        name: rule_name(&given.rule_name)?,
        domain,
        url,
        vserver_group_id: given.vserver_group_id,
        settings,
    })
}

/// Rules of one listener: names and (domain, URL) pairs unique, groups of this load balancer,
/// at most `limit` (`serve --max-rules`, SLB's 40).
fn check(load_balancer: &LoadBalancer, rules: &[Rule], limit: usize) -> Result<(), ApiError> {
    if rules.len() > limit {
        return Err(ApiError::OverQuota(format!(
            "a listener has at most {limit} forwarding rules"
        )));
    }
    for (index, rule) in rules.iter().enumerate() {
        let earlier = &rules[..index];
        if earlier.iter().any(|r| r.name == rule.name) {
            return Err(invalid(format!(
                "The specified RuleName {:?} is already used on this listener.",
                rule.name
            )));
        }
        if earlier
            .iter()
            .any(|r| (&r.domain, &r.url) == (&rule.domain, &rule.url))
        {
            return Err(ApiError::DomainExist);
        }
        if !load_balancer
            .vserver_groups
            .iter()
            .any(|g| g.id == rule.vserver_group_id)
        {
            return Err(ApiError::VServerGroupNotFound(
                rule.vserver_group_id.clone(),
            ));
        }
        if settings::text(&rule.settings, "ListenerSync") == Some("off") {
            for needed in ["Scheduler", "StickySession", "HealthCheck"] {
                if !rule.settings.contains_key(needed) {
                    return Err(ApiError::MissingParameter(needed));
                }
            }
        }
    }
    Ok(())
}

pub async fn create(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let limit = context.limits.load_balancers.rules_per_listener;
    let id = params.required("LoadBalancerId")?;
    port(params)?;
    let given: Vec<GivenRule> = lenient("RuleList", params.required("RuleList")?)?;
    if given.is_empty() || given.len() > MAX_PER_CALL {
        return Err(invalid(format!(
            "The specified RuleList holds {} rules: give 1 to {MAX_PER_CALL}.",
            given.len()
        )));
    }
    let new: Vec<Rule> = given
        .into_iter()
        .map(parse_rule)
        .collect::<Result<_, _>>()?;
    edit(context, Lookup::Id(id), |load_balancer| {
        let index = the_listener(load_balancer, params)?;
        let listener = &load_balancer.listeners[index];
        if !matches!(listener.protocol, Protocol::Http | Protocol::Https) {
            return Err(invalid(
                "Forwarding rules are for HTTP and HTTPS listeners.".into(),
            ));
        }
        let mut rules = listener.rules.clone();
        rules.extend(new.iter().cloned());
        check(load_balancer, &rules, limit)?;
        load_balancer.listeners[index].rules = rules;
        Ok(())
    })
    .await?;
    let items = new.iter().map(|rule| Created {
        rule_id: &rule.id,
        rule_name: &rule.name,
    });
    wrapped(items.collect())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct Created<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
}

/// `{"Rules": {"Rule": [...]}}`.
fn wrapped<T: Serialize>(items: Vec<T>) -> Result<Fields, ApiError> {
    #[derive(Serialize)]
    struct Rules<T> {
        #[serde(rename = "Rules")]
        rules: Listed<T>,
    }
    to_fields(Rules {
        rules: listed("Rule", items),
    })
}

fn missing(id: String) -> ApiError {
    ApiError::RuleNotFound(id)
}

pub async fn delete(context: &Context<'_>) -> Result<Fields, ApiError> {
    context.params.required("RuleIds")?;
    let ids: Vec<String> = context
        .params
        .ids("RuleIds")?
        .into_iter()
        .map(str::to_owned)
        .collect();
    if ids.is_empty() || ids.len() > MAX_PER_CALL {
        return Err(invalid(format!(
            "The specified RuleIds holds {} IDs: give 1 to {MAX_PER_CALL}.",
            ids.len()
        )));
    }
    // Every ID is found first, so that a missing one changes nothing.
    let mut holders: Vec<String> = Vec::new();
    for id in &ids {
        let holder = find(context, Lookup::Child(id, missing)).await?;
        if !holders.contains(&holder.id) {
            holders.push(holder.id);
        }
    }
    for holder in &holders {
        edit(context, Lookup::Id(holder), |load_balancer| {
            for listener in &mut load_balancer.listeners {
                listener.rules.retain(|rule| !ids.contains(&rule.id));
            }
            Ok(())
        })
        .await?;
    }
    Ok(Fields::new())
}

/// The rule `id`'s (listener, rule) indexes in the load balancer.
fn position(load_balancer: &LoadBalancer, id: &str) -> Result<(usize, usize), ApiError> {
    load_balancer
        .listeners
        .iter()
        .enumerate()
        .find_map(|(l, listener)| {
            let r = listener.rules.iter().position(|rule| rule.id == id)?;
            Some((l, r))
        })
        .ok_or_else(|| missing(id.to_owned()))
}

pub async fn set(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let limit = context.limits.load_balancers.rules_per_listener;
    let id = params.required("RuleId")?;
    let name = params.non_empty("RuleName").map(rule_name).transpose()?;
    let group = params.non_empty("VServerGroupId").map(str::to_owned);
    let mut given = BTreeMap::new();
    if let Some(sync) = params.non_empty("ListenerSync") {
        given.insert(
            "ListenerSync".to_owned(),
            settings::parse_value("ListenerSync", K::Enum(&["on", "off"]), sync)?,
        );
    }
    for (name, kind) in RULE_SETTINGS {
        if let Some(text) = params.non_empty(name) {
            given.insert(
                (*name).to_owned(),
                settings::parse_value(name, *kind, text)?,
            );
        }
    }
    edit(context, Lookup::Child(id, missing), |load_balancer| {
        let (l, r) = position(load_balancer, id)?;
        let mut rules = load_balancer.listeners[l].rules.clone();
        let rule = &mut rules[r];
        if let Some(name) = &name {
            rule.name = name.clone();
        }
        if let Some(group) = &group {
            rule.vserver_group_id = group.clone();
        }
        rule.settings.extend(given.clone());
        check(load_balancer, &rules, limit)?;
        load_balancer.listeners[l].rules = rules;
        Ok(())
    })
    .await?;
    Ok(Fields::new())
}

/// A rule as DescribeRules and DescribeRuleAttribute show it, with its own settings.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct RuleView<'a> {
    rule_id: &'a str,
    rule_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    domain: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<&'a str>,
    #[serde(rename = "VServerGroupId")]
    vserver_group_id: &'a str,
    #[serde(flatten)]
    settings: &'a BTreeMap<String, Setting>,
    #[serde(skip_serializing_if = "Option::is_none")]
    load_balancer_id: Option<&'a str>,
    /// A string, as Terraform and the V3 model read it.
    #[serde(skip_serializing_if = "Option::is_none")]
    listener_port: Option<String>,
}

fn view(rule: &Rule) -> RuleView<'_> {
    RuleView {
        rule_id: &rule.id,
        rule_name: &rule.name,
        domain: rule.domain.as_deref(),
        url: rule.url.as_deref(),
        vserver_group_id: &rule.vserver_group_id,
        settings: &rule.settings,
        load_balancer_id: None,
        listener_port: None,
    }
}

pub async fn describe(context: &Context<'_>) -> Result<Fields, ApiError> {
    let params = context.params;
    let id = params.required("LoadBalancerId")?;
    port(params)?;
    let load_balancer = find(context, Lookup::Id(id)).await?;
    let listener = &load_balancer.listeners[the_listener(&load_balancer, params)?];
    wrapped(listener.rules.iter().map(view).collect())
}

pub async fn attribute(context: &Context<'_>) -> Result<Fields, ApiError> {
    let id = context.params.required("RuleId")?;
    let load_balancer = find(context, Lookup::Child(id, missing)).await?;
    let (l, r) = position(&load_balancer, id)?;
    let listener = &load_balancer.listeners[l];
    to_fields(RuleView {
        load_balancer_id: Some(&load_balancer.id),
        listener_port: Some(listener.port.to_string()),
        ..view(&listener.rules[r])
    })
}
