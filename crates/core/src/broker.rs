//! The `use` broker's rules, free of I/O: where a secret may be sent (its declared
//! destination), how it is presented (a header built from a template), what an agent may
//! not set on the way out, and scrubbing the value from whatever comes back. Changing a
//! destination needs reveal on the secret: otherwise write access alone could send the
//! value to a host of one's choosing.

use crate::error::{Error, ErrorCode};
use std::net::IpAddr;

/// Where a secret may be used, and how it travels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UseDeclaration {
    /// `https` (or `http`, only where the operator allows private destinations).
    pub scheme: String,
    /// Host name or address, lower case.
    pub host: String,
    /// Port, when not the scheme's default.
    pub port: Option<u16>,
    /// The header the value travels in, e.g. `Authorization`.
    pub header: String,
    /// The header's value, with `{value}` where the secret goes.
    pub format: String,
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidValue, message)
}

/// Headers an agent may not set: they belong to the connection, could carry the request
/// elsewhere, or would get the answer back in a form the value cannot be scrubbed from
/// (compressed, or in slices).
const FORBIDDEN_HEADERS: [&str; 15] = [
    "accept-encoding",
    "range",
    "if-range",
    "te",
    "host",
    "connection",
    "content-length",
    "transfer-encoding",
    "trailer",
    "upgrade",
    "keep-alive",
    "proxy-authorization",
    "proxy-authenticate",
    "proxy-connection",
    "expect",
];

/// Whether an agent may set header `name` on a brokered request.
pub fn agent_may_set(name: &str) -> bool {
    !FORBIDDEN_HEADERS.contains(&name.to_ascii_lowercase().as_str())
}

fn valid_header_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl UseDeclaration {
    /// Parses a destination (`api.stripe.com`, `https://api.example.com:8443`,
    /// `http://127.0.0.1:9000`) with the header and format the value travels in.
    pub fn parse(destination: &str, header: &str, format: &str) -> Result<Self, Error> {
        let destination = destination.trim();
        let (scheme, authority) = match destination.split_once("://") {
            Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
            None => ("https".to_owned(), destination),
        };
        if scheme != "https" && scheme != "http" {
            return Err(invalid(format!(
                "destination {destination:?}: the scheme must be https (or http)"
            )));
        }
        let bad = || {
            invalid(format!(
                "destination {destination:?} must be a host, optionally with a port \
                 (api.example.com or api.example.com:8443), without a path"
            ))
        };
        if authority.is_empty()
            || authority.contains(['/', '?', '#', '@', ' '])
            || authority.len() > 255
        {
            return Err(bad());
        }
        let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
            let (host, after) = rest.split_once(']').ok_or_else(bad)?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse::<u16>().map_err(|_| bad())?),
                None if after.is_empty() => None,
                None => return Err(bad()),
            };
            (host.to_owned(), port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (
                    host.to_owned(),
                    Some(port.parse::<u16>().map_err(|_| bad())?),
                ),
                None => (authority.to_owned(), None),
            }
        };
        let host = host.to_ascii_lowercase();
        // A name whose last label looks numeric is an address to some parsers and a name to
        // others (`0x7f.1`, `127.1`): only real addresses and real names pass.
        let last_label_numeric = host
            .rsplit('.')
            .next()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()) || l.starts_with("0x"));
        let host_ok = host.parse::<IpAddr>().is_ok()
            || (!host.is_empty()
                && !last_label_numeric
                && host.split('.').all(|l| {
                    !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                }));
        if !host_ok {
            return Err(bad());
        }
        if !valid_header_name(header) || !agent_may_set(header) {
            return Err(invalid(format!(
                "header {header:?} cannot carry a secret: use a plain header name such as \
                 Authorization or X-Api-Key"
            )));
        }
        if format.matches("{value}").count() != 1
            || format.len() > 200
            || format.chars().any(char::is_control)
        {
            return Err(invalid(format!(
                "format {format:?} must hold {{value}} exactly once, e.g. \"Bearer {{value}}\""
            )));
        }
        Ok(Self {
            scheme,
            host,
            port,
            header: header.to_owned(),
            format: format.to_owned(),
        })
    }

    /// The destination as declared and shown: `https://host[:port]`.
    pub fn destination(&self) -> String {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        match self.port {
            Some(port) => format!("{}://{host}:{port}", self.scheme),
            None => format!("{}://{host}", self.scheme),
        }
    }

    /// The port the call goes to.
    pub fn effective_port(&self) -> u16 {
        self.port
            .unwrap_or(if self.scheme == "https" { 443 } else { 80 })
    }

    /// Whether a request aimed at `host` (as an agent or proxy names it: with or without
    /// a port) is for this destination.
    pub fn matches_host(&self, host: &str) -> bool {
        let host = host.trim().to_ascii_lowercase();
        let bare = self.host.as_str();
        host == bare
            || host == format!("{bare}:{}", self.effective_port())
            || host == format!("[{bare}]:{}", self.effective_port())
            || host == format!("[{bare}]")
    }

    /// The header value carrying `secret`.
    pub fn present(&self, secret: &str) -> String {
        self.format.replace("{value}", secret)
    }
}

/// Why a secret without a declared destination cannot be used.
pub fn undeclared(path: &crate::names::SecretPath) -> Error {
    Error::new(
        ErrorCode::Conflict,
        format!(
            "secret '{path}' declares no destination, so it cannot be used: someone who may \
             reveal it sets one with `strongroom secrets set-use {path} --destination HOST`"
        ),
    )
}

