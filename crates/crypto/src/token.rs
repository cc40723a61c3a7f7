//! Bearer secrets: session tokens and recovery codes. They carry 256 (tokens) or 80
//! (recovery codes) random bits, so a fast SHA-256 is the right stored form: there is
//! nothing to brute-force. They are shown once and only their hashes are kept.

use crate::random::random_bytes;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use std::fmt;
use strongroom_core::Error;
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

/// Prefix of session tokens, so they are recognizable in a leaked file or a scanner.
pub const SESSION_TOKEN_PREFIX: &str = "srs_";

/// A bearer secret in memory: zeroized on drop, redacted in debug output.
#[derive(Clone, PartialEq, Eq)]
pub struct Token(Zeroizing<String>);

impl Token {
    /// Wraps a token that arrived with a request.
    pub fn from_presented(s: String) -> Self {
        Self(Zeroizing::new(s))
    }

    /// The token text, to send to its owner once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The stored form: hex SHA-256.
    pub fn hash(&self) -> String {
        sha256_hex(self.0.as_bytes())
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Token(<redacted>)")
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// A new session token: `srs_` and 256 random bits.
pub fn new_session_token() -> Result<Token, Error> {
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(Token(Zeroizing::new(format!(
        "{SESSION_TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(bytes.as_ref())
    ))))
}

const CODE_ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new one-time recovery code, `xxxx-xxxx-xxxx-xxxx` (80 random bits).
pub fn new_recovery_code() -> Result<Token, Error> {
    let bytes = Zeroizing::new(random_bytes::<16>()?);
    let mut code = String::with_capacity(19);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 && i % 4 == 0 {
            code.push('-');
        }
        code.push(CODE_ALPHABET[usize::from(b & 31)] as char);
    }
    Ok(Token(Zeroizing::new(code)))
}

/// The stored form of a recovery code, ignoring case, spaces and dashes as typed.
pub fn recovery_code_hash(typed: &str) -> String {
    let normalized: Zeroizing<String> = Zeroizing::new(
        typed
            .chars()
            .filter(|c| !c.is_whitespace() && *c != '-')
            .flat_map(char::to_lowercase)
            .collect(),
    );
    sha256_hex(format!("strongroom/recovery-code/{}", normalized.as_str()).as_bytes())
}

/// Prefix of invite-link tokens.
pub const INVITE_LINK_PREFIX: &str = "srl_";

/// A new invite-link token: `srl_` and 256 random bits.
pub fn new_invite_link_token() -> Result<Token, Error> {
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(Token(Zeroizing::new(format!(
        "{INVITE_LINK_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(bytes.as_ref())
    ))))
}

/// Prefix of agent and CI tokens.
pub const ACCESS_TOKEN_PREFIX: &str = "sr_";

/// A new agent or CI token: `sr_` and 256 random bits.
pub fn new_access_token() -> Result<Token, Error> {
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(Token(Zeroizing::new(format!(
        "{ACCESS_TOKEN_PREFIX}{}",
        URL_SAFE_NO_PAD.encode(bytes.as_ref())
    ))))
}

/// Prefix of AppRole secret ids.
pub const APPROLE_SECRET_PREFIX: &str = "srr_";

/// Prefix of the tokens an AppRole login hands a machine.
pub const MACHINE_LOGIN_PREFIX: &str = "srm_";

/// A new AppRole secret id: `srr_` and 256 random bits.
pub fn new_approle_secret() -> Result<Token, Error> {
    prefixed(APPROLE_SECRET_PREFIX)
}

/// A new machine login token: `srm_` and 256 random bits.
pub fn new_machine_login_token() -> Result<Token, Error> {
    prefixed(MACHINE_LOGIN_PREFIX)
}

fn prefixed(prefix: &str) -> Result<Token, Error> {
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(Token(Zeroizing::new(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(bytes.as_ref())
    ))))
}

/// A new signing secret for an alert webhook: `whsec_` and 256 random bits.
pub fn new_webhook_secret() -> Result<Token, Error> {
    let bytes = Zeroizing::new(random_bytes::<32>()?);
    Ok(Token(Zeroizing::new(format!(
        "whsec_{}",
        URL_SAFE_NO_PAD.encode(bytes.as_ref())
    ))))
}

/// Digits in an email verification code.
pub const VERIFICATION_CODE_DIGITS: usize = 6;

/// A new email verification code: six uniformly random digits (few wrong tries are
/// allowed per code, so six digits are enough).
pub fn new_verification_code() -> Result<Token, Error> {
    let mut code = Zeroizing::new(String::with_capacity(VERIFICATION_CODE_DIGITS));
    while code.len() < VERIFICATION_CODE_DIGITS {
        let [b] = random_bytes::<1>()?;
        // 250 = 25 * 10: rejecting the rest keeps every digit equally likely.
        if b < 250 {
            code.push(char::from(b'0' + b % 10));
        }
    }
    Ok(Token(code))
}

/// The stored form of a verification code, bound to the account it was issued to.
pub fn verification_code_hash(user_id: &str, typed: &str) -> String {
    let digits: Zeroizing<String> =
        Zeroizing::new(typed.chars().filter(char::is_ascii_digit).collect());
    sha256_hex(format!("strongroom/email-code/{user_id}/{}", digits.as_str()).as_bytes())
}

/// Constant-time equality for secrets of equal length (length itself is not secret).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_tokens_are_prefixed_and_unique() {
        let a = new_session_token().unwrap_or_else(|e| panic!("{e}"));
        let b = new_session_token().unwrap_or_else(|e| panic!("{e}"));
        assert!(a.expose().starts_with("srs_"));
        assert!(a.expose().len() >= 40);
        assert_ne!(a, b);
        assert_ne!(a.hash(), a.expose());
    }

    #[test]
    fn tokens_never_appear_in_debug_output() {
        let t = new_session_token().unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{t:?}").contains(t.expose()));
    }

    #[test]
    fn recovery_codes_match_however_they_are_typed() {
        let code = new_recovery_code().unwrap_or_else(|e| panic!("{e}"));
        let sloppy = code.expose().replace('-', " ").to_uppercase();
        assert_eq!(
            recovery_code_hash(code.expose()),
            recovery_code_hash(&sloppy)
        );
        assert_ne!(
            recovery_code_hash(code.expose()),
            recovery_code_hash("aaaa-aaaa-aaaa-aaaa")
        );
    }

    #[test]
    fn constant_time_eq_compares_content_and_length() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
    }
}
