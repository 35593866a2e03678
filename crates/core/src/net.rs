//! Who a request comes from, when M-Station runs behind reverse proxies: the peer of the
//! connection is then the proxy, and the client is in `X-Forwarded-For`. The header is believed
//! only as far as it was written by proxies the operator trusts, so a client cannot name
//! itself someone else (and escape the sign-in limiter) by sending the header.

use std::net::IpAddr;
use std::str::FromStr;

/// An address, or a network in CIDR notation (`10.0.0.0/8`, `fd00::/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl FromStr for Cidr {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (addr, prefix) = match s.trim().split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (s.trim(), None),
        };
        let addr: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{s}` is not an address or a network such as 10.0.0.0/8"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{s}`: the prefix length must be 0 to {max}"))?,
        };
        // `::ffff:10.0.0.0/104` is `10.0.0.0/8`.
        match addr {
            IpAddr::V6(v6) if v6.to_ipv4_mapped().is_some() && prefix >= 96 => Ok(Cidr {
                addr: canonical(addr),
                prefix: prefix - 96,
            }),
            _ => Ok(Cidr { addr, prefix }),
        }
    }
}

impl Cidr {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                same_prefix(&net.octets(), &ip.octets(), self.prefix)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                same_prefix(&net.octets(), &ip.octets(), self.prefix)
            }
            _ => false,
        }
    }
}

/// An IPv4 address written as IPv6 (`::ffff:10.0.0.1`, as a dual-stack listener reports it)
/// is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

fn same_prefix(a: &[u8], b: &[u8], bits: u8) -> bool {
    let (whole, rest) = ((bits / 8) as usize, bits % 8);
    if a[..whole] != b[..whole] {
        return false;
    }
    rest == 0 || (a[whole] ^ b[whole]) >> (8 - rest) == 0
}

/// The client of a request that arrived from `peer` carrying `forwarded_for`: `peer` itself
/// unless it is a trusted proxy; then, reading the header from its end (the hop the nearest
/// proxy added), the first address that is not a trusted proxy. A hop that does not parse
/// ends the walk at the last trusted proxy before it, so a forged or broken header can only
/// ever name a proxy, never an arbitrary client.
pub fn client_address(peer: IpAddr, forwarded_for: Option<&str>, trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = canonical(peer);
    for hop in forwarded_for.unwrap_or("").rsplit(',') {
        let Some(ip) = hop_address(hop) else {
            break;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// The client a limit counts: an IPv4 address, or the /64 network of an IPv6 one (one home or
/// one server is given a whole /64, and can move inside it at will).
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let net = std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0);
            format!("{net}/64")
        }
        v4 => v4.to_string(),
    }
}

/// One hop of `X-Forwarded-For` as an address: bare (`192.0.2.1`, `2001:db8::1`), with a port
/// (`192.0.2.1:4711`, `[2001:db8::1]:4711`, as some proxies write it) or bracketed; IPv4 written
/// as IPv6 is the IPv4 address. `None` for anything else (`unknown`, an obfuscated name).
fn hop_address(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim();
    let ip = hop
        .parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<std::net::SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            hop.strip_prefix('[')
                .and_then(|h| h.strip_suffix(']'))
                .and_then(|h| h.parse().ok())
        })?;
    Some(canonical(ip))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(list: &[&str]) -> Vec<Cidr> {
        list.iter().map(|s| s.parse().unwrap()).collect()
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64() {
        assert_eq!(limit_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            limit_key(ip("2001:db8:1:2:ffff::9")),
            limit_key(ip("2001:db8:1:2::7"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:3::1")),
            limit_key(ip("2001:db8:1:2::1"))
        );
        assert_eq!(limit_key(ip("198.51.100.1")), "198.51.100.1");
        assert_eq!(limit_key(ip("::ffff:198.51.100.1")), "198.51.100.1");
    }

    #[test]
    fn networks_hold_their_addresses() {
        let n: Cidr = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.255.1.2")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.1.2.3")), "IPv4 written as IPv6");
        let n: Cidr = "192.168.4.0/22".parse().unwrap();
        assert!(n.contains(ip("192.168.7.255")) && !n.contains(ip("192.168.8.0")));
        let one: Cidr = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
        let v6: Cidr = "fd00::/8".parse().unwrap();
        assert!(v6.contains(ip("fd12::1")) && !v6.contains(ip("fe80::1")));
        let mapped: Cidr = "::ffff:10.0.0.0/104".parse().unwrap();
        assert!(mapped.contains(ip("10.9.9.9")) && !mapped.contains(ip("11.0.0.1")));
        let all: Cidr = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("8.8.8.8")) && !all.contains(ip("::1")));
        for bad in [
            "10.0.0.0/33",
            "::/129",
            "10.0.0/8",
            "example.com",
            "10.0.0.0/x",
            "",
        ] {
            assert!(bad.parse::<Cidr>().is_err(), "{bad}");
        }
    }

    #[test]
    fn the_client_is_the_first_hop_the_trusted_proxies_did_not_write() {
        let proxies = nets(&["10.0.0.0/8", "127.0.0.1"]);
        let peer = ip("10.0.0.2");
        // Not behind a trusted proxy: the header is the client's own word, and ignored.
        assert_eq!(
            client_address(ip("203.0.113.9"), Some("198.51.100.1"), &proxies),
            ip("203.0.113.9")
        );
        // One proxy: the address it added.
        assert_eq!(
            client_address(peer, Some("198.51.100.1"), &proxies),
            ip("198.51.100.1")
        );
        // The client wrote a header of its own: what the proxy appended wins.
        assert_eq!(
            client_address(peer, Some("1.2.3.4, 198.51.100.1"), &proxies),
            ip("198.51.100.1")
        );
        // Two proxies in a chain.
        assert_eq!(
            client_address(peer, Some("198.51.100.1, 10.0.0.9"), &proxies),
            ip("198.51.100.1")
        );
        // A broken hop stops the walk at the proxy that passed it on.
        assert_eq!(
            client_address(peer, Some("198.51.100.1, junk, 10.0.0.9"), &proxies),
            ip("10.0.0.9")
        );
        // No header, or only proxies: the nearest trusted address.
        assert_eq!(client_address(peer, None, &proxies), peer);
        assert_eq!(
            client_address(peer, Some("10.1.1.1"), &proxies),
            ip("10.1.1.1")
        );
        // Hops with ports or brackets, and IPv4 written as IPv6, are the same clients.
        assert_eq!(
            client_address(peer, Some("198.51.100.1:4711"), &proxies),
            ip("198.51.100.1")
        );
        assert_eq!(
            client_address(peer, Some("[2001:db8::7]:443"), &proxies),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_address(peer, Some("[2001:db8::7]"), &proxies),
            ip("2001:db8::7")
        );
        assert_eq!(
            client_address(peer, Some("::ffff:198.51.100.1"), &proxies),
            ip("198.51.100.1")
        );
        assert_eq!(client_address(peer, Some("unknown"), &proxies), peer);
        // No proxy trusted at all: always the peer.
        assert_eq!(client_address(peer, Some("198.51.100.1"), &[]), peer);
    }
}
