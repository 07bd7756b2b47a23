//! Access control lists on running listeners: whether a client's address may connect at all.
//! Checked on accept, before any byte is read or proxied (no TLS handshake, no backend
//! connection), with the lists of the moment the listener's configuration was built; a change
//! of a list advances the load balancer generation, and the listener is rebuilt at once.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::cidr::Cidr;
use crate::store::acls::Acl;
use crate::store::load_balancers::{Listener, text};

/// Blocks of addresses as sorted, merged ranges (IPv4 and IPv6 apart): a lookup is a binary
/// search, whatever the number of entries (a linear scan of 1,000 entries cost a fifth of the
/// rate of new connections).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Blocks {
    v4: Vec<(u128, u128)>,
    v6: Vec<(u128, u128)>,
}

impl Blocks {
    pub fn new(blocks: &[Cidr]) -> Blocks {
        let merged = |mut ranges: Vec<(u128, u128)>| {
            ranges.sort_unstable();
            let mut out: Vec<(u128, u128)> = Vec::with_capacity(ranges.len());
            for (start, end) in ranges {
                match out.last_mut() {
                    Some(last) if start <= last.1.saturating_add(1) => last.1 = last.1.max(end),
                    _ => out.push((start, end)),
                }
            }
            out
        };
        let (v4, v6): (Vec<&Cidr>, Vec<&Cidr>) = blocks.iter().partition(|b| b.is_ipv4());
        Blocks {
            v4: merged(v4.iter().map(|b| b.range()).collect()),
            v6: merged(v6.iter().map(|b| b.range()).collect()),
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let (ranges, number) = match ip.to_canonical() {
            IpAddr::V4(ip) => (&self.v4, u128::from(u32::from(ip))),
            IpAddr::V6(ip) => (&self.v6, u128::from(ip)),
        };
        // The last range starting at or before the address.
        let after = ranges.partition_point(|(start, _)| *start <= number);
        after > 0 && ranges[after - 1].1 >= number
    }
}

/// A listener's filter of client addresses (`AclStatus=on`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SourceFilter {
    /// `white`: only addresses in a block; `black`: only addresses in none.
    Lists { white: bool, blocks: Blocks },
    /// The listener names a list that is not there (the store refuses this; a hand-edited
    /// database could still hold it): no one is let in.
    Closed,
}

impl SourceFilter {
    pub fn admits(&self, ip: IpAddr) -> bool {
        match self {
            SourceFilter::Lists { white, blocks } => blocks.contains(ip) == *white,
            SourceFilter::Closed => false,
        }
    }
}

/// The IDs a listener's `AclId` names (one ID, or a comma list).
fn named(listener: &Listener) -> Vec<&str> {
    text(&listener.settings, "AclId")
        .map(|ids| {
            ids.split(',')
                .map(str::trim)
                .filter(|id| !id.is_empty())
                .collect()
        })
        .unwrap_or_default()
}

/// What a client must pass to connect: the listener's access control lists and its legacy
/// whitelist, each if on (all of them, when both are).
pub fn filters_of(listener: &Listener, acls: &HashMap<&str, &Acl>) -> Vec<SourceFilter> {
    acl_filter(listener, acls)
        .into_iter()
        .chain(whitelist_filter(listener))
        .collect()
}

/// The legacy whitelist (`AccessControlStatus=open_white_list`, `SourceItems`); an empty one
/// lets everyone in, like an empty list.
fn whitelist_filter(listener: &Listener) -> Option<SourceFilter> {
    if text(&listener.settings, "AccessControlStatus") != Some("open_white_list") {
        return None;
    }
    let blocks: Vec<Cidr> = text(&listener.settings, "SourceItems")?
        .split(',')
        .filter_map(|item| Cidr::parse(item).ok())
        .collect();
    (!blocks.is_empty()).then(|| SourceFilter::Lists {
        white: true,
        blocks: Blocks::new(&blocks),
    })
}

/// The filter of a listener with `AclStatus=on`; `None` when it filters nothing, which is also
/// the case of lists with no entries at all (SLB: an empty list has no effect in either mode).
fn acl_filter(listener: &Listener, acls: &HashMap<&str, &Acl>) -> Option<SourceFilter> {
    if text(&listener.settings, "AclStatus") != Some("on") {
        return None;
    }
    let white = text(&listener.settings, "AclType") != Some("black");
    let mut blocks = Vec::new();
    for id in named(listener) {
        let Some(acl) = acls.get(id) else {
            return Some(SourceFilter::Closed);
        };
        blocks.extend(
            acl.entries
                .iter()
                .filter_map(|e| Cidr::parse(&e.entry).ok()),
        );
    }
    (!blocks.is_empty()).then(|| SourceFilter::Lists {
        white,
        blocks: Blocks::new(&blocks),
    })
}

/// What of the lists a listener's configuration depends on: a change rebuilds it.
pub fn source_of(listener: &Listener, acls: &HashMap<&str, &Acl>) -> String {
    named(listener)
        .iter()
        .map(|id| match acls.get(id) {
            Some(acl) => format!("{id}@{}", acl.revision),
            None => format!("{id}@missing"),
        })
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn blocks(list: &[&str]) -> Blocks {
        let cidrs: Vec<Cidr> = list
            .iter()
            .map(|b| Cidr::parse(b).expect("a block"))
            .collect();
        Blocks::new(&cidrs)
    }

    #[test]
    fn ranges_merge_and_find_every_address_a_scan_would() {
        let list = [
            "10.0.0.0/24",
            "10.0.1.0/24",
            "10.0.0.128/25",
            "192.0.2.7",
            "2001:db8::/32",
            "0.0.0.0/0",
        ];
        let probes = [
            "10.0.0.5",
            "10.0.1.255",
            "10.0.2.0",
            "192.0.2.7",
            "192.0.2.8",
            "2001:db8::1",
            "2001:db9::",
            "::ffff:10.0.0.1",
            "255.255.255.255",
        ];
        for take in 1..=list.len() {
            let cidrs: Vec<Cidr> = list[..take]
                .iter()
                .map(|b| Cidr::parse(b).unwrap())
                .collect();
            let ranges = Blocks::new(&cidrs);
            for probe in probes {
                let ip: IpAddr = probe.parse().unwrap();
                let scanned = cidrs.iter().any(|c| c.contains(ip));
                assert_eq!(
                    ranges.contains(ip),
                    scanned,
                    "{probe} in {:?}",
                    &list[..take]
                );
            }
        }
    }

    #[test]
    fn white_lists_admit_only_their_blocks_and_black_lists_all_others() {
        let white = SourceFilter::Lists {
            white: true,
            blocks: blocks(&["127.0.0.2/32", "10.0.0.0/8"]),
        };
        let black = SourceFilter::Lists {
            white: false,
            blocks: blocks(&["127.0.0.2/32"]),
        };
        let ip = |text: &str| text.parse::<IpAddr>().expect("an address");
        assert!(white.admits(ip("127.0.0.2")));
        assert!(white.admits(ip("10.9.8.7")));
        assert!(!white.admits(ip("127.0.0.3")));
        assert!(!black.admits(ip("127.0.0.2")));
        assert!(black.admits(ip("127.0.0.3")));
        // An IPv4 client on an IPv6 socket is judged by its IPv4 address.
        assert!(!black.admits(ip("::ffff:127.0.0.2")));
        assert!(!SourceFilter::Closed.admits(ip("127.0.0.2")));
    }
}
