//! Strongroom's cryptography, in one place so it can be reviewed in one sitting:
//! envelope encryption under a root keyring, password hashing, session tokens, TOTP and
//! recovery codes, and the audit log's chain MACs. Every key and plaintext is zeroized on drop; nothing here logs.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod audit_chain;
pub mod envelope;
pub mod keyring;
pub mod machine_key;
pub mod password;
pub mod random;
pub mod request_signing;
pub mod token;
pub mod totp;

pub use envelope::{Aad, DataKey};
pub use keyring::{FileKeyring, RootKeyProvider};
