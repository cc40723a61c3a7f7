//! Strongroom's storage: one [`Store`] over SQLite (the embedded default) or PostgreSQL,
//! with the same behaviour on both. Vault-scoped methods take an [`Authorized`] proof
//! from the core's decision function and read the vault from it, so no caller can point
//! them at another vault. Secret values are sealed and opened here, under per-project
//! data keys, so the database never sees a plaintext value or an unwrapped key.
//!
//! [`Authorized`]: strongroom_core::authz::Authorized
#![forbid(unsafe_code)]

mod access_roles;
mod accounts;
mod alerts;
mod allowlist;
mod approle;
mod audit;
mod audit_query;
mod audit_tail;
mod audit_verify;
mod db;
mod invites;
mod journal;
mod keys;
mod machine_access;
mod machines;
mod members;
mod model;
mod nonces;
mod organizations;
mod policies;
mod second_factor;
mod secret_settings;
mod secrets;
mod sessions;
mod structure;
mod throttle;
mod tokens;
mod vault_roles;
mod verification;
mod versions;

pub use second_factor::TotpState;
pub use throttle::ThrottleRule;

pub use alerts::{
    AlertChannel, AlertRuleRecord, DeliveryAttempt, DueDelivery, NewAlertRule, QueuedAlert,
};
pub use approle::{
    ApproleSecretRecord, IssuedApprole, MAX_LOGIN_TTL_MS, MachineLogin, MachineLoginCredentials,
};
pub use audit::{AuditActor, AuditEntry};
pub use audit_query::{AuditEvent, AuditQuery};
pub use audit_tail::TailedEntry;
pub use audit_verify::{ChainBreak, ChainReport};
pub use invites::{INVITE_TTL_MS, NewInviteLink};
pub use keys::RotationReport;
pub use machine_access::{MachineCredentials, MachineReach};
pub use members::MemberChange;
pub use model::*;
pub use organizations::RESTORE_WINDOW_MS;
pub use policies::PolicySubject;
pub use secret_settings::{SecretOverview, SecretSettings, SettingsUpdate, VersionState};
pub use tokens::{TokenCredentials, TokenScope};
pub use vault_roles::NamedRole;
pub use versions::{VersionChange, VersionSelection};

use db::Db;
use std::path::Path;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use strongroom_core::Error;
use strongroom_crypto::{DataKey, RootKeyProvider};
use tokio::sync::OnceCell;

/// Which database to use.
#[derive(Debug, Clone, Copy)]
pub enum Backend<'a> {
    /// A SQLite file (created if missing).
    Sqlite(&'a Path),
    /// A PostgreSQL connection URL.
    Postgres(&'a str),
}

/// The storage of one Strongroom deployment.
#[derive(Clone, Debug)]
pub struct Store {
    db: Db,
    keys: Arc<dyn RootKeyProvider>,
    accounts_key: Arc<OnceCell<DataKey>>,
    access_roles: access_roles::AccessRoleCache,
    journal: journal::Journal,
    /// Reveals a member may make per hour in a vault; `None` for no limit.
    reveal_limit: Option<u32>,
    /// Takes signed requests' nonces, many to a commit.
    nonces: nonces::Nonces,
}

/// Reveals a member may make per hour in one vault unless the operator says otherwise.
pub const DEFAULT_REVEALS_PER_HOUR: u32 = 1000;

impl Store {
    /// Sets how many values a member may reveal per hour in a vault; `None` lifts the limit.
    pub fn with_reveal_limit(mut self, per_hour: Option<u32>) -> Self {
        self.reveal_limit = per_hour;
        self
    }

    /// Connects, applies migrations and checks that `keys` opens this database's data
    /// keys (a wrong key file is refused here, not at the first read).
    pub async fn open(backend: Backend<'_>, keys: Arc<dyn RootKeyProvider>) -> Result<Self, Error> {
        let db = match backend {
            Backend::Sqlite(path) => Db::open_sqlite(path).await?,
            Backend::Postgres(url) => Db::open_postgres(url, 16).await?,
        };
        db.migrate().await?;
        let store = Self {
            journal: journal::Journal::start(db.clone()),
            nonces: nonces::Nonces::start(db.clone()),
            db,
            keys,
            accounts_key: Arc::new(OnceCell::new()),
            access_roles: Default::default(),
            reveal_limit: Some(DEFAULT_REVEALS_PER_HOUR),
        };
        store.ensure_keyring_state().await?;
        store.chain_unchained_entries().await?;
        Ok(store)
    }

    /// Closes every connection (for a clean shutdown).
    pub async fn close(&self) {
        self.db.close().await;
    }
}

/// Milliseconds since the Unix epoch: the unit of every stored time.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Keeps `limit + 1` fetched rows to `limit` and says where the next page starts.
fn paginate<T>(mut rows: Vec<T>, limit: u32, key: impl Fn(&T) -> String) -> Page<T> {
    let limit = limit as usize;
    let next_after = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(key)
    } else {
        None
    };
    Page {
        items: rows,
        next_after,
    }
}

/// Like [`paginate`], for lists the caller sees only part of: the page holds the kept
/// items among the `limit` rows scanned, and the next page starts after the last row
/// scanned (so a page may be short, even empty, and still have a next one).
fn paginate_filtered<T>(
    mut rows: Vec<T>,
    limit: u32,
    keep: impl Fn(&T) -> bool,
    key: impl Fn(&T) -> String,
) -> Page<T> {
    let limit = limit as usize;
    let next_after = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(&key)
    } else {
        None
    };
    rows.retain(|r| keep(r));
    Page {
        items: rows,
        next_after,
    }
}

/// Newest-first lists page by `created_at:id` of the last item seen.
fn decode_newest_first_cursor(after: Option<&str>) -> Result<(i64, String), Error> {
    let Some(after) = after else {
        return Ok((i64::MAX, String::new()));
    };
    let invalid = || Error::new(strongroom_core::ErrorCode::InvalidCursor, "invalid cursor");
    let (created, id) = after.split_once(':').ok_or_else(invalid)?;
    Ok((created.parse().map_err(|_| invalid())?, id.to_owned()))
}
