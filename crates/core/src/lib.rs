//! Strongroom's domain, free of I/O: identifiers, validated names and values, the one
//! domain error every layer speaks, and the authorization decision that every request
//! passes through.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod access;
pub mod account;
pub mod alert;
pub mod audit;
pub mod authz;
pub mod broker;
pub mod capability;
pub mod custom_role;
pub mod dotenv;
pub mod effect;
pub mod error;
pub mod explain;
pub mod ids;
pub mod kv;
pub mod names;
pub mod network;
pub mod plan;
pub mod policy;
pub mod runtime;
pub mod secret;

pub use error::{Error, ErrorCode, Result};
