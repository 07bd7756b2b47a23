//! The addresses load balancers are given: a pool from a CIDR block, and the rules both stores
//! allocate by (the lowest free one, or the one a client asked for).

use std::net::Ipv4Addr;

use super::StoreError;

/// Addresses handed out to load balancers, inclusive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressPool {
    pub first: Ipv4Addr,
    pub last: Ipv4Addr,
}

impl AddressPool {
    /// `a.b.c.d/n`: its host addresses (all of a /31 or /32).
    pub fn from_cidr(text: &str) -> Result<AddressPool, String> {
        let (address, length) = text
            .split_once('/')
            .ok_or_else(|| format!("{text:?} is not a CIDR block like 127.18.0.0/16"))?;
        let address: Ipv4Addr = address
            .parse()
            .map_err(|_| format!("{address:?} is not an IPv4 address"))?;
        let length: u32 = length
            .parse()
            .ok()
            .filter(|length| *length <= 32)
            .ok_or_else(|| format!("{length:?} is not a prefix length from 0 to 32"))?;
        let mask = u32::MAX.checked_shl(32 - length).unwrap_or(0);
        let network = u32::from(address) & mask;
        let broadcast = network | !mask;
        let (first, last) = if length >= 31 {
            (network, broadcast)
        } else {
            (network + 1, broadcast - 1)
        };
        Ok(AddressPool {
            first: Ipv4Addr::from(first),
            last: Ipv4Addr::from(last),
        })
    }

    /// The lowest address of the pool that `taken` (the pool's held addresses, ascending)
    /// leaves free: the rule both stores allocate by.
    pub(crate) fn lowest_free(
        self,
        taken: impl IntoIterator<Item = u32>,
    ) -> Result<Ipv4Addr, StoreError> {
        let (first, last) = (u32::from(self.first), u32::from(self.last));
        let mut candidate = u64::from(first);
        for held in taken {
            let held = u64::from(held);
            if held > candidate {
                break;
            }
            candidate = candidate.max(held + 1);
        }
        match u32::try_from(candidate) {
            Ok(free) if free <= last => Ok(Ipv4Addr::from(free)),
            _ => Err(StoreError::Exhausted("address")),
        }
    }

    /// An address a client asked for: in the pool and not `taken`, else `Conflict`.
    pub(crate) fn grant(self, wanted: Ipv4Addr, taken: bool) -> Result<Ipv4Addr, StoreError> {
        if !(self.first..=self.last).contains(&wanted) || taken {
            return Err(StoreError::Conflict("address"));
        }
        Ok(wanted)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_the_host_addresses_of_a_block() {
        let pool = AddressPool::from_cidr("127.18.0.0/16").unwrap();
        assert_eq!(pool.first, Ipv4Addr::new(127, 18, 0, 1));
        assert_eq!(pool.last, Ipv4Addr::new(127, 18, 255, 254));
        let single = AddressPool::from_cidr("127.0.0.9/32").unwrap();
        assert_eq!(
            (single.first, single.last),
            (single.first, Ipv4Addr::new(127, 0, 0, 9))
        );
        for bad in ["127.0.0.1", "127.0.0.0/33", "x/8", "127.0.0.0/-1"] {
            assert!(AddressPool::from_cidr(bad).is_err(), "{bad}");
        }
    }

    fn pool(first: &str, last: &str) -> AddressPool {
        AddressPool {
            first: first.parse().unwrap(),
            last: last.parse().unwrap(),
        }
    }

    #[test]
    fn the_lowest_free_address_fills_gaps_and_ends_at_the_pool_s_end() {
        let small = pool("10.0.0.1", "10.0.0.3");
        let n = |text: &str| u32::from(text.parse::<Ipv4Addr>().unwrap());
        assert_eq!(small.lowest_free([]).unwrap().to_string(), "10.0.0.1");
        let gap = [n("10.0.0.1"), n("10.0.0.3")];
        assert_eq!(small.lowest_free(gap).unwrap().to_string(), "10.0.0.2");
        let full = [n("10.0.0.1"), n("10.0.0.2"), n("10.0.0.3")];
        assert!(matches!(
            small.lowest_free(full),
            Err(StoreError::Exhausted(_))
        ));
        // The very top of the address space does not wrap around.
        let top = pool("255.255.255.255", "255.255.255.255");
        assert!(top.lowest_free([u32::MAX]).is_err());
        assert_eq!(top.lowest_free([]).unwrap(), Ipv4Addr::BROADCAST);
    }

    #[test]
    fn a_wanted_address_must_be_in_the_pool_and_free() {
        let small = pool("10.0.0.1", "10.0.0.3");
        let wanted: Ipv4Addr = "10.0.0.2".parse().unwrap();
        assert_eq!(small.grant(wanted, false).unwrap(), wanted);
        assert!(small.grant(wanted, true).is_err());
        assert!(small.grant("10.0.0.9".parse().unwrap(), false).is_err());
    }
}
