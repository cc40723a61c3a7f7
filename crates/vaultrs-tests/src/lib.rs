//! Nothing to link: this crate holds the vaultrs compatibility tests (`tests/`), so
//! vaultrs stays a dev-dependency of a test crate and out of every shipped binary.
#![forbid(unsafe_code)]
