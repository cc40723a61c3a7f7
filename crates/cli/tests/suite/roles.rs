//! Vault roles: the management matrix of the built-in roles, and who may see it.

use crate::{expect_code, ok, value};
use strongroom_testkit::TestApp;

async fn roles_are_listed_to_those_who_may_view_them(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(&alice, "acme", &[("adm", "admin"), ("dev", "developer")])
        .await;
    let roles = ok(alice.client.roles().await);
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["owner", "admin", "developer", "collaborator"]);
    assert!(!roles[0].assignable && roles[1..].iter().all(|r| r.assignable));
    assert_eq!(
        ok(members[0].client.role("developer").await)
            .capabilities
            .len(),
        7
    );
    expect_code(members[0].client.role("nope").await, "not_found");
    expect_code(members[1].client.roles().await, "permission_denied");
}

#[test]
fn the_built_in_matrix_is_printed_without_a_server() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(["roles", "show", "collaborator", "--json"])
        .env("STRONGROOM_CONFIG_DIR", "/nonexistent/strongroom-test")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let role: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        role["capabilities"],
        serde_json::json!(["overview", "audit.view_own"])
    );
    let table = std::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(["roles", "show", "owner"])
        .env("STRONGROOM_CONFIG_DIR", "/nonexistent/strongroom-test")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("organization.transfer") && text.contains("not assignable"),
        "{text}"
    );
}

use serde_json::json;