/// Whether an address is one the broker must not call unless the operator allows it:
/// anything but a globally routable unicast address, IPv4 addresses carried inside IPv6
/// (mapped, compatible, NAT64, 6to4, Teredo) judged as the IPv4 address they carry.
pub fn is_private_destination(ip: IpAddr) -> bool {
    match crate::network::canonical(ip) {
        IpAddr::V4(v4) => private_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            let embedded = |hi: u16, lo: u16| {
                std::net::Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)
            };
            if s[..6] == [0; 6] || (s[0] == 0x64 && s[1] == 0xff9b) {
                // IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::/96, 64:ff9b:1::/48).
                return private_v4(embedded(s[6], s[7]));
            }
            if s[0] == 0x2002 {
                return private_v4(embedded(s[1], s[2]));
            }
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] & 0xffc0) == 0xfec0
                || (s[0] == 0x2001 && s[1] == 0)
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || s[0] == 0x0100
        }
    }
}

fn private_v4(v4: std::net::Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_loopback()
        || v4.is_private()
        || v4.is_link_local()
        || v4.is_unspecified()
        || v4.is_broadcast()
        || v4.is_multicast()
        || v4.is_documentation()
        || a == 0
        || a >= 240
        || (a == 100 && (b & 0xc0) == 64)
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b & 0xfe) == 18)
}

/// Replaces every occurrence of the secret (as given, base64-encoded, percent-encoded
/// and as presented in its header) in `text` with `[REDACTED]`.
pub fn scrub(text: &str, secret: &str, declaration: &UseDeclaration) -> String {
    if secret.is_empty() {
        return text.to_owned();
    }
    let mut out = text.replace(&declaration.present(secret), "[REDACTED]");
    for form in encodings(secret) {
        if !form.is_empty() {
            out = out.replace(&form, "[REDACTED]");
        }
    }
    out
}

/// Whether `bytes` hold the secret in any of the forms [`scrub`] removes.
pub fn contains_secret(bytes: &[u8], secret: &str) -> bool {
    !secret.is_empty()
        && encodings(secret)
            .iter()
            .any(|form| !form.is_empty() && bytes.windows(form.len()).any(|w| w == form.as_bytes()))
}

/// The forms a value commonly comes back in: as is, JSON-escaped, percent-encoded (either
/// case), and base64 in both alphabets, padded or not. Scrubbing is a safeguard for an
/// API that echoes what it was sent, not a boundary: a destination that transforms the
/// value otherwise can still return it.
fn encodings(secret: &str) -> Vec<String> {
    use base64::Engine as _;
    use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
    let json = serde_json::to_string(secret).unwrap_or_default();
    let mut forms = vec![
        secret.to_owned(),
        json.trim_matches('"').to_owned(),
        json.trim_matches('"').replace('/', "\\/"),
        percent(secret),
        percent(secret).to_lowercase(),
    ];
    for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
        forms.push(engine.encode(secret));
    }
    // Longest first, so a longer form is replaced whole before a shorter one inside it.
    forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
    forms.dedup();
    forms
}

fn percent(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared(destination: &str) -> UseDeclaration {
        UseDeclaration::parse(destination, "Authorization", "Bearer {value}")
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_bare_host_means_https_on_its_default_port() {
        let d = declared("API.Stripe.com");
        assert_eq!(d.destination(), "https://api.stripe.com");
        assert!(d.matches_host("api.stripe.com") && d.matches_host("api.stripe.com:443"));
        assert!(!d.matches_host("evil.example") && !d.matches_host("api.stripe.com:8443"));
        let local = declared("http://127.0.0.1:9000");
        assert_eq!(local.effective_port(), 9000);
        assert!(local.matches_host("127.0.0.1:9000"));
    }

    #[test]
    fn destinations_with_paths_users_or_other_schemes_are_refused() {
        for bad in [
            "https://api.example.com/v1",
            "user@api.example.com",
            "ftp://api.example.com",
            "api.example.com:99999",
            "",
            "exa mple.com",
        ] {
            assert!(
                UseDeclaration::parse(bad, "Authorization", "Bearer {value}").is_err(),
                "{bad}"
            );
        }
        assert!(UseDeclaration::parse("a.example", "Host", "{value}").is_err());
        for numeric_name in ["0x7f.1", "127.1", "2130706433.example.1"] {
            assert!(
                UseDeclaration::parse(numeric_name, "X-Key", "{value}").is_err(),
                "{numeric_name}"
            );
        }
        assert!(UseDeclaration::parse("a.example", "X-Key", "no placeholder").is_err());
    }

    #[test]
    fn private_loopback_and_link_local_addresses_are_private_destinations() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "2002:a00:1::1",
            "fec0::1",
            "198.18.0.1",
            "240.0.0.1",
            "192.0.0.8",
        ] {
            let ip: IpAddr = ip.parse().unwrap_or_else(|e| panic!("{e}"));
            assert!(is_private_destination(ip), "{ip}");
        }
        let public: IpAddr = "93.184.216.34".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(!is_private_destination(public));
    }

    #[test]
    fn scrubbing_removes_the_value_in_every_form_it_may_come_back_in() {
        let d = declared("api.example.com");
        let secret = "sk_live/abc+def";
        use base64::Engine as _;
        let echoed = format!(
            "header=Bearer {secret}; raw={secret}; b64={}; b64url={}; url={}; lower={}; json={}",
            base64::engine::general_purpose::STANDARD.encode(secret),
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret),
            percent(secret),
            percent(secret).to_lowercase(),
            "sk_live\\/abc+def"
        );
        let clean = scrub(&echoed, secret, &d);
        assert!(!contains_secret(clean.as_bytes(), secret), "{clean}");
        assert!(clean.contains("[REDACTED]"));
    }
}
