//! Calls the server makes to addresses its users chose (the broker's destinations, alert
//! webhooks): the host is resolved here, every address it has is checked, and the call
//! goes to the checked address, never through a proxy from the environment and never
//! following a redirect. Loopback, private, link-local and other non-public addresses are
//! refused unless the operator allows them, so a user cannot point the server at the
//! network behind it.

use std::net::SocketAddr;
use std::time::Duration;
use strongroom_core::broker::is_private_destination;
use strongroom_core::{Error, ErrorCode};

/// How long a name may take to resolve.
const LOOKUP_TIMEOUT: Duration = Duration::from_secs(10);

/// Resolves `host` and returns the address to call, refusing non-public addresses unless
/// `allow_private`. `caller` names who is calling, for the refusal ("the broker").
pub async fn resolve_checked(
    host: &str,
    port: u16,
    allow_private: bool,
    caller: &str,
) -> Result<SocketAddr, Error> {
    let unresolved = || Error::new(ErrorCode::Unavailable, format!("{host} does not resolve"));
    let lookup = tokio::net::lookup_host((host, port));
    let addrs: Vec<SocketAddr> = tokio::time::timeout(LOOKUP_TIMEOUT, lookup)
        .await
        .map_err(|_| unresolved())?
        .map_err(|_| unresolved())?
        .collect();
    let Some(first) = addrs.first().copied() else {
        return Err(unresolved());
    };
    if !allow_private && addrs.iter().any(|a| is_private_destination(a.ip())) {
        return Err(Error::new(
            ErrorCode::PermissionDenied,
            format!(
                "permission denied: {host} resolves to a loopback, private or link-local \
                 address, which {caller} does not call unless the operator allows it"
            ),
        ));
    }
    Ok(first)
}

/// A client that calls `host` only at `address`, through no proxy, following no
/// redirect.
pub fn pinned_client(
    host: &str,
    address: SocketAddr,
    timeout: Duration,
) -> Result<reqwest::Client, Error> {
    reqwest::Client::builder()
        .no_proxy()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(timeout)
        .resolve(host, address)
        .build()
        .map_err(|e| Error::internal(format!("outbound client: {e}")))
}

/// A URL as logs and lists show it: without its query (nor anything after the path),
/// which may hold a credential.
pub fn shown_url(url: &reqwest::Url) -> String {
    format!("{}://{}{}", url.scheme(), url.authority(), url.path())
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_shown_url_leaves_out_its_query() {
        let url = reqwest::Url::parse("https://hooks.example.com/in/abc?token=hunter2")
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(super::shown_url(&url), "https://hooks.example.com/in/abc");
    }
}
