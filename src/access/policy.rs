//! RAM policy documents: parsed once into statements, then matched against requests.
//!
//! The grammar is RAM's (`Version` "1", `Statement` with `Effect`, `Action`/`NotAction`,
//! `Resource`/`NotResource`, `Condition`, and `Principal` in trust policies). Evaluation is
//! RAM's too: an explicit Deny wins, an Allow is needed, and nothing matching means no.

use serde_json::Value;

use super::conditions::{Condition, Facts};
pub use super::syntax::{PolicyError, wildcard_match};
use super::syntax::{malformed, strings};

/// Longest permission policy document RAM takes, in characters.
pub const MAX_DOCUMENT_CHARS: usize = 6144;
/// Longest inline policy of an AssumeRole, in characters.
pub const MAX_SESSION_POLICY_CHARS: usize = 1024;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Effect {
    Allow,
    Deny,
}

/// Patterns a value must match (`Action`, `Resource`) or must not (`NotAction`, ...).
#[derive(Clone, Debug, PartialEq, Eq)]
enum Patterns {
    Any(Vec<String>),
    NoneOf(Vec<String>),
}

impl Patterns {
    fn matches(&self, value: &str, fold_case: bool) -> bool {
        let hit = |patterns: &[String]| {
            patterns.iter().any(|pattern| {
                if fold_case {
                    wildcard_match(&pattern.to_ascii_lowercase(), &value.to_ascii_lowercase())
                } else {
                    wildcard_match(pattern, value)
                }
            })
        };
        match self {
            Patterns::Any(patterns) => hit(patterns),
            Patterns::NoneOf(patterns) => !hit(patterns),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
struct Statement {
    effect: Effect,
    actions: Patterns,
    /// `None` in trust policies, which name principals instead.
    resources: Option<Patterns>,
    /// `Principal.RAM` of a trust policy.
    ram_principals: Vec<String>,
    conditions: Vec<Condition>,
}

/// A parsed policy document.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    statements: Vec<Statement>,
}

/// What a set of policies says about one request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decision {
    Allow,
    /// An explicit Deny matched.
    Deny,
    /// Nothing matched: no.
    Unmatched,
}

/// The question a request asks: may `action` act on `resource`, given these facts.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// `service:Action`, e.g. `slb:UploadServerCertificate`.
    pub action: &'a str,
    /// The ARN of what it acts on.
    pub resource: &'a str,
    pub facts: &'a Facts,
}

impl Policy {
    /// A permission policy: every statement names resources.
    pub fn permission(text: &str, max_chars: usize) -> Result<Policy, PolicyError> {
        Self::parse(text, max_chars, false)
    }

    /// A role's trust policy: statements name principals, and `sts:AssumeRole`.
    pub fn trust(text: &str) -> Result<Policy, PolicyError> {
        Self::parse(text, MAX_DOCUMENT_CHARS, true)
    }

    fn parse(text: &str, max_chars: usize, trust: bool) -> Result<Policy, PolicyError> {
        let chars = text.chars().count();
        if chars > max_chars {
            return Err(malformed(format!(
                "the document is {chars} characters long; at most {max_chars} are allowed"
            )));
        }
        let document: Value = serde_json::from_str(text)
            .map_err(|error| malformed(format!("the document is not JSON: {error}")))?;
        let object = document
            .as_object()
            .ok_or_else(|| malformed("the document must be a JSON object"))?;
        for key in object.keys() {
            if key != "Version" && key != "Statement" {
                return Err(malformed(format!("unknown element {key:?}")));
            }
        }
        match object.get("Version") {
            Some(Value::String(version)) if version == "1" => {}
            _ => return Err(malformed("\"Version\" must be \"1\"")),
        }
        let statements = match object.get("Statement") {
            Some(Value::Array(items)) if !items.is_empty() => items.iter().collect::<Vec<_>>(),
            Some(item @ Value::Object(_)) => vec![item],
            _ => return Err(malformed("\"Statement\" must be a non-empty list")),
        };
        let statements = statements
            .into_iter()
            .enumerate()
            .map(|(index, statement)| {
                Statement::parse(statement, trust).map_err(|PolicyError(detail)| {
                    malformed(format!("Statement {}: {detail}", index + 1))
                })
            })
            .collect::<Result<_, _>>()?;
        Ok(Policy { statements })
    }

    /// What this policy says about `request`.
    pub fn decide(&self, request: &Request<'_>) -> Decision {
        decide(std::iter::once(self), request)
    }