/// Owner alice's organization with payments/api (KEY, STRIPE_KEY, TLS certificate) and
/// billing/api (KEY), and dev, a developer with no access role yet.
async fn vault_with_a_developer(
    app: &TestApp,
) -> (strongroom_testkit::TestUser, strongroom_testkit::TestUser) {
    let alice = app.signup("alice").await;
    let (_, mut members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    for project in ["payments/api", "billing/api"] {
        let app_name = project.split('/').next().unwrap_or_default();
        if ok(alice.client.apps().await)
            .iter()
            .all(|a| a.name != app_name)
        {
            ok(alice.client.create_app(app_name).await);
        }
        ok(alice.client.create_project(project).await);
        ok(alice
            .client
            .put_secret(&format!("{project}/production/KEY"), &value("v"))
            .await);
    }
    ok(alice.client.create_project("payments/worker").await);
    ok(alice
        .client
        .put_secret("payments/api/production/STRIPE_KEY", &value("sk"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/staging/KEY", &value("staging"))
        .await);
    let cert = strongroom_proto::SecretWriteRequest {
        value: strongroom_proto::Sensitive::new("-----BEGIN CERTIFICATE-----"),
        secret_type: Some("certificate".into()),
        note: None,
        tags: None,
        expected_version: None,
    };
    ok(alice
        .client
        .put_secret("payments/api/production/TLS", &cert)
        .await);
    (alice, members.remove(0))
}

async fn give(alice: &strongroom_testkit::TestUser, name: &str, spec: serde_json::Value) {
    ok(alice.client.create_access_role(name, spec).await);
    ok(alice.client.set_member_access_role("dev", Some(name)).await);
}

fn names(list: Vec<strongroom_proto::SecretMetadata>) -> Vec<String> {
    list.into_iter().map(|s| s.name).collect()
}

async fn without_an_access_role_a_developer_opens_no_application(app: TestApp) {
    let (_, dev) = vault_with_a_developer(&app).await;
    let refused = expect_code(dev.client.apps().await, "permission_denied");
    assert!(refused.to_string().contains("access role"), "{refused}");
    expect_code(
        dev.client.reveal("payments/api/production/KEY", None).await,
        "permission_denied",
    );
}

async fn an_access_role_opens_its_scope_and_hides_everything_else(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(
        &alice,
        "payments-api",
        json!({"scope": {"projects": ["payments/api"]}}),
    )
    .await;
    let apps: Vec<String> = ok(dev.client.apps().await)
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(apps, vec!["payments"]);
    let projects: Vec<String> = ok(dev.client.projects("payments").await)
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(projects, vec!["api"]);
    assert_eq!(
        ok(dev.client.reveal("payments/api/production/KEY", None).await)
            .value
            .expose(),
        "v"
    );

    // Out of scope answers exactly like what does not exist.
    let hidden = expect_code(
        dev.client.reveal("billing/api/production/KEY", None).await,
        "not_found",
    );
    let missing = expect_code(
        dev.client.reveal("nothing/api/production/KEY", None).await,
        "not_found",
    );
    assert_eq!(
        hidden.to_string().replace("billing", "X"),
        missing.to_string().replace("nothing", "X")
    );
    expect_code(dev.client.projects("billing").await, "not_found");
    expect_code(
        dev.client.secrets("payments/worker/production").await,
        "not_found",
    );
    expect_code(
        dev.client
            .import("billing/api/production", Default::default())
            .await,
        "not_found",
    );
    expect_code(dev.client.create_app("mine").await, "permission_denied");
}

async fn read_without_reveal_shows_names_but_never_values(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(
        &alice,
        "readers",
        json!({"scope": "everything", "off": ["reveal"]}),
    )
    .await;
    let listed = names(ok(dev.client.secrets("payments/api/production").await));
    assert_eq!(listed, vec!["KEY", "STRIPE_KEY", "TLS"]);
    let refused = expect_code(
        dev.client.reveal("payments/api/production/KEY", None).await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("reveal"), "{refused}");
    // A bulk read (export, run) says so rather than handing over a partial set.
    expect_code(
        dev.client
            .environment_values("payments/api/production")
            .await,
        "permission_denied",
    );
    ok(dev
        .client
        .put_secret("payments/api/production/NEW", &value("w"))
        .await);
}

async fn an_environment_override_switches_reveal_off_in_production_only(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(
        &alice,
        "no-prod-reveal",
        json!({"scope": "everything", "environments": {"production": ["reveal"]}}),
    )
    .await;
    expect_code(
        dev.client.reveal("payments/api/production/KEY", None).await,
        "permission_denied",
    );
    assert_eq!(
        ok(dev.client.reveal("payments/api/staging/KEY", None).await)
            .value
            .expose(),
        "staging"
    );
}

async fn a_deny_rule_beats_every_allow_and_hides_names_from_listings(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(
        &alice,
        "no-stripe",
        json!({"scope": "everything", "deny": ["payments/api/production/STRIPE_*"]}),
    )
    .await;
    let listed = names(ok(dev.client.secrets("payments/api/production").await));
    assert_eq!(listed, vec!["KEY", "TLS"]);
    let refused = expect_code(
        dev.client
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await,
        "permission_denied",
    );
    assert!(refused.to_string().contains("STRIPE_*"), "{refused}");
    let not_there = expect_code(
        dev.client
            .reveal("payments/api/production/STRIPE_OTHER", None)
            .await,
        "permission_denied",
    );
    assert_eq!(
        refused.to_string().replace("STRIPE_KEY", "X"),
        not_there.to_string().replace("STRIPE_OTHER", "X"),
        "a denied path answers the same whether or not a secret is there"
    );
    expect_code(
        dev.client
            .put_secret("payments/api/production/STRIPE_NEW", &value("x"))
            .await,
        "permission_denied",
    );
    expect_code(
        dev.client
            .delete_secret("payments/api/production/STRIPE_KEY")
            .await,
        "permission_denied",
    );
}

async fn a_secret_type_switched_off_for_reading_is_invisible(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(
        &alice,
        "no-certs",
        json!({"scope": "everything", "off_by_type": {"certificate": ["read"]}}),
    )
    .await;
    let listed = names(ok(dev.client.secrets("payments/api/production").await));
    assert_eq!(listed, vec!["KEY", "STRIPE_KEY"]);
    expect_code(
        dev.client.secret("payments/api/production/TLS").await,
        "not_found",
    );
    expect_code(
        dev.client.reveal("payments/api/production/TLS", None).await,
        "not_found",
    );
}

async fn role_edits_and_assignments_hold_on_the_next_request(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(&alice, "devs", json!({"scope": "everything"})).await;
    ok(dev.client.reveal("payments/api/production/KEY", None).await);
    let edited = ok(alice
        .client
        .edit_access_role("devs", json!({"scope": "everything", "off": ["reveal"]}))
        .await);
    assert_eq!((edited.version, edited.members), (2, 1));
    expect_code(
        dev.client.reveal("payments/api/production/KEY", None).await,
        "permission_denied",
    );
    ok(alice.client.set_member_access_role("dev", None).await);
    expect_code(dev.client.apps().await, "permission_denied");
    ok(alice
        .client
        .set_member_access_role("dev", Some("devs"))
        .await);
    ok(alice.client.delete_access_role("devs").await);
    expect_code(dev.client.apps().await, "permission_denied");
    let roster = ok(alice.client.members().await);
    assert!(roster.items.iter().all(|m| m.access_role.is_none()));
}

async fn only_roles_managers_author_access_roles(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(&alice, "acme", &[("adm", "admin"), ("dev", "developer")])
        .await;
    let (adm, dev) = (&members[0], &members[1]);
    expect_code(
        adm.client
            .create_access_role("x", json!({"scope": "everything"}))
            .await,
        "permission_denied",
    );
    ok(alice
        .client
        .create_access_role("x", json!({"scope": "everything"}))
        .await);
    expect_code(
        alice
            .client
            .create_access_role("x", json!({"scope": "everything"}))
            .await,
        "already_exists",
    );
    for bad in [
        json!({"scope": "everything", "off": ["peek"]}),
        json!({"scope": "somewhere"}),
        json!({"nope": 1}),
    ] {
        expect_code(
            alice.client.create_access_role("bad", bad).await,
            "invalid_value",
        );
    }
    expect_code(
        alice
            .client
            .create_access_role("Bad Name", json!({"scope": "everything"}))
            .await,
        "invalid_name",
    );
    assert_eq!(ok(adm.client.access_roles().await).len(), 1);
    expect_code(dev.client.access_roles().await, "permission_denied");
    ok(adm.client.set_member_access_role("dev", Some("x")).await);
    expect_code(
        adm.client.set_member_access_role("alice", Some("x")).await,
        "permission_denied",
    );
    expect_code(
        adm.client.set_member_access_role("dev", Some("nope")).await,
        "not_found",
    );
    let trail = app
        .audit_trail(&ok(alice.client.whoami().await).vault.id)
        .await;
    assert!(
        trail
            .iter()
            .any(|(who, what, _)| who == "alice" && what == "access_role.create")
    );
    assert!(
        trail
            .iter()
            .any(|(who, what, _)| who == "adm" && what == "member.assign_access_role")
    );
}

async fn check_explains_each_decision_as_it_is_enforced(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(
        &alice,
        "readers",
        json!({"scope": {"projects": ["payments/api"]}, "environments": {"production": ["reveal"]},
               "deny": ["payments/api/staging/STRIPE_*"]}),
    )
    .await;
    let cases = [
        (
            "reveal",
            "payments/api/production/KEY",
            false,
            "switches 'reveal' off",
        ),
        (
            "reveal",
            "payments/api/staging/KEY",
            true,
            "opens payments/api",
        ),
        (
            "read",
            "payments/api/production/KEY",
            true,
            "leaves 'read' on",
        ),
        (
            "reveal",
            "billing/api/production/KEY",
            false,
            "does not open billing/api",
        ),
    ];
    for (verb, path, allowed, phrase) in cases {
        let answer = ok(alice.client.check("dev", verb, Some(path)).await);
        assert_eq!(answer.allowed, allowed, "{verb} {path}: {}", answer.reason);
        assert!(answer.reason.contains(phrase), "{}", answer.reason);
        // What check says is what the server does.
        let enforced = match verb {
            "reveal" => dev.client.reveal(path, None).await.is_ok(),
            _ => dev.client.secret(path).await.is_ok(),
        };
        assert_eq!(enforced, allowed, "{verb} {path}");
    }
    assert!(!ok(alice.client.check("dev", "members.invite", None).await).allowed);
    assert!(
        ok(alice
            .client
            .check("dev", "members.view", Some("vault"))
            .await)
        .allowed
    );
    assert!(
        ok(dev
            .client
            .check("dev", "reveal", Some("payments/api/staging/KEY"))
            .await)
        .allowed
    );
    expect_code(
        dev.client
            .check("alice", "reveal", Some("payments/api/staging/KEY"))
            .await,
        "permission_denied",
    );
    expect_code(
        alice
            .client
            .check("nobody", "read", Some("payments/api/staging/KEY"))
            .await,
        "not_found",
    );
    expect_code(
        alice.client.check("dev", "peek", None).await,
        "invalid_value",
    );
    expect_code(
        alice.client.check("dev", "reveal", None).await,
        "invalid_path",
    );
}

async fn an_invite_can_carry_the_access_role_the_invitee_starts_with(app: TestApp) {
    let (alice, _) = vault_with_a_developer(&app).await;
    ok(alice
        .client
        .create_access_role(
            "payments-api",
            json!({"scope": {"projects": ["payments/api"]}}),
        )
        .await);
    expect_code(
        alice
            .client
            .invite_with_access_role("x@example.com", None, Some("no-such-role"))
            .await,
        "not_found",
    );
    let carol = app.verified_user("carol").await;
    let sent = ok(alice
        .client
        .invite_with_access_role("carol@example.com", Some("developer"), Some("payments-api"))
        .await);
    assert_eq!(sent.access_role.as_deref(), Some("payments-api"));
    let pending = ok(alice.client.pending_invites().await);
    assert_eq!(pending[0].access_role.as_deref(), Some("payments-api"));
    let invite = ok(carol.client.received_invites().await).remove(0);
    let joined = ok(carol.client.accept_invite(&invite.id).await);
    ok(carol.client.switch_vault(&joined.id).await);
    assert_eq!(
        ok(carol
            .client
            .reveal("payments/api/production/KEY", None)
            .await)
        .value
        .expose(),
        "v"
    );
    expect_code(
        carol
            .client
            .reveal("billing/api/production/KEY", None)
            .await,
        "not_found",
    );
}

async fn the_trash_cells_separate_ones_own_deletions_from_others(app: TestApp) {
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(&alice, "all", json!({"scope": "everything"})).await;
    ok(dev
        .client
        .delete_secret("payments/api/production/KEY")
        .await);
    ok(alice
        .client
        .delete_secret("billing/api/production/KEY")
        .await);
    let paths = |list: Vec<strongroom_proto::TrashedSecretInfo>| -> Vec<String> {
        list.into_iter().map(|t| t.path).collect()
    };
    // A developer holds Trash: own, so sees and handles only what they deleted.
    assert_eq!(
        paths(ok(dev.client.trash().await)),
        vec!["payments/api/production/KEY"]
    );
    assert_eq!(ok(alice.client.trash().await).len(), 2);
    for refused in [
        dev.client
            .restore_secret("billing/api/production/KEY")
            .await,
        dev.client.purge_secret("billing/api/production/KEY").await,
    ] {
        let err = expect_code(refused, "permission_denied");
        assert!(err.to_string().contains("Trash: others"), "{err}");
    }
    ok(dev
        .client
        .restore_secret("payments/api/production/KEY")
        .await);
    // A collaborator holds neither cell: what they delete, someone else restores.
    ok(alice.client.set_member_role("dev", "collaborator").await);
    ok(dev
        .client
        .delete_secret("payments/api/production/KEY")
        .await);
    let err = expect_code(
        dev.client
            .restore_secret("payments/api/production/KEY")
            .await,
        "permission_denied",
    );
    assert!(err.to_string().contains("Trash: own"), "{err}");
    assert!(ok(dev.client.trash().await).is_empty());
    ok(alice
        .client
        .restore_secret("payments/api/production/KEY")
        .await);
    ok(alice
        .client
        .purge_secret("billing/api/production/KEY")
        .await);
}

crate::on_both_backends!(
    the_trash_cells_separate_ones_own_deletions_from_others,
    roles_are_listed_to_those_who_may_view_them,
    an_invite_can_carry_the_access_role_the_invitee_starts_with,
    check_explains_each_decision_as_it_is_enforced,
    without_an_access_role_a_developer_opens_no_application,
    an_access_role_opens_its_scope_and_hides_everything_else,
    read_without_reveal_shows_names_but_never_values,
    an_environment_override_switches_reveal_off_in_production_only,
    a_deny_rule_beats_every_allow_and_hides_names_from_listings,
    a_secret_type_switched_off_for_reading_is_invisible,
    role_edits_and_assignments_hold_on_the_next_request,
    only_roles_managers_author_access_roles,
);

/// An access-role edit made through one node holds on the next request on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_access_role_edit_on_one_node_holds_on_the_next_request_on_another() {
    let mut app = TestApp::spawn(strongroom_testkit::Backend::Postgres).await;
    let (alice, dev) = vault_with_a_developer(&app).await;
    give(&alice, "devs", json!({"scope": "everything"})).await;
    let node_b = app.second_node().await;
    let dev_on_b = strongroom_client::Client::new(&node_b, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_token(dev.token.clone());
    ok(dev_on_b.reveal("payments/api/production/KEY", None).await);
    ok(alice
        .client
        .edit_access_role("devs", json!({"scope": "everything", "deny": ["payments"]}))
        .await);
    expect_code(
        dev_on_b.reveal("payments/api/production/KEY", None).await,
        "permission_denied",
    );
    app.stop().await;
}
