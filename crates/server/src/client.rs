//! Who the client is (SECURITY.md 25): the peer's address, or, when the peer is a configured
//! trusted proxy, the address that proxy says it forwarded for.
//!
//! `X-Forwarded-For` and `Forwarded` are written by whoever sends the request, so they are
//! read only from a trusted peer, and then from the right: every proxy appends the address it
//! received from, so the right-most entry that is not one of our proxies is the first one that
//! no proxy of ours vouches for, i.e. the client. Anything left of it is the client's own
//! claim. Throttling, the session list and the audit log all use this address (handlers
//! take it with `extract::ClientAddr`).

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The client behind `peer`; see the module doc.
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let is_trusted = |address: &IpAddr| trusted.iter().any(|network| network.contains(address));
    let mut client = canonical(peer);
    if !is_trusted(&client) {
        return client;
    }
    for hop in forwarded_for(headers).into_iter().rev() {
        // A hop our proxy could not name ("unknown", garbage): stop at the last one it could.
        let Some(address) = hop else { break };
        client = canonical(address);
        if !is_trusted(&client) {
            break;
        }
    }
    client
}

/// The addresses a request was forwarded for, left to right: RFC 7239 `Forwarded` when
/// present, else `X-Forwarded-For`. `None` marks an entry that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let values = |name: &str| -> Vec<String> {
        headers.get_all(name).iter().filter_map(|value| value.to_str().ok()).map(str::to_owned).collect()
    };
    let forwarded = values("forwarded");
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .map(|element| {
                element
                    .split(';')
                    .filter_map(|pair| pair.split_once('='))
                    .find(|(name, _)| name.trim().eq_ignore_ascii_case("for"))
                    .and_then(|(_, node)| parse_node(node.trim().trim_matches('"')))
            })
            .collect();
    }
    values("x-forwarded-for")
        .iter()
        .flat_map(|value| value.split(','))
        .map(|hop| parse_node(hop.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn parse_node(node: &str) -> Option<IpAddr> {
    node.parse::<IpAddr>()
        .ok()
        .or_else(|| node.parse::<SocketAddr>().ok().map(|socket| socket.ip()))
        .or_else(|| node.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

/// IPv4 clients reaching a dual-stack socket show up as `::ffff:a.b.c.d`.
fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(address, IpAddr::V4),
        IpAddr::V4(_) => address,
    }
}

/// What throttling counts a client as: its IPv4 address, or its IPv6 /64, since one IPv6
/// subscriber is routinely given a whole /64 to pick addresses from.
pub fn network(address: IpAddr) -> IpNet {
    match canonical(address) {
        v4 @ IpAddr::V4(_) => IpNet::from(v4),
        v6 @ IpAddr::V6(_) => IpNet::new(v6, 64).map_or(IpNet::from(v6), |net| net.trunc()),
    }
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        pairs.iter().map(|(k, v)| (k.parse().expect("name"), HeaderValue::from_static(v))).collect()
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn proxies() -> Vec<IpNet> {
        vec!["10.0.0.0/8".parse().expect("net"), "2001:db8:ffff::/48".parse().expect("net")]
    }

    #[test]
    fn forwarding_headers_from_an_untrusted_peer_are_ignored() {
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.7"), ("forwarded", "for=198.51.100.8")]);
        assert_eq!(resolve(ip("203.0.113.9"), &spoofed, &proxies()), ip("203.0.113.9"));
        assert_eq!(resolve(ip("10.0.0.1"), &spoofed, &[]), ip("10.0.0.1"));
    }

    #[test]
    fn the_right_most_untrusted_hop_is_the_client() {
        let chain = headers(&[("x-forwarded-for", "6.6.6.6, 198.51.100.7, 10.1.1.1")]);
        assert_eq!(resolve(ip("10.0.0.1"), &chain, &proxies()), ip("198.51.100.7"));
        let split = headers(&[("x-forwarded-for", "6.6.6.6"), ("x-forwarded-for", "198.51.100.7:555")]);
        assert_eq!(resolve(ip("10.0.0.1"), &split, &proxies()), ip("198.51.100.7"));
    }

    #[test]
    fn forwarded_takes_precedence_and_is_parsed_with_quotes_ports_and_brackets() {
        let both = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("forwarded", r#"for=6.6.6.6, for="[2001:db8:1::17]:4711";proto=https, for=10.2.2.2"#),
        ]);
        assert_eq!(resolve(ip("10.0.0.1"), &both, &proxies()), ip("2001:db8:1::17"));
    }

    #[test]
    fn a_hop_that_is_not_an_address_stops_the_walk_at_our_proxy() {
        let garbage = headers(&[("x-forwarded-for", "198.51.100.7, unknown, 10.3.3.3")]);
        assert_eq!(resolve(ip("10.0.0.1"), &garbage, &proxies()), ip("10.3.3.3"));
        assert_eq!(resolve(ip("10.0.0.1"), &HeaderMap::new(), &proxies()), ip("10.0.0.1"));
    }

    #[test]
    fn ipv6_clients_count_by_their_64_and_mapped_ipv4_as_ipv4() {
        assert_eq!(network(ip("2001:db8:1:2:aaaa::1")), network(ip("2001:db8:1:2:bbbb::2")));
        assert_ne!(network(ip("2001:db8:1:2::1")), network(ip("2001:db8:1:3::1")));
        assert_eq!(network(ip("::ffff:192.0.2.1")), network(ip("192.0.2.1")));
        assert_ne!(network(ip("192.0.2.1")), network(ip("192.0.2.2")));
    }
}
