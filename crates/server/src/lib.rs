//! The Strongroom server: the HTTP JSON API under `/api/v1`, its OpenAPI document,
//! sessions, TLS and a clean start and stop. Handlers only translate HTTP to calls of the
//! core's authorization decision and the store; they never compare vault ids themselves.
#![forbid(unsafe_code)]

mod alerts;
pub mod audit_layer;
mod audit_stream;
mod broker;
mod client_ip;
pub mod config;
mod convert;
mod cursor;
mod error;
mod extract;
mod kv;
mod mail;
mod outbound;
mod routes;
mod runtime_auth;
mod serve;
mod signin;
mod state;
mod web;

pub use config::{ConfigError, FileConfig, ServerConfig, SmtpSettings, TlsFiles, parse_ranges};
pub use routes::{built_in_role, openapi_document};
pub use serve::{OpenedStore, RunningServer, StartError, open_store, start};
pub use state::Settings;
pub use web::ROUTE_ACTIONS as DASHBOARD_ROUTES;
pub use web::csrf_token as dashboard_csrf_token;
