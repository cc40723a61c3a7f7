//! Envelope encryption. Each project has a random 256-bit data key, stored only wrapped
//! by a root key; each secret version is sealed under its project's data key with
//! XChaCha20-Poly1305. The 192-bit random nonce makes nonce reuse a non-issue however many
//! versions a key seals. Associated data binds every ciphertext to where it belongs, so a
//! ciphertext moved to another row fails authentication instead of decrypting.

use crate::random::random_bytes;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::fmt;
use strongroom_core::Error;
use zeroize::Zeroizing;

const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

/// A 256-bit symmetric key in memory: zeroized on drop, never printed.
#[derive(Clone)]
pub struct DataKey(Zeroizing<[u8; 32]>);

impl DataKey {
    /// A fresh random key.
    pub fn generate() -> Result<Self, Error> {
        Ok(Self(Zeroizing::new(random_bytes::<32>()?)))
    }

    /// A key from raw bytes (as unwrapped or read from the key file).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(Zeroizing::new(bytes))
    }

    /// The raw key, for wrapping.
    pub fn expose(&self) -> &[u8; 32] {
        &self.0
    }

    /// Encrypts `plaintext`, bound to `aad`. Output: nonce ‖ ciphertext ‖ tag.
    pub fn seal(&self, aad: &Aad, plaintext: &[u8]) -> Result<Vec<u8>, Error> {
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        let nonce = random_bytes::<NONCE_LEN>()?;
        let ciphertext = cipher
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: plaintext,
                    aad: &aad.0,
                },
            )
            .map_err(|_| Error::internal("encryption failed"))?;
        let mut out = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&ciphertext);
        Ok(out)
    }

    /// Decrypts what [`DataKey::seal`] produced with the same `aad`; anything else fails.
    pub fn open(&self, aad: &Aad, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if sealed.len() < NONCE_LEN + TAG_LEN {
            return Err(Error::internal("ciphertext is truncated"));
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new(self.0.as_ref().into());
        cipher
            .decrypt(
                XNonce::from_slice(nonce),
                Payload {
                    msg: ciphertext,
                    aad: &aad.0,
                },
            )
            .map(Zeroizing::new)
            .map_err(|_| {
                Error::internal(
                    "ciphertext failed authentication: it was altered or does not belong here",
                )
            })
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// Associated data: a domain label and fields, each length-prefixed so that no two
/// different field lists encode the same bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Aad(Vec<u8>);

impl Aad {
    /// Starts associated data for one purpose, e.g. `strongroom/secret-value/v1`.
    pub fn new(domain: &str) -> Self {
        Self(Vec::with_capacity(128)).field(domain)
    }

    /// Appends a text field.
    pub fn field(mut self, value: &str) -> Self {
        let len = u32::try_from(value.len()).unwrap_or(u32::MAX);
        self.0.extend_from_slice(&len.to_be_bytes());
        self.0.extend_from_slice(value.as_bytes());
        self
    }

    /// Appends an integer field.
    pub fn number(mut self, value: i64) -> Self {
        self.0.extend_from_slice(&8u32.to_be_bytes());
        self.0.extend_from_slice(&value.to_be_bytes());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::generate().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn sealed_values_open_with_the_same_key_and_aad() {
        let k = key();
        let aad = Aad::new("test").field("a").number(1);
        let sealed = k.seal(&aad, b"hello").unwrap_or_default();
        assert_eq!(
            k.open(&aad, &sealed).map(|p| p.to_vec()).ok(),
            Some(b"hello".to_vec())
        );
    }

    #[test]
    fn a_ciphertext_does_not_open_under_other_associated_data() {
        let k = key();
        let sealed = k
            .seal(&Aad::new("test").number(1), b"v1")
            .unwrap_or_default();
        assert!(k.open(&Aad::new("test").number(2), &sealed).is_err());
        assert!(k.open(&Aad::new("other").number(1), &sealed).is_err());
    }

    #[test]
    fn a_ciphertext_does_not_open_under_another_key() {
        let aad = Aad::new("test");
        let sealed = key().seal(&aad, b"v").unwrap_or_default();
        assert!(key().open(&aad, &sealed).is_err());
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        assert_ne!(
            Aad::new("d").field("ab").field("c"),
            Aad::new("d").field("a").field("bc")
        );
    }

    #[test]
    fn the_same_plaintext_seals_differently_each_time() {
        let k = key();
        let aad = Aad::new("t");
        assert_ne!(k.seal(&aad, b"same").ok(), k.seal(&aad, b"same").ok());
    }

    #[test]
    fn truncated_or_altered_ciphertexts_are_refused() {
        let k = key();
        let aad = Aad::new("t");
        let mut sealed = k.seal(&aad, b"value").unwrap_or_default();
        assert!(k.open(&aad, &sealed[..10]).is_err());
        let last = sealed.len() - 1;
        sealed[last] ^= 1;
        assert!(k.open(&aad, &sealed).is_err());
    }
}
