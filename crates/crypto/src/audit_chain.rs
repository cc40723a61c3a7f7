//! The audit log's chain MAC. Each entry's MAC covers its fields and the MAC of the entry
//! before it, keyed by a key that lives outside the database (derived from the accounts
//! data key, itself wrapped by the root key). Someone who can write the database but not
//! read the key file cannot forge an entry, nor mend the chain after changing one.

use crate::envelope::DataKey;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::fmt;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// Keeps the derivation apart from every other use of the accounts key.
const LABEL: &[u8] = b"strongroom audit chain v1";

/// The key that MACs audit entries; never printed.
#[derive(Clone)]
pub struct ChainKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for ChainKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ChainKey(..)")
    }
}

impl ChainKey {
    /// Derives the chain key from the deployment's accounts data key.
    pub fn derive(accounts: &DataKey) -> Self {
        let mut mac = new_mac(accounts.expose());
        mac.update(LABEL);
        let mut key = Zeroizing::new([0u8; 32]);
        key.copy_from_slice(&mac.finalize().into_bytes());
        Self(key)
    }

    /// The MAC (hex) of an entry made of `fields`, following the entry whose MAC is
    /// `prev_mac` ("" for a vault's first entry). Fields are length-prefixed, so no two
    /// different entries encode alike.
    pub fn link(&self, prev_mac: &str, fields: &[&str]) -> String {
        let mut mac = new_mac(&self.0[..]);
        for field in std::iter::once(prev_mac).chain(fields.iter().copied()) {
            mac.update(&(field.len() as u64).to_be_bytes());
            mac.update(field.as_bytes());
        }
        hex::encode(mac.finalize().into_bytes())
    }

    /// Whether `mac` is the MAC of `fields` after `prev_mac`, compared in constant time.
    pub fn verifies(&self, mac: &str, prev_mac: &str, fields: &[&str]) -> bool {
        use subtle::ConstantTimeEq as _;
        let expected = self.link(prev_mac, fields);
        expected.len() == mac.len() && bool::from(expected.as_bytes().ct_eq(mac.as_bytes()))
    }
}

fn new_mac(key: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    match HmacSha256::new_from_slice(key) {
        Ok(mac) => mac,
        Err(_) => unreachable!("HMAC takes keys of any length"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> ChainKey {
        ChainKey::derive(&DataKey::from_bytes([7; 32]))
    }

    #[test]
    fn a_mac_verifies_only_its_own_fields_and_predecessor() {
        let key = key();
        let mac = key.link("prev", &["vault", "read", "a/b/c/D"]);
        assert!(key.verifies(&mac, "prev", &["vault", "read", "a/b/c/D"]));
        assert!(!key.verifies(&mac, "other", &["vault", "read", "a/b/c/D"]));
        assert!(!key.verifies(&mac, "prev", &["vault", "read", "a/b/c/E"]));
    }

    #[test]
    fn moving_a_boundary_between_fields_changes_the_mac() {
        let key = key();
        assert_ne!(key.link("", &["ab", "c"]), key.link("", &["a", "bc"]));
    }

    #[test]
    fn another_accounts_key_gives_another_chain() {
        let other = ChainKey::derive(&DataKey::from_bytes([8; 32]));
        assert_ne!(key().link("", &["x"]), other.link("", &["x"]));
    }

    #[test]
    fn debug_output_hides_the_key() {
        assert_eq!(format!("{:?}", key()), "ChainKey(..)");
    }
}
