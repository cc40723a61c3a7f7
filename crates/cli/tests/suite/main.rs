//! Strongroom's behavioural test suite. Each rule is an `async fn(TestApp)`; the
//! `on_both_backends!` macro runs it against a real server on SQLite and again on a
//! real PostgreSQL, so the two backends are held to the same specification.

mod accounts;
mod alerts;
mod allowlist;
mod api;
mod audit;
mod broker;
mod cli;
mod custom_roles;
mod dashboard;
mod encryption;
mod isolation;
mod kv;
mod kv_clients;
mod kv_differential;
mod machine_plane;
mod machines;
mod organizations;
mod policies;
mod process;
mod reveals;
mod roles;
mod secrets;
mod tokens;

use strongroom_client::ClientError;
use strongroom_proto::{SecretWriteRequest, Sensitive, SignupRequest, StepUpRequest};

/// For each named `async fn rule(app: TestApp)`, generates `sqlite::rule` and
/// `postgres::rule` tests, each with a fresh server and database.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(strongroom_testkit::TestApp::spawn(strongroom_testkit::Backend::Sqlite).await).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(strongroom_testkit::TestApp::spawn(strongroom_testkit::Backend::Postgres).await).await;
                }
            )*
        }
    };
}

/// For each named `async fn rule(backend: Backend)` (a rule that starts its own, specially
/// configured server), generates `each_backend::sqlite::rule` and
/// `each_backend::postgres::rule` tests.
#[macro_export]
macro_rules! each_backend {
    ($($name:ident),* $(,)?) => {
        mod each_backend {
            mod sqlite {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        super::super::$name(strongroom_testkit::Backend::Sqlite).await;
                    }
                )*
            }
            mod postgres {
                $(
                    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                    async fn $name() {
                        super::super::$name(strongroom_testkit::Backend::Postgres).await;
                    }
                )*
            }
        }
    };
}

/// Asserts that a call failed with the given stable error code, and returns the error.
#[track_caller]
pub fn expect_code<T: std::fmt::Debug>(result: Result<T, ClientError>, code: &str) -> ClientError {
    match result {
        Ok(value) => panic!("expected error {code}, got success: {value:?}"),
        Err(e) => {
            assert_eq!(e.code(), Some(code), "expected {code}, got {e:?}");
            e
        }
    }
}

/// Unwraps a client result with the error in the panic message.
#[track_caller]
pub fn ok<T>(result: Result<T, ClientError>) -> T {
    match result {
        Ok(v) => v,
        Err(e) => panic!("unexpected error: {e:?}"),
    }
}

/// A token of `kind` (`agent` or `ci`) opening `scopes` with `verbs`, without expiry or
/// address ranges.
pub fn token_request(
    name: &str,
    kind: &str,
    scopes: &[&str],
    verbs: &[&str],
) -> strongroom_proto::CreateTokenRequest {
    strongroom_proto::CreateTokenRequest {
        name: name.into(),
        kind: kind.into(),
        scopes: scopes.iter().map(|s| (*s).to_owned()).collect(),
        verbs: verbs.iter().map(|s| (*s).to_owned()).collect(),
        expires_in_hours: None,
        cidrs: Vec::new(),
    }
}

/// A write of `v` with no metadata changes.
pub fn value(v: &str) -> SecretWriteRequest {
    SecretWriteRequest {
        value: Sensitive::new(v),
        secret_type: None,
        note: None,
        tags: None,
        expected_version: None,
    }
}

/// A sign-up request.
pub fn signup_request(username: &str, email: &str, password: &str) -> SignupRequest {
    SignupRequest {
        username: username.into(),
        email: email.into(),
        password: Sensitive::new(password),
    }
}

/// A step-up request.
pub fn step_up_request(password: &str, totp_code: Option<String>) -> StepUpRequest {
    StepUpRequest {
        password: Sensitive::new(password),
        totp_code,
    }
}

/// Waits, if needed, until a fresh 30-second TOTP step has begun (at most 10 seconds), so
/// that the codes a test computes for the previous, current and next steps stay valid
/// for the whole test, however slowly a loaded machine runs its requests.
pub async fn early_in_a_totp_step() {
    let into_step = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() % 30)
        .unwrap_or(0);
    if into_step >= 20 {
        tokio::time::sleep(std::time::Duration::from_secs(30 - into_step)).await;
    }
}

/// `user`'s machine `deployer`, attached to `project` with reveal, and an AppRole secret
/// id for it.
pub async fn machine_with_approle(
    user: &strongroom_testkit::TestUser,
    project: &str,
) -> strongroom_proto::ApproleIssued {
    let key = strongroom_crypto::machine_key::MachineKey::generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .public();
    ok(user
        .client
        .register_machine("deployer", &key.to_openssh(""), None)
        .await);
    ok(user
        .client
        .attach_machine("deployer", project, &[], &["reveal".to_owned()])
        .await);
    ok(user
        .client
        .issue_approle(
            "deployer",
            &strongroom_proto::IssueApproleRequest::default(),
        )
        .await)
}
