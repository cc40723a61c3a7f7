//! Signed machine requests. A machine signs, with its Ed25519 key, one canonical text
//! naming everything that makes the request what it is: method, path, query, the vault,
//! the key, a timestamp, a one-shot nonce and the SHA-256 of the body. The server checks
//! the signature against the key registered under that fingerprint in that vault, the
//! timestamp against its own clock, and takes the nonce so the same request cannot be
//! played twice. The private key never leaves the machine.
//!
//! The request carries it all in one header:
//! `Authorization: Strongroom-Ed25519 vault=…, key=SHA256:…, ts=…, nonce=…, digest=…, sig=…`.

use crate::machine_key::MachineKey;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};
use strongroom_core::{Error, ErrorCode};

/// The `Authorization` scheme of a signed machine request.
pub const SCHEME: &str = "Strongroom-Ed25519";

/// How far a request's timestamp may be from the server's clock, either way.
pub const WINDOW_SECS: i64 = 60;

/// What a signature covers, apart from the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedRequest {
    /// The HTTP method, upper case.
    pub method: String,
    /// The path, as sent.
    pub path: String,
    /// The query string without `?`, as sent (empty when there is none).
    pub query: String,
    /// The vault the machine is registered in.
    pub vault: String,
    /// The key's fingerprint (`SHA256:…`).
    pub key: String,
    /// Seconds since the Unix epoch, on the machine's clock.
    pub timestamp: i64,
    /// Random, never used twice by the machine.
    pub nonce: String,
    /// Lower-case hex SHA-256 of the body.
    pub digest: String,
}

/// The lower-case hex SHA-256 of a request body.
pub fn body_digest(body: &[u8]) -> String {
    hex::encode(Sha256::digest(body))
}

fn invalid(message: &str) -> Error {
    Error::new(ErrorCode::Unauthenticated, message)
}

impl SignedRequest {
    /// The exact bytes signed. One field per line, so no field can run into the next
    /// (fields that could hold a newline are refused when parsed).
    pub fn canonical(&self) -> Vec<u8> {
        format!(
            "strongroom-request-v1\n{}\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            self.method,
            self.path,
            self.query,
            self.vault,
            self.key,
            self.timestamp,
            self.nonce,
            self.digest
        )
        .into_bytes()
    }

    /// Signs the request and returns the `Authorization` header's value.
    pub fn authorization(&self, key: &MachineKey) -> String {
        let signature = STANDARD.encode(key.sign(&self.canonical()));
        format!(
            "{SCHEME} vault={}, key={}, ts={}, nonce={}, digest={}, sig={signature}",
            self.vault, self.key, self.timestamp, self.nonce, self.digest
        )
    }
}

/// The parts of a signed request's `Authorization` header.
#[derive(Debug, Clone)]
pub struct Credentials {
    /// The vault named.
    pub vault: String,
    /// The key's fingerprint.
    pub key: String,
    /// The machine's timestamp.
    pub timestamp: i64,
    /// The nonce.
    pub nonce: String,
    /// The body digest the machine signed.
    pub digest: String,
    /// The raw 64-byte signature.
    pub signature: Vec<u8>,
}

impl Credentials {
    /// Parses the header's value, scheme included. `None` if it is not this scheme.
    pub fn parse(header: &str) -> Option<Result<Self, Error>> {
        let (scheme, params) = header.split_once(' ')?;
        if !scheme.eq_ignore_ascii_case(SCHEME) {
            return None;
        }
        Some(Self::parse_params(params))
    }

