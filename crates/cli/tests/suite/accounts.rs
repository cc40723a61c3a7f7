//! Accounts: sign-up, sign-in, sessions, TOTP, recovery codes, step-up, throttling.

use crate::{expect_code, ok, signup_request, step_up_request};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use strongroom_client::Client;
use strongroom_crypto::totp::TotpSecret;
use strongroom_proto::{ChangePasswordRequest, LoginRequest, Sensitive};
use strongroom_server::Settings;
use strongroom_testkit::{Backend, PASSWORD, TestApp, TestUser};

fn login_request(username: &str, password: &str) -> LoginRequest {
    LoginRequest {
        username: username.into(),
        password: Sensitive::new(password),
        totp_code: None,
        recovery_code: None,
    }
}

pub(crate) fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Turns TOTP on for `user`; returns the secret so the test can compute codes.
pub(crate) async fn enable_totp(user: &TestUser) -> (TotpSecret, Vec<String>) {
    crate::early_in_a_totp_step().await;
    let enrollment = ok(user.client.totp_begin().await);
    let bytes = totp_rs::Secret::Encoded(enrollment.secret_base32.expose().to_owned())
        .to_bytes()
        .unwrap_or_else(|e| panic!("{e:?}"));
    let secret = TotpSecret::from_bytes(bytes);
    // Confirm with the previous step's code (still accepted), leaving the current and
    // next steps for the test's own sign-ins.
    let code = secret.code_at(now() - 30).unwrap_or_default();
    let codes = ok(user.client.totp_confirm(&code).await);
    (
        secret,
        codes.codes.iter().map(|c| c.expose().to_owned()).collect(),
    )
}

async fn signup_creates_an_account_with_a_personal_vault(app: TestApp) {
    let alice = app.signup("alice").await;
    let me = ok(alice.client.whoami().await);
    assert_eq!(me.user.username, "alice");
    assert!(me.vault.id.starts_with("vault_"), "{}", me.vault.id);
    assert_eq!(me.vault.id, me.user.personal_vault_id);
    assert_eq!(
        (me.vault.kind.as_str(), me.vault.role.as_str()),
        ("personal", "owner")
    );
    let vaults = ok(alice.client.vaults().await);
    assert_eq!(vaults.len(), 1);
    assert_eq!(vaults[0].id, me.vault.id);
}

async fn the_personal_vault_id_is_stable_across_sessions(app: TestApp) {
    let alice = app.signup("alice").await;
    let first = ok(alice.client.whoami().await).vault.id;
    let again = ok(app.client.login(&login_request("alice", PASSWORD)).await);
    assert_eq!(again.user.personal_vault_id, first);
}

async fn sign_up_validates_username_email_and_password(app: TestApp) {
    let cases = [
        ("a", "a@example.com", PASSWORD, "invalid_account"),
        ("../root", "r@example.com", PASSWORD, "invalid_account"),
        ("carol", "not-an-email", PASSWORD, "invalid_account"),
        ("carol", "c@example.com", "short", "invalid_password"),
    ];
    for (username, email, password, code) in cases {
        expect_code(
            app.client
                .signup(&signup_request(username, email, password))
                .await,
            code,
        );
    }
}

async fn a_taken_username_is_refused_but_an_email_address_reveals_nothing(app: TestApp) {
    app.signup("alice").await;
    let again = signup_request("ALICE", "other@example.com", PASSWORD);
    expect_code(app.client.signup(&again).await, "already_exists");
    // An address says nothing about other accounts: a second account may type it in,
    // and only one can ever verify it.
    let same_email = signup_request("alice2", "Alice@Example.com", PASSWORD);
    ok(app.client.signup(&same_email).await);
}

async fn every_sign_in_gets_a_new_session(app: TestApp) {
    let alice = app.signup("alice").await;
    let a = ok(app.client.login(&login_request("alice", PASSWORD)).await);
    let b = ok(app.client.login(&login_request("alice", PASSWORD)).await);
    assert_ne!(a.token.expose(), b.token.expose());
    assert_ne!(a.session.id, b.session.id);
    assert_ne!(a.token.expose(), alice.token);
    ok(app.client.with_token(a.token.expose()).whoami().await);
    ok(app.client.with_token(b.token.expose()).whoami().await);
}

async fn a_bad_sign_in_never_tells_whether_the_username_exists(app: TestApp) {
    app.signup("alice").await;
    let wrong_password = app
        .client
        .login(&login_request("alice", "wrong password here"))
        .await;
    let unknown_user = app
        .client
        .login(&login_request("nobody", "wrong password here"))
        .await;
    let malformed_user = app
        .client
        .login(&login_request("x", "wrong password here"))
        .await;
    let (a, b, c) = (
        expect_code(wrong_password, "invalid_credentials"),
        expect_code(unknown_user, "invalid_credentials"),
        expect_code(malformed_user, "invalid_credentials"),
    );
    assert_eq!(a.to_string(), b.to_string());
    assert_eq!(a.to_string(), c.to_string());
}

