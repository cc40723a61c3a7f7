//! The two backends behind one small query interface. SQL is written once with `$N`
//! placeholders (both SQLite and PostgreSQL accept them) and only the column types the
//! two agree on exactly: 64-bit integers, text and bytes. Where the dialects truly
//! differ (row locks, schema), [`Dialect`] and the per-backend migrations say so.
//!
//! SQLite runs with WAL, `synchronous=FULL` (an acknowledged write survives power loss),
//! one writer connection taking `BEGIN IMMEDIATE`, and a pool of read-only readers.

use crate::audit::AuditEntry;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions, PgRow};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};
use sqlx::{Postgres, Row as _, Sqlite};
use std::path::Path;
use std::str::FromStr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::audit_chain::ChainKey;

/// A value bound to a `$N` placeholder.
#[derive(Debug)]
pub(crate) enum Arg {
    I64(i64),
    OptI64(Option<i64>),
    Text(String),
    OptText(Option<String>),
    Bytes(Vec<u8>),
    OptBytes(Option<Vec<u8>>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Self {
        Self::I64(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Self {
        Self::OptI64(v)
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Self {
        Self::Text(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Self {
        Self::Text(v.to_owned())
    }
}
impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(v.clone())
    }
}
impl From<Option<String>> for Arg {
    fn from(v: Option<String>) -> Self {
        Self::OptText(v)
    }
}
impl From<Option<Vec<u8>>> for Arg {
    fn from(v: Option<Vec<u8>>) -> Self {
        Self::OptBytes(v)
    }
}

impl From<Vec<u8>> for Arg {
    fn from(v: Vec<u8>) -> Self {
        Self::Bytes(v)
    }
}

/// A statement and its arguments.
pub(crate) struct Q {
    sql: &'static str,
    args: Vec<Arg>,
}

/// Starts a statement.
pub(crate) fn q(sql: &'static str) -> Q {
    Q {
        sql,
        args: Vec::new(),
    }
}

/// Starts a statement whose text is put together at run time from a fixed set of
/// fragments (which filters are present), never from values. Each distinct text is kept
/// once for the life of the process, so the set stays as small as the fragments allow.
pub(crate) fn q_built(sql: String) -> Q {
    static TEXTS: OnceLock<std::sync::Mutex<std::collections::HashSet<&'static str>>> =
        OnceLock::new();
    let texts = TEXTS.get_or_init(Default::default);
    let mut texts = texts
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let text = match texts.get(sql.as_str()) {
        Some(text) => *text,
        None => {
            let text: &'static str = Box::leak(sql.into_boxed_str());
            texts.insert(text);
            text
        }
    };
    q(text)
}

impl Q {
    /// Binds the next `$N`.
    pub(crate) fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn sqlite(self) -> sqlx::query::Query<'static, Sqlite, <Sqlite as sqlx::Database>::Arguments> {
        let mut query = sqlx::query::<Sqlite>(self.sql);
        for arg in self.args {
            query = match arg {
                Arg::I64(v) => query.bind(v),
                Arg::OptI64(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
                Arg::OptBytes(v) => query.bind(v),
            };
        }
        query
    }

    fn postgres(
        self,
    ) -> sqlx::query::Query<'static, Postgres, <Postgres as sqlx::Database>::Arguments> {
        let mut query = sqlx::query::<Postgres>(self.sql);
        for arg in self.args {
            query = match arg {
                Arg::I64(v) => query.bind(v),
                Arg::OptI64(v) => query.bind(v),
                Arg::Text(v) => query.bind(v),
                Arg::OptText(v) => query.bind(v),
                Arg::Bytes(v) => query.bind(v),
                Arg::OptBytes(v) => query.bind(v),
            };
        }
        query
    }
}

/// A result row from either backend, read by column name.
pub(crate) enum Row {
    Sqlite(SqliteRow),
    Postgres(PgRow),
}

macro_rules! getter {
    ($name:ident, $ty:ty) => {
        pub(crate) fn $name(&self, column: &str) -> Result<$ty, Error> {
            match self {
                Self::Sqlite(r) => r.try_get::<$ty, _>(column),
                Self::Postgres(r) => r.try_get::<$ty, _>(column),
            }
            .map_err(|e| Error::internal(format!("reading column {column}: {e}")))
        }
    };
}

impl Row {
    getter!(i64, i64);
    getter!(opt_i64, Option<i64>);
    getter!(text, String);
    getter!(opt_text, Option<String>);
    getter!(bytes, Vec<u8>);
    getter!(opt_bytes, Option<Vec<u8>>);
}

/// Where the two dialects differ in what a statement must say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dialect {
    /// SQLite.
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

/// Turns a driver error into the domain error: unique violations become
/// `already_exists`, contention and full disks become `unavailable`, the rest `internal`.
pub(crate) fn map_db_error(e: sqlx::Error) -> Error {
    match &e {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            Error::new(ErrorCode::AlreadyExists, "already exists")
        }
        sqlx::Error::Database(db) => {
            let code = db.code().map(|c| c.into_owned()).unwrap_or_default();
            // SQLite: 5 busy, 6 locked, 13 full, 517 busy snapshot.
            // PostgreSQL: 40001 serialization, 40P01 deadlock, 53xxx resources, 57P01 shutdown.
            let transient = matches!(
                code.as_str(),
                "5" | "6" | "13" | "261" | "517" | "40001" | "40P01" | "57P01"
            ) || code.starts_with("53");
            if transient {
                Error::unavailable(format!("database: {e}"))
            } else {
                Error::internal(format!("database: {e}"))
            }
        }
        sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::PoolClosed => {
            Error::unavailable(format!("database: {e}"))
        }
        _ => Error::internal(format!("database: {e}")),
    }
}

/// Creates the database file readable by its owner only; SQLite gives its WAL and
/// shared-memory files the same mode.
fn create_private_file(path: &Path) -> Result<(), Error> {
    use std::os::unix::fs::OpenOptionsExt as _;
    match std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::internal(format!(
            "cannot create {}: {e}",
            path.display()
        ))),
    }
}

