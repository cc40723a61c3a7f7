//! Source addresses: the CIDR ranges that tokens, access policies and a vault's IP
//! allowlist admit requests from.

use crate::error::{Error, ErrorCode};
use ipnet::IpNet;
use std::fmt;
use std::net::IpAddr;
use std::str::FromStr;

/// One range of addresses, IPv4 or IPv6; a bare address is a range of one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct CidrRange(IpNet);

impl CidrRange {
    /// Whether `ip` is in the range. An IPv4 address seen as IPv6 (`::ffff:a.b.c.d`, as a
    /// dual-stack socket reports it) is matched as IPv4.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.contains(&canonical(ip))
    }
}

/// The address with IPv4-mapped IPv6 addresses turned back into IPv4.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

impl FromStr for CidrRange {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let net = match s.parse::<IpNet>() {
            Ok(net) => net,
            Err(_) => s.parse::<IpAddr>().map(IpNet::from).map_err(|_| {
                Error::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "{s:?} is not an address range: write it as CIDR, e.g. 203.0.113.0/24 \
                         or 2001:db8::/32, or as one address"
                    ),
                )
            })?,
        };
        Ok(Self(net.trunc()))
    }
}

impl fmt::Display for CidrRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Whether `ip` is in any of `ranges`.
pub fn any_contains(ranges: &[CidrRange], ip: IpAddr) -> bool {
    ranges.iter().any(|r| r.contains(ip))
}

/// Parses a stored or given list of ranges (comma-separated).
pub fn parse_list(text: &str) -> Result<Vec<CidrRange>, Error> {
    text.split(',')
        .filter(|s| !s.trim().is_empty())
        .map(str::parse)
        .collect()
}

/// The storage form of a list of ranges.
pub fn format_list(ranges: &[CidrRange]) -> String {
    ranges
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(s: &str) -> CidrRange {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_range_holds_the_addresses_of_its_prefix_only() {
        let r = range("10.1.0.0/16");
        assert!(r.contains(ip("10.1.200.3")));
        assert!(!r.contains(ip("10.2.0.1")));
        assert!(range("2001:db8::/32").contains(ip("2001:db8::1")));
    }

    #[test]
    fn a_bare_address_is_a_range_of_one_and_host_bits_are_dropped() {
        assert!(range("192.0.2.7").contains(ip("192.0.2.7")));
        assert!(!range("192.0.2.7").contains(ip("192.0.2.8")));
        assert_eq!(range("10.1.2.3/8").to_string(), "10.0.0.0/8");
    }

    #[test]
    fn ipv4_addresses_seen_as_ipv6_match_ipv4_ranges() {
        assert!(range("127.0.0.0/8").contains(ip("::ffff:127.0.0.1")));
    }

    #[test]
    fn anything_else_is_refused_with_an_example() {
        for bad in ["", "10.0.0.0/33", "example.com", "10.0.0/8"] {
            let e = bad.parse::<CidrRange>().err().map(|e| e.to_string());
            assert!(e.is_some_and(|m| m.contains("CIDR")), "{bad}");
        }
    }
}
