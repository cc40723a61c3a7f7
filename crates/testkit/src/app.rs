//! [`TestApp`]: the real server, in this process, on a free port, with its own data
//! directory and database; and [`TestUser`]: a signed-up account with a client.

use crate::PASSWORD;
use crate::postgres::TestDatabase;
use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection, Row, SqliteConnection};
use strongroom_client::Client;
use strongroom_proto::{LoginResponse, Sensitive, SignupRequest};
use strongroom_server::{RunningServer, ServerConfig, Settings};
use tempfile::TempDir;

/// Which database the server under test uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// SQLite in the data directory.
    Sqlite,
    /// A fresh PostgreSQL database.
    Postgres,
}

/// A running Strongroom server for one test.
pub struct TestApp {
    /// Which backend.
    pub backend: Backend,
    /// Base URL, e.g. `http://127.0.0.1:40123`.
    pub url: String,
    /// A client that is not signed in.
    pub client: Client,
    /// The server's configuration (to restart it, or to run the CLI against its data).
    pub config: ServerConfig,
    settings: Settings,
    server: Option<RunningServer>,
    other_nodes: Vec<RunningServer>,
    database: Option<TestDatabase>,
    data_dir: TempDir,
}

/// A signed-up account.
pub struct TestUser {
    /// Username.
    pub username: String,
    /// Session token.
    pub token: String,
    /// A client signed in as this user.
    pub client: Client,
    /// What sign-up returned.
    pub signup: LoginResponse,
}