/// The connection pools of one backend, and the audit chain's key (loaded once the
/// keyring is, and needed by every commit that appends audit entries).
#[derive(Clone, Debug)]
pub(crate) struct Db {
    pools: Pools,
    chain: Arc<OnceLock<ChainKey>>,
}

#[derive(Clone, Debug)]
enum Pools {
    Sqlite {
        writer: SqlitePool,
        reader: SqlitePool,
    },
    Postgres(PgPool),
}

/// An open write transaction, with the audit entries it will append when it commits.
/// Dropping it without [`Tx::commit`] rolls back, entries and all.
pub(crate) struct Tx {
    conn: Conn,
    audit: Vec<AuditEntry>,
    chain: Arc<OnceLock<ChainKey>>,
}

enum Conn {
    Sqlite(sqlx::Transaction<'static, Sqlite>),
    Postgres(sqlx::Transaction<'static, Postgres>),
}

impl Db {
    pub(crate) fn dialect(&self) -> Dialect {
        match &self.pools {
            Pools::Sqlite { .. } => Dialect::Sqlite,
            Pools::Postgres(_) => Dialect::Postgres,
        }
    }

    pub(crate) async fn open_sqlite(path: &Path) -> Result<Self, Error> {
        create_private_file(path)?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .foreign_keys(true)
            .busy_timeout(Duration::from_secs(10))
            .pragma("secure_delete", "ON");
        let writer = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.clone())
            .await
            .map_err(|e| Error::internal(format!("cannot open {}: {e}", path.display())))?;
        let reader = SqlitePoolOptions::new()
            .max_connections(8)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options.read_only(true))
            .await
            .map_err(|e| Error::internal(format!("cannot open {}: {e}", path.display())))?;
        Ok(Self::new(Pools::Sqlite { writer, reader }))
    }

    pub(crate) async fn open_postgres(url: &str, max_connections: u32) -> Result<Self, Error> {
        let options = PgConnectOptions::from_str(url)
            .map_err(|e| Error::internal(format!("invalid PostgreSQL URL: {e}")))?;
        let pool = PgPoolOptions::new()
            .max_connections(max_connections)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .map_err(|e| Error::unavailable(format!("cannot connect to PostgreSQL: {e}")))?;
        Ok(Self::new(Pools::Postgres(pool)))
    }

    pub(crate) async fn migrate(&self) -> Result<(), Error> {
        let result = match &self.pools {
            Pools::Sqlite { writer, .. } => sqlx::migrate!("./migrations/sqlite").run(writer).await,
            Pools::Postgres(pool) => sqlx::migrate!("./migrations/postgres").run(pool).await,
        };
        result.map_err(|e| Error::internal(format!("database migration failed: {e}")))
    }

    fn new(pools: Pools) -> Self {
        Self {
            pools,
            chain: Arc::new(OnceLock::new()),
        }
    }

    /// Sets the audit chain's key, once the keyring is loaded.
    pub(crate) fn set_chain_key(&self, key: ChainKey) {
        let _ = self.chain.set(key);
    }

    /// The audit chain's key.
    pub(crate) fn chain_key(&self) -> Result<&ChainKey, Error> {
        self.chain
            .get()
            .ok_or_else(|| Error::internal("the audit chain key is not loaded"))
    }

