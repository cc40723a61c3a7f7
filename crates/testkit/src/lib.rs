//! Real servers for the test suite: [`TestApp`] starts the actual Strongroom server on a
//! free port with a fresh data directory, on SQLite or on a fresh PostgreSQL database
//! (from a throwaway cluster this process starts, or `STRONGROOM_TEST_DATABASE_URL`).

mod app;
mod kv_clients;
mod postgres;
mod receiver;
mod smtp;
mod vault_http;
mod web;

pub use app::{Backend, TestApp, TestUser};
pub use kv_clients::{KvClients, kv_clients};
pub use postgres::{TestDatabase, admin_url};
pub use receiver::{Received, Receiver};
pub use smtp::{Delivered, MailSink};
pub use vault_http::{VaultHttp, VaultReply};
pub use web::{WebBrowser, WebPage, csrf_token_for, field_value};

/// The value of the secret in [`TestApp::readers_organization`].
pub const READERS_VALUE: &str = "sk_live_readers_probe";

/// A password that passes the rules, used for every test account.
pub const PASSWORD: &str = "correct horse battery staple";
