//! Password hashing with argon2id (the crate's defaults: m = 19 MiB, t = 2, p = 1, the
//! OWASP baseline). Verifying against an unknown user still costs one full hash, so a
//! sign-in's timing does not tell whether the username exists.

use crate::random::random_bytes;
use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use std::sync::OnceLock;
use strongroom_core::Error;
use strongroom_core::account::Password;

/// Hashes a password into a PHC string (`$argon2id$v=19$…`).
pub fn hash_password(password: &Password) -> Result<String, Error> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| Error::internal(format!("salt encoding failed: {e}")))?;
    Argon2::default()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| Error::internal(format!("password hashing failed: {e}")))
}

/// Whether `candidate` matches the stored PHC hash. A malformed hash never matches.
pub fn verify_password(stored_hash: &str, candidate: &Password) -> bool {
    PasswordHash::new(stored_hash).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(candidate.expose().as_bytes(), &parsed)
            .is_ok()
    })
}

/// Spends the same work as [`verify_password`] for a user that does not exist.
pub fn verify_against_dummy(candidate: &Password) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let hash = DUMMY.get_or_init(|| {
        Password::candidate("strongroom-dummy-password".into())
            .and_then(|p| hash_password(&p))
            .unwrap_or_default()
    });
    let _ = verify_password(hash, candidate);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pw(s: &str) -> Password {
        Password::candidate(s.into()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password(&pw("correct horse battery")).unwrap_or_default();
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password(&hash, &pw("correct horse battery")));
        assert!(!verify_password(&hash, &pw("correct horse battery!")));
    }

    #[test]
    fn the_same_password_hashes_differently_each_time() {
        assert_ne!(
            hash_password(&pw("same password")).ok(),
            hash_password(&pw("same password")).ok()
        );
    }

    #[test]
    fn a_malformed_stored_hash_never_verifies() {
        assert!(!verify_password("not a hash", &pw("anything at all")));
    }
}