    pub(crate) async fn begin(&self) -> Result<Tx, Error> {
        let conn = match &self.pools {
            Pools::Sqlite { writer, .. } => Conn::Sqlite(
                writer
                    .begin_with("BEGIN IMMEDIATE")
                    .await
                    .map_err(map_db_error)?,
            ),
            Pools::Postgres(pool) => Conn::Postgres(pool.begin().await.map_err(map_db_error)?),
        };
        Ok(Tx {
            conn,
            audit: Vec::new(),
            chain: self.chain.clone(),
        })
    }

    pub(crate) async fn optional(&self, q: Q) -> Result<Option<Row>, Error> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => q
                .sqlite()
                .fetch_optional(reader)
                .await
                .map(|r| r.map(Row::Sqlite)),
            Pools::Postgres(pool) => q
                .postgres()
                .fetch_optional(pool)
                .await
                .map(|r| r.map(Row::Postgres)),
        }
        .map_err(map_db_error)
    }

    pub(crate) async fn all(&self, q: Q) -> Result<Vec<Row>, Error> {
        match &self.pools {
            Pools::Sqlite { reader, .. } => q
                .sqlite()
                .fetch_all(reader)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Pools::Postgres(pool) => q
                .postgres()
                .fetch_all(pool)
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
        }
        .map_err(map_db_error)
    }

    pub(crate) async fn one(&self, q: Q) -> Result<Row, Error> {
        self.optional(q)
            .await?
            .ok_or_else(|| Error::internal("query returned no row"))
    }

    pub(crate) async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { writer, reader } => {
                reader.close().await;
                writer.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

impl Tx {
    pub(crate) fn dialect(&self) -> Dialect {
        match &self.conn {
            Conn::Sqlite(_) => Dialect::Sqlite,
            Conn::Postgres(_) => Dialect::Postgres,
        }
    }

    pub(crate) async fn execute(&mut self, q: Q) -> Result<u64, Error> {
        match &mut self.conn {
            Conn::Sqlite(tx) => q
                .sqlite()
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
            Conn::Postgres(tx) => q
                .postgres()
                .execute(&mut **tx)
                .await
                .map(|r| r.rows_affected()),
        }
        .map_err(map_db_error)
    }

    pub(crate) async fn optional(&mut self, q: Q) -> Result<Option<Row>, Error> {
        match &mut self.conn {
            Conn::Sqlite(tx) => q
                .sqlite()
                .fetch_optional(&mut **tx)
                .await
                .map(|r| r.map(Row::Sqlite)),
            Conn::Postgres(tx) => q
                .postgres()
                .fetch_optional(&mut **tx)
                .await
                .map(|r| r.map(Row::Postgres)),
        }
        .map_err(map_db_error)
    }

    pub(crate) async fn one(&mut self, q: Q) -> Result<Row, Error> {
        self.optional(q)
            .await?
            .ok_or_else(|| Error::internal("query returned no row"))
    }

    pub(crate) async fn all(&mut self, q: Q) -> Result<Vec<Row>, Error> {
        match &mut self.conn {
            Conn::Sqlite(tx) => q
                .sqlite()
                .fetch_all(&mut **tx)
                .await
                .map(|rows| rows.into_iter().map(Row::Sqlite).collect()),
            Conn::Postgres(tx) => q
                .postgres()
                .fetch_all(&mut **tx)
                .await
                .map(|rows| rows.into_iter().map(Row::Postgres).collect()),
        }
        .map_err(map_db_error)
    }

    /// Queues an audit entry, appended to its vault's chain when the transaction commits.
    pub(crate) fn audit(&mut self, entry: AuditEntry) {
        self.audit.push(entry);
    }

    /// Appends the queued audit entries, last (so the chain heads are locked as briefly as
    /// possible, and always after every other row), then commits.
    pub(crate) async fn commit(mut self) -> Result<(), Error> {
        let entries = std::mem::take(&mut self.audit);
        let marks: Vec<_> = entries.iter().map(|e| e.origin.recorded.clone()).collect();
        if !entries.is_empty() {
            let chain = self.chain.clone();
            let key = chain
                .get()
                .ok_or_else(|| Error::internal("the audit chain key is not loaded"))?;
            crate::audit::append(&mut self, entries, key).await?;
        }
        match self.conn {
            Conn::Sqlite(tx) => tx.commit().await,
            Conn::Postgres(tx) => tx.commit().await,
        }
        .map_err(map_db_error)?;
        for mark in marks {
            mark.set();
        }
        Ok(())
    }
}