async fn failed_sign_ins_are_rate_limited_per_account(app: TestApp) {
    app.signup("alice").await;
    app.signup("bob").await;
    for _ in 0..10 {
        expect_code(
            app.client
                .login(&login_request("alice", "wrong password!"))
                .await,
            "invalid_credentials",
        );
    }
    // Even the right password is refused now, for this account only.
    expect_code(
        app.client.login(&login_request("alice", PASSWORD)).await,
        "rate_limited",
    );
    ok(app.client.login(&login_request("bob", PASSWORD)).await);
    // An unknown name is throttled exactly the same way: no existence oracle.
    for _ in 0..10 {
        expect_code(
            app.client
                .login(&login_request("ghost", "wrong password!"))
                .await,
            "invalid_credentials",
        );
    }
    expect_code(
        app.client
            .login(&login_request("ghost", "wrong password!"))
            .await,
        "rate_limited",
    );
}

async fn failed_sign_ins_are_rate_limited_per_address(app: TestApp) {
    // Ten failures for each of ten names from one address hit the address's limit.
    for i in 0..10 {
        for _ in 0..10 {
            let _ = app
                .client
                .login(&login_request(&format!("user{i}"), "wrong password!"))
                .await;
        }
    }
    app.signup("alice").await;
    expect_code(
        app.client.login(&login_request("alice", PASSWORD)).await,
        "rate_limited",
    );
}

async fn sign_ups_are_rate_limited_per_address(app: TestApp) {
    for i in 0..20 {
        app.signup(&format!("user{i}")).await;
    }
    let one_more = signup_request("user20", "user20@example.com", PASSWORD);
    expect_code(app.client.signup(&one_more).await, "rate_limited");
    // Existing accounts still sign in.
    ok(app.client.login(&login_request("user0", PASSWORD)).await);
}

async fn logout_ends_the_session_on_the_server(app: TestApp) {
    let alice = app.signup("alice").await;
    ok(alice.client.logout().await);
    expect_code(alice.client.whoami().await, "unauthenticated");
}

async fn sessions_can_be_listed_and_revoked(app: TestApp) {
    let alice = app.signup("alice").await;
    let laptop = ok(app.client.login(&login_request("alice", PASSWORD)).await);
    let sessions = ok(alice.client.sessions().await);
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    ok(alice.client.revoke_session(&laptop.session.id).await);
    expect_code(
        app.client.with_token(laptop.token.expose()).whoami().await,
        "unauthenticated",
    );
    expect_code(
        alice.client.revoke_session(&laptop.session.id).await,
        "not_found",
    );
    assert_eq!(ok(alice.client.sessions().await).len(), 1);
}

async fn nobody_can_revoke_another_users_session(app: TestApp) {
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    expect_code(
        bob.client.revoke_session(&alice.signup.session.id).await,
        "not_found",
    );
    ok(alice.client.whoami().await);
}

async fn totp_is_on_only_after_a_confirming_code(app: TestApp) {
    let alice = app.signup("alice").await;
    let enrollment = ok(alice.client.totp_begin().await);
    assert!(
        enrollment
            .otpauth_url
            .expose()
            .starts_with("otpauth://totp/Strongroom:alice")
    );
    expect_code(alice.client.totp_confirm("000000").await, "invalid_totp");
    assert!(!ok(alice.client.whoami().await).user.totp_enabled);
    // Sign-in still needs no code while enrolment is unconfirmed.
    ok(app.client.login(&login_request("alice", PASSWORD)).await);
}

async fn with_totp_sign_in_needs_a_valid_code(app: TestApp) {
    let alice = app.signup("alice").await;
    let (secret, codes) = enable_totp(&alice).await;
    assert_eq!(codes.len(), 10);
    assert!(ok(alice.client.whoami().await).user.totp_enabled);
    expect_code(
        app.client.login(&login_request("alice", PASSWORD)).await,
        "totp_required",
    );
    let mut wrong = login_request("alice", PASSWORD);
    wrong.totp_code = Some("123456".into());
    if secret.code_at(now()).ok().as_deref() != Some("123456") {
        expect_code(app.client.login(&wrong).await, "invalid_totp");
    }
    let mut right = login_request("alice", PASSWORD);
    right.totp_code = secret.code_at(now() + 30).ok();
    ok(app.client.login(&right).await);
}

async fn a_totp_code_cannot_be_used_twice(app: TestApp) {
    let alice = app.signup("alice").await;
    let (secret, _) = enable_totp(&alice).await;
    let mut request = login_request("alice", PASSWORD);
    request.totp_code = secret.code_at(now() + 30).ok();
    ok(app.client.login(&request).await);
    expect_code(app.client.login(&request).await, "invalid_totp");
    // Once a code was used, older codes are refused too.
    request.totp_code = secret.code_at(now()).ok();
    expect_code(app.client.login(&request).await, "invalid_totp");
}

