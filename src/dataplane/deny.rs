//! Addresses no load balancer may send traffic to (`serve --backend-deny`): link-local
//! metadata addresses by default, and always this server's own API and metrics addresses, which
//! a backend pointed at would turn into a relay that satisfies `acs:SourceIp` conditions.
//! The API refuses such backends; the data plane leaves out any it still finds.

use std::net::{IpAddr, SocketAddr};

pub use crate::cidr::Cidr;

/// `169.254.0.0/16`, `fe80::/10`.
pub const DEFAULT_DENIED: &str = "169.254.0.0/16,fe80::/10";

/// The denied blocks, and this server's own listening addresses.
#[derive(Clone, Debug, Default)]
pub struct BackendDeny {
    blocks: Vec<Cidr>,
    own: Vec<SocketAddr>,
}

impl BackendDeny {
    pub fn new(blocks: Vec<Cidr>, own: Vec<SocketAddr>) -> BackendDeny {
        BackendDeny { blocks, own }
    }

    /// Why a backend at `ip` (on `port`, where known) is refused, or `None`.
    pub fn refusal(&self, ip: IpAddr, port: Option<u16>) -> Option<String> {
        let ip = ip.to_canonical();
        if let Some(block) = self.blocks.iter().find(|block| block.contains(ip)) {
            return Some(format!("{ip} is in the denied block {block}"));
        }
        let own = self.own.iter().find(|own| {
            let same_host = own.ip().is_unspecified() || own.ip().to_canonical() == ip;
            same_host && port == Some(own.port())
        })?;
        Some(format!(
            "{ip}:{} is this server's own address ({own})",
            own.port()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deny() -> BackendDeny {
        let blocks = DEFAULT_DENIED
            .split(',')
            .map(|block| Cidr::parse(block).unwrap())
            .collect();
        let own = vec![
            "127.0.0.1:8080".parse().unwrap(),
            "0.0.0.0:9100".parse().unwrap(),
        ];
        BackendDeny::new(blocks, own)
    }

    #[test]
    fn refuses_metadata_and_own_addresses_only() {
        let deny = deny();
        let refused = |ip: &str, port| deny.refusal(ip.parse().unwrap(), port);
        assert!(refused("169.254.169.254", Some(80)).is_some());
        assert!(refused("::ffff:169.254.169.254", None).is_some());
        assert!(refused("fe80::1", Some(80)).is_some());
        assert!(refused("127.0.0.1", Some(8080)).is_some());
        assert!(refused("10.1.2.3", Some(9100)).is_some());
        assert!(refused("127.0.0.1", Some(8081)).is_none());
        assert!(refused("127.0.0.1", None).is_none());
        assert!(refused("169.253.255.255", Some(80)).is_none());
        assert!(refused("192.0.2.1", Some(8080)).is_none());
    }

    #[test]
    fn parses_blocks_and_refuses_nonsense() {
        assert_eq!(Cidr::parse("10.0.0.0/8").unwrap().to_string(), "10.0.0.0/8");
        assert_eq!(
            Cidr::parse("192.0.2.7").unwrap().to_string(),
            "192.0.2.7/32"
        );
        assert!(
            Cidr::parse("0.0.0.0/0")
                .unwrap()
                .contains("8.8.8.8".parse().unwrap())
        );
        for bad in ["10.0.0.0/33", "::/129", "nonsense", "10.0.0.0/x", ""] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
    }
}