impl TestApp {
    /// Starts a server with default settings.
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, Settings::default()).await
    }

    /// Starts a server that sends its mail through `sink`.
    pub async fn spawn_with_mail(backend: Backend, sink: &crate::MailSink) -> Self {
        Self::spawn_configured(backend, Settings::default(), |config| {
            config.smtp = Some(strongroom_server::SmtpSettings {
                host: "127.0.0.1".into(),
                port: Some(sink.port),
                security: Some("none".into()),
                username: None,
                password: None,
                from: "Strongroom <strongroom@example.com>".into(),
            });
        })
        .await
    }

    /// Starts a server with the given settings.
    pub async fn spawn_with(backend: Backend, settings: Settings) -> Self {
        Self::spawn_configured(backend, settings, |_| {}).await
    }

    /// Starts a server with default settings and `configure` applied to its configuration.
    pub async fn spawn_configured(
        backend: Backend,
        settings: Settings,
        configure: impl FnOnce(&mut ServerConfig),
    ) -> Self {
        init_logging();
        let data_dir = tempfile::tempdir().unwrap_or_else(|e| panic!("temp dir: {e}"));
        let database = match backend {
            Backend::Sqlite => None,
            Backend::Postgres => Some(TestDatabase::create().await),
        };
        let mut config = ServerConfig::defaults();
        config.listen = "127.0.0.1:0".parse().unwrap_or(config.listen);
        config.data_dir = data_dir.path().join("data");
        config.database_url = database.as_ref().map(|d| d.url.clone());
        configure(&mut config);
        let server = strongroom_server::start(config.clone(), settings.clone())
            .await
            .unwrap_or_else(|e| panic!("server did not start: {e}"));
        let url = server.url.clone();
        let client = Client::new(&url, None).unwrap_or_else(|e| panic!("client: {e}"));
        Self {
            backend,
            url,
            client,
            config,
            settings,
            server: Some(server),
            other_nodes: Vec::new(),
            database,
            data_dir,
        }
    }

    /// The data directory (root key file, SQLite database).
    pub fn data_dir(&self) -> std::path::PathBuf {
        self.config.data_dir.clone()
    }

    /// A scratch directory next to the data directory, removed with the app.
    pub fn scratch(&self) -> std::path::PathBuf {
        self.data_dir.path().to_owned()
    }

    /// Stops the server (and any other nodes) cleanly.
    pub async fn stop(&mut self) {
        for node in self.other_nodes.drain(..) {
            node.stop()
                .await
                .unwrap_or_else(|e| panic!("a second node did not stop cleanly: {e}"));
        }
        if let Some(server) = self.server.take() {
            server
                .stop()
                .await
                .unwrap_or_else(|e| panic!("server did not stop cleanly: {e}"));
        }
    }

    /// Stops and starts the server on the same data (the port changes).
    pub async fn restart(&mut self) {
        self.stop().await;
        let server = strongroom_server::start(self.config.clone(), self.settings.clone())
            .await
            .unwrap_or_else(|e| panic!("server did not restart: {e}"));
        self.url = server.url.clone();
        self.client = Client::new(&self.url, None).unwrap_or_else(|e| panic!("client: {e}"));
        self.server = Some(server);
    }

    /// Signs up `username` (email `username@example.com`, password [`PASSWORD`]).
    pub async fn signup(&self, username: &str) -> TestUser {
        let signup = self
            .client
            .signup(&SignupRequest {
                username: username.to_owned(),
                email: format!("{username}@example.com"),
                password: Sensitive::new(PASSWORD),
            })
            .await
            .unwrap_or_else(|e| panic!("signup of {username} failed: {e}"));
        let token = signup.token.expose().to_owned();
        TestUser {
            username: username.to_owned(),
            client: self.client.with_token(token.clone()),
            token,
            signup,
        }
    }

    /// Signs up `username` and creates `app/project` (with its three environments).
    pub async fn user_with_project(&self, username: &str, project_path: &str) -> TestUser {
        let user = self.signup(username).await;
        let (app, _) = project_path.split_once('/').unwrap_or((project_path, ""));
        user.client
            .create_app(app)
            .await
            .unwrap_or_else(|e| panic!("create app: {e}"));
        user.client
            .create_project(project_path)
            .await
            .unwrap_or_else(|e| panic!("create project: {e}"));
        user
    }

    /// Starts another server node on the same database and key file (PostgreSQL only:
    /// that is how several nodes share one deployment). Returns its base URL; the node
    /// stops with the app.
    pub async fn second_node(&mut self) -> String {
        assert_eq!(
            self.backend,
            Backend::Postgres,
            "several nodes share PostgreSQL, not SQLite"
        );
        let node = strongroom_server::start(self.config.clone(), self.settings.clone())
            .await
            .unwrap_or_else(|e| panic!("second node did not start: {e}"));
        let url = node.url.clone();
        self.other_nodes.push(node);
        url
    }

    /// The store as the operator's `strongroom admin` commands open it: the same data
    /// directory or database, alongside the running server.
    pub async fn operator_store(&self) -> strongroom_store::Store {
        strongroom_server::open_store(&self.config)
            .await
            .unwrap_or_else(|e| panic!("operator store: {e}"))
            .store
    }

    /// Marks `username`'s email address verified, as `strongroom admin verify-email` does.
    pub async fn verify_email(&self, username: &str) {
        let username =
            strongroom_core::account::Username::parse(username).unwrap_or_else(|e| panic!("{e}"));
        let store = self.operator_store().await;
        store
            .mark_email_verified(&username)
            .await
            .unwrap_or_else(|e| panic!("verify {username}: {e}"));
        store.close().await;
    }

    /// Sets an organization's plan, as `strongroom admin set-plan` does.
    pub async fn set_plan(&self, vault: &str, plan: &str) {
        let store = self.operator_store().await;
        let plan = plan.parse().unwrap_or_else(|e| panic!("{e}"));
        store
            .set_plan(vault, plan)
            .await
            .unwrap_or_else(|e| panic!("set plan: {e}"));
        store.close().await;
    }

    /// Signs up `username` with a verified email address.
    pub async fn verified_user(&self, username: &str) -> TestUser {
        let user = self.signup(username).await;
        self.verify_email(username).await;
        user
    }

    /// `owner` creates organization `org` and switches to it; each of `members` (signed
    /// up and verified here) is invited with their role, accepts and switches to it. An
    /// organization of more than three members is put on the team plan first.
    pub async fn organization(
        &self,
        owner: &TestUser,
        org: &str,
        members: &[(&str, &str)],
    ) -> (strongroom_proto::VaultInfo, Vec<TestUser>) {
        let vault = owner
            .client
            .create_organization(org)
            .await
            .unwrap_or_else(|e| panic!("create organization {org}: {e}"));
        owner
            .client
            .switch_vault(&vault.id)
            .await
            .unwrap_or_else(|e| panic!("switch to {org}: {e}"));
        if members.len() + 1 > 3 {
            self.set_plan(&vault.id, "team").await;
        }
        let mut joined = Vec::new();
        for (username, role) in members {
            let user = self.verified_user(username).await;
            owner
                .client
                .invite(&format!("{username}@example.com"), Some(role))
                .await
                .unwrap_or_else(|e| panic!("invite {username}: {e}"));
            let invite = user
                .client
                .received_invites()
                .await
                .unwrap_or_else(|e| panic!("invites of {username}: {e}"))
                .into_iter()
                .find(|i| i.vault_id == vault.id)
                .unwrap_or_else(|| panic!("{username} has no invite to {org}"));
            user.client
                .accept_invite(&invite.id)
                .await
                .unwrap_or_else(|e| panic!("{username} accepts: {e}"));
            user.client
                .switch_vault(&vault.id)
                .await
                .unwrap_or_else(|e| panic!("{username} switches to {org}: {e}"));
            joined.push(user);
        }
        (vault, joined)
    }

    /// The organization most dashboard tests start from: alice owns `acme`, where
    /// `payments/api` holds `production/STRIPE_KEY` (value [`crate::READERS_VALUE`]);
    /// bob is a developer and, like each of `others`, holds the access role `readers`,
    /// which opens everything but switches reveal off in production.
    pub async fn readers_organization(
        &self,
        others: &[(&str, &str)],
    ) -> (TestUser, strongroom_proto::VaultInfo) {
        let alice = self.verified_user("alice").await;
        let mut cast = vec![("bob", "developer")];
        cast.extend_from_slice(others);
        let (org, _) = self.organization(&alice, "acme", &cast).await;
        let fail = |what: &str, e: strongroom_client::ClientError| -> ! { panic!("{what}: {e}") };
        alice
            .client
            .create_app("payments")
            .await
            .unwrap_or_else(|e| fail("create app", e));
        alice
            .client
            .create_project("payments/api")
            .await
            .unwrap_or_else(|e| fail("create project", e));
        alice
            .client
            .put_secret(
                "payments/api/production/STRIPE_KEY",
                &strongroom_proto::SecretWriteRequest {
                    value: Sensitive::new(crate::READERS_VALUE),
                    secret_type: None,
                    note: Some("billing".into()),
                    tags: None,
                    expected_version: None,
                },
            )
            .await
            .unwrap_or_else(|e| fail("write secret", e));
        alice
            .client
            .create_access_role(
                "readers",
                serde_json::json!({"scope": "everything", "environments": {"production": ["reveal"]}}),
            )
            .await
            .unwrap_or_else(|e| fail("create access role", e));
        for (username, _) in &cast {
            alice
                .client
                .set_member_access_role(username, Some("readers"))
                .await
                .unwrap_or_else(|e| fail("give readers", e));
        }
        (alice, org)
    }

    /// Whether this server runs on PostgreSQL.
    pub fn is_postgres(&self) -> bool {
        self.database.is_some()
    }

    /// The allowed changes recorded in `vault` (reads, which are `info`, and refusals
    /// left out), oldest first, as `(actor name, action, target)`.
    pub async fn audit_trail(&self, vault: &str) -> Vec<(String, String, String)> {
        let sql = "SELECT actor_name, action, target FROM audit_events WHERE vault_id = $1 \
                   AND outcome = 'allowed' AND severity <> 'info' ORDER BY seq";
        let rows: Vec<(String, String, String)> = match &self.database {
            Some(db) => {
                let mut conn = postgres(&db.url).await;
                sqlx::query_as(sql).bind(vault).fetch_all(&mut conn).await
            }
            None => {
                let mut conn = sqlite(&self.config.sqlite_path()).await;
                sqlx::query_as(sql).bind(vault).fetch_all(&mut conn).await
            }
        }
        .unwrap_or_else(|e| panic!("{e}"));
        rows
    }

    /// The first column of every row of `sql`, as text (for checking invariants directly
    /// in the database).
    pub async fn query_column(&self, sql: &str) -> Vec<String> {
        let rows: Vec<(String,)> = match &self.database {
            Some(db) => {
                let mut conn = postgres(&db.url).await;
                sqlx::query_as(AssertSqlSafe(sql.to_owned()))
                    .fetch_all(&mut conn)
                    .await
            }
            None => {
                let mut conn = sqlite(&self.config.sqlite_path()).await;
                sqlx::query_as(AssertSqlSafe(sql.to_owned()))
                    .fetch_all(&mut conn)
                    .await
            }
        }
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
        rows.into_iter().map(|(v,)| v).collect()
    }

    /// Runs raw SQL against the server's database (to tamper with it in tests).
    pub async fn execute_sql(&self, sql: &str) -> u64 {
        match &self.database {
            Some(db) => {
                let mut conn = postgres(&db.url).await;
                conn.execute(AssertSqlSafe(sql.to_owned()))
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .rows_affected()
            }
            None => {
                let mut conn = sqlite(&self.config.sqlite_path()).await;
                conn.execute(AssertSqlSafe(sql.to_owned()))
                    .await
                    .unwrap_or_else(|e| panic!("{sql}: {e}"))
                    .rows_affected()
            }
        }
    }

    /// The schema as `(table, column, kind, nullable)`, with each backend's types named
    /// by what they hold (`int`, `text`, `bytes`), to compare the two backends.
    pub async fn schema(&self) -> std::collections::BTreeSet<(String, String, String, bool)> {
        let kind = |t: &str| match t.to_ascii_lowercase().as_str() {
            "integer" | "bigint" => "int".to_owned(),
            "text" => "text".to_owned(),
            "blob" | "bytea" => "bytes".to_owned(),
            other => other.to_owned(),
        };
        let mut out = std::collections::BTreeSet::new();
        match &self.database {
            Some(db) => {
                let mut conn = postgres(&db.url).await;
                let rows = sqlx::query(
                    "SELECT table_name::text AS t, column_name::text AS c, data_type::text AS ty, \
                     (is_nullable = 'YES') AS n FROM information_schema.columns \
                     WHERE table_schema = 'public' AND table_name NOT LIKE '\\_sqlx%'",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
                for r in rows {
                    out.insert((
                        r.get("t"),
                        r.get("c"),
                        kind(&r.get::<String, _>("ty")),
                        r.get("n"),
                    ));
                }
            }
            None => {
                let mut conn = sqlite(&self.config.sqlite_path()).await;
                let rows = sqlx::query(
                    "SELECT m.name AS t, p.name AS c, p.type AS ty, p.\"notnull\" AS nn, p.pk AS pk \
                     FROM sqlite_master m JOIN pragma_table_info(m.name) p \
                     WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\\_%' ESCAPE '\\' \
                     AND m.name NOT LIKE '\\_sqlx%' ESCAPE '\\'",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
                for r in rows {
                    // SQLite lets primary-key columns be NULL unless declared otherwise;
                    // PostgreSQL makes them NOT NULL. Compare what each enforces.
                    let nullable = r.get::<i64, _>("nn") == 0 && r.get::<i64, _>("pk") == 0;
                    out.insert((
                        r.get("t"),
                        r.get("c"),
                        kind(&r.get::<String, _>("ty")),
                        nullable,
                    ));
                }
            }
        }
        out
    }

    /// Whether `needle` appears anywhere in the stored database, as raw bytes or in hex
    /// (PostgreSQL renders binary columns as hex in the dump).
    pub async fn database_contains(&self, needle: &str) -> bool {
        let raw = needle.as_bytes();
        let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
        self.dump_database().await.iter().any(|blob| {
            blob.windows(raw.len()).any(|w| w == raw)
                || blob.windows(hex.len()).any(|w| w == hex.as_bytes())
        })
    }

    /// Every row of every table (PostgreSQL, as JSON text) or the database, WAL and
    /// shared-memory files (SQLite): what an attacker holding a copy would see.
    pub async fn dump_database(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        match &self.database {
            Some(db) => {
                let mut conn = postgres(&db.url).await;
                let tables = sqlx::query(
                    "SELECT table_name::text AS t FROM information_schema.tables WHERE table_schema = 'public'",
                )
                .fetch_all(&mut conn)
                .await
                .unwrap_or_else(|e| panic!("{e}"));
                for table in tables {
                    let name: String = table.get("t");
                    let rows = sqlx::query(AssertSqlSafe(format!(
                        "SELECT convert_to(row_to_json(x)::text, 'UTF8') AS r FROM \"{name}\" x"
                    )))
                    .fetch_all(&mut conn)
                    .await
                    .unwrap_or_else(|e| panic!("{e}"));
                    out.extend(rows.iter().map(|r| r.get::<Vec<u8>, _>("r")));
                }
            }
            None => {
                for suffix in ["", "-wal", "-shm"] {
                    let path = format!("{}{suffix}", self.config.sqlite_path().display());
                    if let Ok(bytes) = std::fs::read(&path) {
                        out.push(bytes);
                    }
                }
            }
        }
        out
    }
}

async fn postgres(url: &str) -> PgConnection {
    PgConnection::connect(url)
        .await
        .unwrap_or_else(|e| panic!("cannot connect to the test database: {e}"))
}

async fn sqlite(path: &std::path::Path) -> SqliteConnection {
    SqliteConnection::connect(&format!("sqlite://{}", path.display()))
        .await
        .unwrap_or_else(|e| panic!("cannot open {}: {e}", path.display()))
}

/// Server warnings and errors go to the test's captured output, so a failing test shows
/// what the server logged (`STRONGROOM_LOG` widens it).
fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("STRONGROOM_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_test_writer()
        .try_init();
}
