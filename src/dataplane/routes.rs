//! Forwarding rules on running HTTP and HTTPS listeners: each rule is a pool of its own (its
//! VServer group's servers, with the listener's settings or, with `ListenerSync=off`, the
//! rule's), and a request goes to the pool of the rule its host and path match best, else to
//! the listener's own backends.
//!
//! Matching, as SLB documents it: an exact domain beats a wildcard one, and of two wildcards
//! the longer (more specific) wins; `*.a.com` matches any name under `a.com`, not `a.com`
//! itself. Among the rules of the best domain, the longest `Url` prefix of the path wins, then
//! a rule of that domain without a `Url`; when no domain rule matches, the longest prefix among
//! the rules without a domain.

use std::sync::Arc;

use super::runtime::ListenerRuntime;
use crate::store::load_balancers::{Rule, Setting, text};

pub struct Route {
    /// Lower case; `*.` first for a wildcard.
    pub domain: Option<String>,
    pub url: Option<String>,
    pub pool: Arc<ListenerRuntime>,
}

/// What a rule's pool is built from: the listener with the rule's group, and the rule's own
/// scheduler, stickiness and health check when it does not follow the listener's.
pub fn listener_of_rule(
    listener: &crate::store::load_balancers::Listener,
    rule: &Rule,
) -> crate::store::load_balancers::Listener {
    let mut own = listener.clone();
    own.rules.clear();
    own.settings.insert(
        "VServerGroupId".into(),
        Setting::Text(rule.vserver_group_id.clone()),
    );
    if text(&rule.settings, "ListenerSync") == Some("off") {
        for (name, value) in &rule.settings {
            own.settings.insert(name.clone(), value.clone());
        }
    }
    own
}

/// How well `domain` (lower case) matches `host` (any case): exact first, then wildcards by
/// length. Compared without allocating: this runs for every rule on every request.
fn rank(domain: &str, host: &str) -> Option<(u8, usize)> {
    match domain.strip_prefix("*.") {
        Some(suffix) => {
            let split = host.len().checked_sub(suffix.len() + 1)?;
            let under = split > 0
                && host.as_bytes()[split] == b'.'
                && host.as_bytes()[split + 1..].eq_ignore_ascii_case(suffix.as_bytes());
            under.then_some((1, suffix.len()))
        }
        None => domain
            .eq_ignore_ascii_case(host)
            .then_some((2, domain.len())),
    }
}

/// The rule among `candidates` whose `Url` is the longest prefix of `path`, else one without a
/// `Url`.
fn by_path<'a>(
    candidates: impl Iterator<Item = &'a Route> + Clone,
    path: &str,
) -> Option<&'a Route> {
    candidates
        .clone()
        .filter(|route| {
            route
                .url
                .as_ref()
                .is_some_and(|url| path.starts_with(url.as_str()))
        })
        .max_by_key(|route| route.url.as_ref().map_or(0, String::len))
        .or_else(|| candidates.into_iter().find(|route| route.url.is_none()))
}

/// The route of a request to `host` (without its port) and `path`, if a rule matches.
pub fn choose<'a>(routes: &'a [Route], host: Option<&str>, path: &str) -> Option<&'a Route> {
    if routes.is_empty() {
        return None;
    }
    if let Some(host) = host {
        let best = routes
            .iter()
            .filter_map(|route| Some((rank(route.domain.as_deref()?, host)?, route)))
            .map(|(rank, _)| rank)
            .max();
        if let Some(best) = best {
            let same = routes.iter().filter(move |route| {
                route.domain.as_deref().and_then(|d| rank(d, host)) == Some(best)
            });
            if let Some(route) = by_path(same, path) {
                return Some(route);
            }
        }
    }
    let domainless = routes.iter().filter(|route| route.domain.is_none());
    by_path(domainless, path).filter(|route| route.url.is_some())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn routes(specs: &[(Option<&str>, Option<&str>)]) -> Vec<Route> {
        specs
            .iter()
            .map(|(domain, url)| Route {
                domain: domain.map(str::to_owned),
                url: url.map(str::to_owned),
                pool: Arc::new(ListenerRuntime::for_tests()),
            })
            .collect()
    }

    fn chosen(routes: &[Route], host: &str, path: &str) -> Option<usize> {
        let route = choose(routes, Some(host), path)?;
        routes.iter().position(|r| std::ptr::eq(r, route))
    }

    #[test]
    fn exact_domains_beat_wildcards_and_longer_prefixes_win() {
        let table = routes(&[
            (Some("*.aliyun.com"), None),
            (Some("*.market.aliyun.com"), None),
            (Some("www.aliyun.com"), Some("/abc")),
            (Some("www.aliyun.com"), Some("/abcd")),
            (None, Some("/static")),
            (Some("www.aliyun.com"), None),
        ]);
        assert_eq!(chosen(&table, "info.market.aliyun.com", "/"), Some(1));
        assert_eq!(chosen(&table, "market.aliyun.com", "/"), Some(0));
        assert_eq!(chosen(&table, "WWW.aliyun.com", "/abcde"), Some(3));
        assert_eq!(chosen(&table, "www.aliyun.com", "/abx"), Some(5));
        assert_eq!(chosen(&table, "other.example", "/static/a.png"), Some(4));
        assert_eq!(chosen(&table, "other.example", "/"), None);
        // A wildcard does not match its own base name.
        assert_eq!(chosen(&table, "aliyun.com", "/"), None);
    }
}
