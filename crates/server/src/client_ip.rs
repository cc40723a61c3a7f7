//! Where a request comes from. The socket's peer, unless the operator named trusted
//! proxies: then, for a request arriving from one of them, the nearest address in
//! `X-Forwarded-For` that is not itself a trusted proxy. Everything that judges a source
//! address (allowlists, policies, tokens' ranges, audit entries, throttles) reads this.

use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use strongroom_core::network::{self, CidrRange};

/// The request's client address, as resolved once per request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

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

fn client_address(peer: IpAddr, headers: &axum::http::HeaderMap, trusted: &[CidrRange]) -> IpAddr {
    if !network::any_contains(trusted, peer) {
        return peer;
    }
    let mut hops = Vec::new();
    for value in headers.get_all("x-forwarded-for") {
        let Ok(text) = value.to_str() else {
            return peer;
        };
        for hop in text.split(',') {
            match hop.trim().parse::<IpAddr>() {
                Ok(ip) => hops.push(network::canonical(ip)),
                Err(_) => return peer,
            }
        }
    }
    hops.iter()
        .rev()
        .find(|hop| !network::any_contains(trusted, **hop))
        .or(hops.first())
        .copied()
        .unwrap_or(peer)
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
            ip("192.0.2.1")
        );
    }

    #[test]
    fn a_header_from_an_untrusted_peer_is_ignored() {
        let headers = forwarded("203.0.113.9");
        assert_eq!(
            client_address(ip("192.0.2.1"), &headers, &trusted()),
            ip("192.0.2.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_nearest_untrusted_hop_is_the_client() {
        // The client may put anything on the left; only hops added by trusted proxies count.
        let headers = forwarded("198.51.100.1, 203.0.113.9, 10.1.1.1");
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers, &trusted()),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn a_malformed_header_falls_back_to_the_socket() {
        let headers = forwarded("not-an-address");
        assert_eq!(
            client_address(ip("10.0.0.2"), &headers, &trusted()),
            ip("10.0.0.2")
        );
    }
}