    /// Whether this trust policy lets `principal_arns` (the caller's ARNs, most specific
    /// first) assume the role.
    pub fn trusts(&self, principal_arns: &[String], facts: &Facts) -> bool {
        let mut allowed = false;
        for statement in &self.statements {
            let names_caller = statement.ram_principals.iter().any(|pattern| {
                principal_arns
                    .iter()
                    .any(|arn| wildcard_match(pattern, arn))
            });
            if !names_caller
                || !statement.actions.matches("sts:AssumeRole", true)
                || !statement.conditions.iter().all(|c| c.holds(facts))
            {
                continue;
            }
            match statement.effect {
                Effect::Deny => return false,
                Effect::Allow => allowed = true,
            }
        }
        allowed
    }
}

/// What `policies` together say about `request`: any explicit Deny wins, then any Allow.
pub fn decide<'p>(
    policies: impl IntoIterator<Item = &'p Policy>,
    request: &Request<'_>,
) -> Decision {
    let mut decision = Decision::Unmatched;
    for policy in policies {
        for statement in &policy.statements {
            if !statement.applies(request) {
                continue;
            }
            match statement.effect {
                Effect::Deny => return Decision::Deny,
                Effect::Allow => decision = Decision::Allow,
            }
        }
    }
    decision
}

impl Statement {
    fn parse(value: &Value, trust: bool) -> Result<Statement, PolicyError> {
        let object = value
            .as_object()
            .ok_or_else(|| malformed("a statement must be a JSON object"))?;
        const KNOWN: &[&str] = &[
            "Effect",
            "Action",
            "NotAction",
            "Resource",
            "NotResource",
            "Condition",
            "Principal",
            "Sid",
        ];
        if let Some(key) = object.keys().find(|key| !KNOWN.contains(&key.as_str())) {
            return Err(malformed(format!("unknown element {key:?}")));
        }
        let effect = match object.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => return Err(malformed("\"Effect\" must be \"Allow\" or \"Deny\"")),
        };
        let actions = patterns(object, "Action", "NotAction")?
            .ok_or_else(|| malformed("\"Action\" is missing"))?;
        for action in match &actions {
            Patterns::Any(list) | Patterns::NoneOf(list) => list,
        } {
            if action != "*" && !action.contains(':') {
                return Err(malformed(format!(
                    "action {action:?} is not of the form service:Action"
                )));
            }
        }
        let resources = patterns(object, "Resource", "NotResource")?;
        let ram_principals = match object.get("Principal") {
            None => Vec::new(),
            Some(Value::Object(kinds)) if trust => {
                let mut ram = Vec::new();
                for (kind, names) in kinds {
                    let names = strings(names, "Principal")?;
                    match kind.as_str() {
                        "RAM" => ram.extend(names),
                        // Services and identity providers exist, but never call here.
                        "Service" | "Federated" => {}
                        other => {
                            return Err(malformed(format!("unknown principal kind {other:?}")));
                        }
                    }
                }
                ram
            }
            Some(_) if trust => return Err(malformed("\"Principal\" must be an object")),
            Some(_) => return Err(malformed("\"Principal\" belongs in trust policies only")),
        };
        if trust && object.get("Principal").is_none() {
            return Err(malformed(
                "a trust policy statement must name a \"Principal\"",
            ));
        }
        if !trust && resources.is_none() {
            return Err(malformed("\"Resource\" is missing"));
        }
        let conditions = match object.get("Condition") {
            None => Vec::new(),
            Some(block) => Condition::parse_block(block)?,
        };
        Ok(Statement {
            effect,
            actions,
            resources,
            ram_principals,
            conditions,
        })
    }

    fn applies(&self, request: &Request<'_>) -> bool {
        // The service prefix and action name are case-insensitive, as RAM's are.
        self.actions.matches(request.action, true)
            && self
                .resources
                .as_ref()
                .is_some_and(|resources| resources.matches(request.resource, false))
            && self.conditions.iter().all(|c| c.holds(request.facts))
    }
}

fn patterns(
    object: &serde_json::Map<String, Value>,
    positive: &str,
    negative: &str,
) -> Result<Option<Patterns>, PolicyError> {
    match (object.get(positive), object.get(negative)) {
        (Some(_), Some(_)) => Err(malformed(format!(
            "\"{positive}\" and \"{negative}\" cannot both be given"
        ))),
        (Some(value), None) => Ok(Some(Patterns::Any(strings(value, positive)?))),
        (None, Some(value)) => Ok(Some(Patterns::NoneOf(strings(value, negative)?))),
        (None, None) => Ok(None),
    }
}
