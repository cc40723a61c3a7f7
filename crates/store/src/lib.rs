//! Strongroom's storage: one [`Store`] over SQLite (the embedded default) or PostgreSQL,
//! with the same behaviour on both. Vault-scoped methods take an [`Authorized`] proof
//! from the core's decision function and read the vault from it, so no caller can point
//! them at another vault. Secret values are sealed and opened here, under per-project
//! data keys, so the database never sees a plaintext value or an unwrapped key.
//!
//! [`Authorized`]: strongroom_core::authz::Authorized
#![forbid(unsafe_code)]

mod accounts;
mod db;
mod keys;
mod model;
mod second_factor;
mod secrets;
mod sessions;
mod structure;
mod throttle;

pub use second_factor::TotpState;
pub use throttle::ThrottleRule;

pub use keys::RotationReport;
pub use model::*;

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
}

impl Store {
    /// Connects, applies migrations and checks that `keys` opens this database's data
    /// keys (a wrong key file is refused here, not at the first read).
    pub async fn open(backend: Backend<'_>, keys: Arc<dyn RootKeyProvider>) -> Result<Self, Error> {
        let db = match backend {
            Backend::Sqlite(path) => Db::open_sqlite(path).await?,
            Backend::Postgres(url) => Db::open_postgres(url, 16).await?,
        };
        db.migrate().await?;
        let store = Self {
            db,
            keys,
            accounts_key: Arc::new(OnceCell::new()),
        };
        store.ensure_keyring_state().await?;
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
