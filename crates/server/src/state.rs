//! What every handler shares: the store, the settings and a bound on concurrent password
//! hashing (argon2 is deliberately expensive; unbounded, it is a denial-of-service lever).

use std::sync::Arc;
use strongroom_store::{Store, ThrottleRule};
use tokio::sync::Semaphore;

/// Tunables, with production defaults.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Session lifetime.
    pub session_ttl_ms: i64,
    /// How long a step-up re-authentication counts as recent.
    pub step_up_window_ms: i64,
    /// Failed sign-ins allowed per account name.
    pub account_throttle: ThrottleRule,
    /// Failed sign-ins allowed per client address.
    pub address_throttle: ThrottleRule,
    /// Sign-ups allowed per client address.
    pub signup_throttle: ThrottleRule,
    /// Largest request body.
    pub max_body_bytes: usize,
    /// The wait before an alert delivery's first retry; it doubles with each failure.
    pub alert_retry_base_ms: i64,
}

impl Default for Settings {
    fn default() -> Self {
        const FIFTEEN_MINUTES: i64 = 15 * 60 * 1000;
        Self {
            session_ttl_ms: 30 * 24 * 60 * 60 * 1000,
            step_up_window_ms: 5 * 60 * 1000,
            account_throttle: ThrottleRule {
                max_failures: 10,
                window_ms: FIFTEEN_MINUTES,
            },
            address_throttle: ThrottleRule {
                max_failures: 100,
                window_ms: FIFTEEN_MINUTES,
            },
            signup_throttle: ThrottleRule {
                max_failures: 20,
                window_ms: 60 * 60 * 1000,
            },
            max_body_bytes: 2 * 1024 * 1024,
            alert_retry_base_ms: 5_000,
        }
    }
}

/// Shared by all handlers.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub settings: Arc<Settings>,
    pub hashing: Arc<Semaphore>,
    pub mailer: crate::mail::Mailer,
    /// Proxies whose `X-Forwarded-For` is believed.
    pub trusted_proxies: Arc<Vec<strongroom_core::network::CidrRange>>,
    /// Whether the broker may call loopback, link-local and private addresses.
    pub broker_allow_private: bool,
    /// Whether alert webhooks may reach loopback, link-local and private addresses.
    pub alerts_allow_private: bool,
    /// Whether browsers reach the dashboard over HTTPS: the server terminates TLS itself,
    /// or (`--insecure-http`) a TLS-terminating proxy stands in front. Its cookies are
    /// then `Secure`, pages carry HSTS, and forms must come from an `https://` origin.
    pub https: bool,
}