async fn a_recovery_code_works_exactly_once(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, codes) = enable_totp(&alice).await;
    let mut request = login_request("alice", PASSWORD);
    request.recovery_code = Some(Sensitive::new(codes[3].to_uppercase()));
    ok(app.client.login(&request).await);
    expect_code(app.client.login(&request).await, "invalid_totp");
}

async fn sensitive_actions_need_a_recent_step_up(app: TestApp) {
    let alice = app.signup("alice").await;
    let (secret, codes) = enable_totp(&alice).await;
    expect_code(alice.client.totp_disable().await, "step_up_required");
    expect_code(
        alice.client.regenerate_recovery_codes().await,
        "step_up_required",
    );
    let wrong = step_up_request("not my password", None);
    expect_code(alice.client.step_up(&wrong).await, "invalid_credentials");
    let no_code = step_up_request(PASSWORD, None);
    expect_code(alice.client.step_up(&no_code).await, "totp_required");
    let right = step_up_request(PASSWORD, secret.code_at(now() + 30).ok());
    ok(alice.client.step_up(&right).await);
    let fresh = ok(alice.client.regenerate_recovery_codes().await);
    assert!(
        fresh
            .codes
            .iter()
            .all(|c| !codes.contains(&c.expose().to_owned()))
    );
    ok(alice.client.totp_disable().await);
    assert!(!ok(alice.client.whoami().await).user.totp_enabled);
    ok(app.client.login(&login_request("alice", PASSWORD)).await);
}

async fn a_password_change_needs_step_up_and_ends_other_sessions(app: TestApp) {
    let alice = app.signup("alice").await;
    let other = ok(app.client.login(&login_request("alice", PASSWORD)).await);
    let change = ChangePasswordRequest {
        new_password: Sensitive::new("a brand new passphrase"),
    };
    expect_code(
        alice.client.change_password(&change).await,
        "step_up_required",
    );
    ok(alice.client.step_up(&step_up_request(PASSWORD, None)).await);
    ok(alice.client.change_password(&change).await);
    ok(alice.client.whoami().await);
    expect_code(
        app.client.with_token(other.token.expose()).whoami().await,
        "unauthenticated",
    );
    expect_code(
        app.client.login(&login_request("alice", PASSWORD)).await,
        "invalid_credentials",
    );
    ok(app
        .client
        .login(&login_request("alice", "a brand new passphrase"))
        .await);
}

async fn expired_sessions_and_step_ups_are_refused(backend: Backend) {
    let settings = Settings {
        session_ttl_ms: 1500,
        step_up_window_ms: 500,
        ..Settings::default()
    };
    let app = TestApp::spawn_with(backend, settings).await;
    let alice = app.signup("alice").await;
    ok(alice.client.step_up(&step_up_request(PASSWORD, None)).await);
    tokio::time::sleep(Duration::from_millis(700)).await;
    expect_code(
        alice
            .client
            .change_password(&ChangePasswordRequest {
                new_password: Sensitive::new("another good passphrase"),
            })
            .await,
        "step_up_required",
    );
    tokio::time::sleep(Duration::from_millis(1000)).await;
    expect_code(alice.client.whoami().await, "unauthenticated");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_and_step_ups_are_refused_on_sqlite() {
    expired_sessions_and_step_ups_are_refused(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_sessions_and_step_ups_are_refused_on_postgres() {
    expired_sessions_and_step_ups_are_refused(Backend::Postgres).await;
}

async fn a_garbage_token_is_unauthenticated(app: TestApp) {
    let client: Client = app.client.with_token("srs_not-a-real-token");
    expect_code(client.whoami().await, "unauthenticated");
    expect_code(app.client.whoami().await, "unauthenticated");
}

crate::on_both_backends!(
    signup_creates_an_account_with_a_personal_vault,
    the_personal_vault_id_is_stable_across_sessions,
    sign_up_validates_username_email_and_password,
    a_taken_username_is_refused_but_an_email_address_reveals_nothing,
    every_sign_in_gets_a_new_session,
    a_bad_sign_in_never_tells_whether_the_username_exists,
    failed_sign_ins_are_rate_limited_per_account,
    failed_sign_ins_are_rate_limited_per_address,
    sign_ups_are_rate_limited_per_address,
    logout_ends_the_session_on_the_server,
    sessions_can_be_listed_and_revoked,
    nobody_can_revoke_another_users_session,
    totp_is_on_only_after_a_confirming_code,
    with_totp_sign_in_needs_a_valid_code,
    a_totp_code_cannot_be_used_twice,
    a_recovery_code_works_exactly_once,
    sensitive_actions_need_a_recent_step_up,
    a_password_change_needs_step_up_and_ends_other_sessions,
    a_garbage_token_is_unauthenticated,
);