    fn parse_params(params: &str) -> Result<Self, Error> {
        let malformed = || {
            invalid(
                "malformed Strongroom-Ed25519 authorization: expected vault, key, ts, nonce, \
                 digest and sig",
            )
        };
        let (mut vault, mut key, mut ts, mut nonce, mut digest, mut sig) =
            (None, None, None, None, None, None);
        for part in params.split(',') {
            let (name, value) = part.trim().split_once('=').ok_or_else(malformed)?;
            let slot = match name {
                "vault" => &mut vault,
                "key" => &mut key,
                "ts" => &mut ts,
                "nonce" => &mut nonce,
                "digest" => &mut digest,
                "sig" => &mut sig,
                _ => return Err(malformed()),
            };
            if slot.replace(value.to_owned()).is_some()
                || value.len() > 128
                || value.chars().any(char::is_control)
            {
                return Err(malformed());
            }
        }
        let (Some(vault), Some(key), Some(ts), Some(nonce), Some(digest), Some(sig)) =
            (vault, key, ts, nonce, digest, sig)
        else {
            return Err(malformed());
        };
        let nonce_ok = (16..=64).contains(&nonce.len())
            && nonce
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let digest_ok = digest.len() == 64
            && digest
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        let timestamp = ts.parse::<i64>().map_err(|_| malformed())?;
        let signature = STANDARD.decode(sig.as_bytes()).map_err(|_| malformed())?;
        if !nonce_ok || !digest_ok || signature.len() != 64 {
            return Err(malformed());
        }
        Ok(Self {
            vault,
            key,
            timestamp,
            nonce,
            digest,
            signature,
        })
    }

    /// What the machine must have signed for this request.
    pub fn signed_request(&self, method: &str, path: &str, query: &str) -> SignedRequest {
        SignedRequest {
            method: method.to_owned(),
            path: path.to_owned(),
            query: query.to_owned(),
            vault: self.vault.clone(),
            key: self.key.clone(),
            timestamp: self.timestamp,
            nonce: self.nonce.clone(),
            digest: self.digest.clone(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(key: &MachineKey) -> SignedRequest {
        SignedRequest {
            method: "GET".into(),
            path: "/api/v1/apps".into(),
            query: "limit=5".into(),
            vault: "vault_abc".into(),
            key: key.public().fingerprint(),
            timestamp: 1_700_000_000,
            nonce: "0123456789abcdef0123".into(),
            digest: body_digest(b""),
        }
    }

    fn parse(header: &str) -> Credentials {
        match Credentials::parse(header) {
            Some(Ok(c)) => c,
            other => panic!("did not parse: {other:?}"),
        }
    }

    #[test]
    fn a_signed_header_verifies_for_the_request_it_was_made_for() {
        let key = MachineKey::generate().unwrap_or_else(|e| panic!("{e}"));
        let signed = request(&key);
        let creds = parse(&signed.authorization(&key));
        let again = creds.signed_request("GET", "/api/v1/apps", "limit=5");
        assert_eq!(again, signed);
        assert!(key.public().verify(&again.canonical(), &creds.signature));
    }

    #[test]
    fn any_changed_field_breaks_the_signature() {
        let key = MachineKey::generate().unwrap_or_else(|e| panic!("{e}"));
        let creds = parse(&request(&key).authorization(&key));
        for (method, path, query) in [
            ("POST", "/api/v1/apps", "limit=5"),
            ("GET", "/api/v1/apps/x", "limit=5"),
            ("GET", "/api/v1/apps", "limit=6"),
        ] {
            let other = creds.signed_request(method, path, query);
            assert!(!key.public().verify(&other.canonical(), &creds.signature));
        }
        let mut later = creds.signed_request("GET", "/api/v1/apps", "limit=5");
        later.timestamp += 1;
        assert!(!key.public().verify(&later.canonical(), &creds.signature));
    }

    #[test]
    fn other_schemes_are_not_ours_and_malformed_ones_are_refused() {
        assert!(Credentials::parse("Bearer abc").is_none());
        assert!(matches!(
            Credentials::parse("Strongroom-Ed25519 vault=v, key=k"),
            Some(Err(_))
        ));
        assert!(matches!(
            Credentials::parse(
                "Strongroom-Ed25519 vault=v, key=k, ts=1, nonce=short, digest=00, sig=AA=="
            ),
            Some(Err(_))
        ));
    }
}
