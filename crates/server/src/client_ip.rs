//! Where a request comes from. The socket's peer, unless the operator named trusted
//! proxies: then, for a request arriving from one of them, the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. A hop that does not parse before
//! that address is found makes the address unknown, which every range check refuses:
//! the left of the header is the client's to write. Everything that judges a source
//! address (allowlists, policies, tokens' ranges, audit entries, throttles) reads this.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use strongroom_core::network::{self, CidrRange};

/// The request's client address, as resolved once per request (`None`: unknown).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub Option<IpAddr>);

/// The middleware: puts a [`ClientIp`] on every request that came over a socket.
pub async fn resolve(
    State(trusted): State<Arc<Vec<CidrRange>>>,
    mut request: Request,
    next: Next,
) -> Response {
    let peer = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| network::canonical(addr.ip()));
    if let Some(peer) = peer {
        let ip = client_address(peer, request.headers(), &trusted);
        request.extensions_mut().insert(ClientIp(ip));
    }
    next.run(request).await
}

fn client_address(
    peer: IpAddr,
    headers: &axum::http::HeaderMap,
    trusted: &[CidrRange],
) -> Option<IpAddr> {
    if !network::any_contains(trusted, peer) {
        return Some(peer);
    }
    let mut hops: Vec<&str> = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        hops.extend(value.to_str().ok()?.split(','));
    }
    // From the nearest hop outwards: trusted proxies are skipped; the first other hop is
    // the client, and one that does not parse leaves it unknown.
    let mut nearest_trusted = peer;
    for hop in hops.iter().rev() {
        let ip = network::canonical(hop.trim().parse::<IpAddr>().ok()?);
        if !network::any_contains(trusted, ip) {
            return Some(ip);
        }
        nearest_trusted = ip;
    }
    // Every hop is a trusted proxy: the farthest one is where the request began.
    Some(nearest_trusted)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{HeaderMap, HeaderValue};

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn forwarded(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            HeaderValue::from_str(value).unwrap_or_else(|e| panic!("{e}")),
        );
        headers
    }

    fn trusted() -> Vec<CidrRange> {
        vec!["10.0.0.0/8".parse().unwrap_or_else(|e| panic!("{e}"))]
    }

    #[test]
    fn without_trusted_proxies_the_socket_decides() {
        let headers = forwarded("203.0.113.9");
        assert_eq!(
            client_address(ip("192.0.2.1"), &headers, &[]),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let headers = forwarded("203.0.113.9");
        assert_eq!(
            client_address(ip("192.0.2.1"), &headers, &trusted()),
            Some(ip("192.0.2.1"))
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        // The client may put anything on the left; only hops added by trusted proxies count.
        let headers = forwarded("198.51.100.1, 203.0.113.9, 10.1.1.1");
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers, &trusted()),
            Some(ip("203.0.113.9"))
        );
    }

    #[test]
    fn a_hop_that_does_not_parse_leaves_the_address_unknown_never_the_proxys() {
        // A client sending "X-Forwarded-For: x" must not pass as the proxy itself.
        for header in ["x, 203.0.113.9", "not-an-address", "203.0.113.9:4431"] {
            let headers = forwarded(header);
            let found = client_address(ip("10.0.0.2"), &headers, &trusted());
            assert!(found != Some(ip("10.0.0.2")), "{header}: {found:?}");
        }
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded("x, 203.0.113.9"), &trusted()),
            Some(ip("203.0.113.9"))
        );
        assert_eq!(
            client_address(ip("10.0.0.2"), &forwarded("203.0.113.9, x"), &trusted()),
            None
        );
    }

    #[test]
    fn without_a_header_a_trusted_peer_is_the_client() {
        assert_eq!(
            client_address(ip("10.0.0.2"), &HeaderMap::new(), &trusted()),
            Some(ip("10.0.0.2"))
        );
    }
}
