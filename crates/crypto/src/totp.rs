//! TOTP second factor (RFC 6238: SHA-1, 6 digits, 30-second steps, as every
//! authenticator app expects). A code is accepted one step either side of now, and the
//! caller records the step it was accepted for so the same code cannot be used twice.

use crate::random::random_bytes;
use crate::token::constant_time_eq;
use std::fmt;
use strongroom_core::Error;
use totp_rs::{Algorithm, TOTP};
use zeroize::Zeroizing;

const STEP_SECONDS: u64 = 30;
const ISSUER: &str = "Strongroom";

/// A TOTP shared secret (160 bits): zeroized on drop, redacted in debug output.
#[derive(Clone)]
pub struct TotpSecret(Zeroizing<Vec<u8>>);

impl fmt::Debug for TotpSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TotpSecret(<redacted>)")
    }
}

impl TotpSecret {
    /// A fresh random secret.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self(Zeroizing::new(random_bytes::<20>()?.to_vec())))
    }

    /// A secret read back from storage (after decryption).
    pub fn from_bytes(bytes: Vec<u8>) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw secret, for sealing.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }

    fn totp(&self, account: &str) -> Result<TOTP, Error> {
        TOTP::new(
            Algorithm::SHA1,
            6,
            1,
            STEP_SECONDS,
            self.0.to_vec(),
            Some(ISSUER.to_owned()),
            account.to_owned(),
        )
        .map_err(|e| Error::internal(format!("TOTP setup failed: {e}")))
    }

    /// The `otpauth://` URL an authenticator app scans, and the base32 secret to type in.
    pub fn provisioning(&self, account: &str) -> Result<(String, String), Error> {
        let totp = self.totp(account)?;
        Ok((totp.get_url(), totp.get_secret_base32()))
    }

    /// The code for a given Unix time (used by tests and by clients that script TOTP).
    pub fn code_at(&self, unix_seconds: u64) -> Result<String, Error> {
        Ok(self.totp("code")?.generate(unix_seconds))
    }

    /// Checks `code` against the steps around `now`; returns the step it matched.
    pub fn verify(&self, code: &str, unix_now: u64) -> Result<Option<u64>, Error> {
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        let totp = self.totp("verify")?;
        let now_step = unix_now / STEP_SECONDS;
        let mut matched = None;
        for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
            let expected = Zeroizing::new(totp.generate(step * STEP_SECONDS));
            if constant_time_eq(expected.as_bytes(), code.as_bytes()) && matched.is_none() {
                matched = Some(step);
            }
        }
        Ok(matched)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    /// A fixed secret keeps these tests deterministic (no chance collisions of codes).
    fn secret() -> TotpSecret {
        TotpSecret::from_bytes(b"12345678901234567890".to_vec())
    }

    #[test]
    fn the_current_code_verifies_and_names_its_step() {
        let s = secret();
        let code = s.code_at(NOW).unwrap_or_default();
        assert_eq!(s.verify(&code, NOW).ok().flatten(), Some(NOW / 30));
    }

    #[test]
    fn codes_one_step_away_are_tolerated_but_not_two() {
        let s = secret();
        let previous = s.code_at(NOW - 30).unwrap_or_default();
        assert!(s.verify(&previous, NOW).ok().flatten().is_some());
        let stale = s.code_at(NOW - 90).unwrap_or_default();
        assert_eq!(s.verify(&stale, NOW).ok().flatten(), None);
    }

    #[test]
    fn malformed_codes_never_verify() {
        let s = secret();
        for bad in ["", "12345", "1234567", "abcdef"] {
            assert_eq!(s.verify(bad, NOW).ok().flatten(), None, "{bad}");
        }
    }

    #[test]
    fn provisioning_gives_an_otpauth_url() {
        let (url, base32) = secret().provisioning("alice").unwrap_or_default();
        assert!(url.starts_with("otpauth://totp/Strongroom:alice?"));
        assert_eq!(base32.len(), 32);
    }
}
