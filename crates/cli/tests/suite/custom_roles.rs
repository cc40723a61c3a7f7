//! Custom vault roles (enterprise plan) and delegation without escalation: a member who
//! may author or hand out roles can never give anything they do not hold themselves.

use crate::{expect_code, ok, value};
use serde_json::json;
use strongroom_testkit::{TestApp, TestUser};

/// Owner alice's enterprise organization with payments/api and billing/api (a KEY and a
/// STRIPE_KEY in production each) and members `names`, all collaborators.
async fn enterprise_vault(app: &TestApp, names: &[&str]) -> (TestUser, Vec<TestUser>) {
    let alice = app.signup("alice").await;
    let cast: Vec<(&str, &str)> = names.iter().map(|n| (*n, "collaborator")).collect();
    let (org, members) = app.organization(&alice, "acme", &cast).await;
    app.set_plan(&org.id, "enterprise").await;
    for project in ["payments/api", "billing/api"] {
        let app_name = project.split('/').next().unwrap_or_default();
        ok(alice.client.create_app(app_name).await);
        ok(alice.client.create_project(project).await);
        for name in ["KEY", "STRIPE_KEY"] {
            ok(alice
                .client
                .put_secret(&format!("{project}/production/{name}"), &value("v"))
                .await);
        }
    }
    (alice, members)
}

async fn custom_vault_roles_need_the_enterprise_plan_and_the_refusal_names_it(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app.organization(&alice, "acme", &[]).await;
    let file = json!({"description": "Auditors", "capabilities": ["overview", "members.view"]});
    for plan in ["free", "team"] {
        app.set_plan(&org.id, plan).await;
        let refused = expect_code(
            alice.client.create_role("auditors", file.clone()).await,
            "plan_required",
        );
        let text = refused.to_string();
        assert!(
            text.contains(&format!("{plan} plan")) && text.contains("enterprise"),
            "{text}"
        );
    }
    app.set_plan(&org.id, "enterprise").await;
    let created = ok(alice.client.create_role("auditors", file).await);
    assert_eq!(
        (
            created.kind.as_str(),
            created.summary.as_str(),
            created.members
        ),
        ("custom", "Auditors", Some(0))
    );
    assert_eq!(created.capabilities, vec!["overview", "members.view"]);
    let names: Vec<String> = ok(alice.client.roles().await)
        .into_iter()
        .map(|r| r.name)
        .collect();
    assert_eq!(
        names,
        vec!["owner", "admin", "developer", "collaborator", "auditors"]
    );
}

async fn a_custom_role_holds_exactly_its_cells_and_an_edit_holds_on_the_next_request(app: TestApp) {
    let (alice, members) = enterprise_vault(&app, &["carol"]).await;
    let carol = &members[0];
    expect_code(carol.client.roles().await, "permission_denied");
    ok(alice
        .client
        .create_role(
            "auditors",
            json!({"capabilities": ["overview", "members.view", "roles.view", "audit.view_own"]}),
        )
        .await);
    let assigned = ok(alice.client.set_member_role("carol", "auditors").await);
    assert_eq!(assigned.vault_role, "auditors");
    assert_eq!(ok(carol.client.roles().await).len(), 5);
    assert_eq!(ok(carol.client.members().await).items.len(), 2);
    expect_code(
        carol.client.invite("x@example.com", None).await,
        "permission_denied",
    );
    let in_use = ok(carol.client.vaults().await)
        .into_iter()
        .find(|v| v.current)
        .map(|v| v.role);
    assert_eq!(in_use.as_deref(), Some("auditors"));
    let edited = ok(alice
        .client
        .edit_role(
            "auditors",
            json!({"capabilities": ["overview", "members.view", "audit.view_own"]}),
        )
        .await);
    assert_eq!(edited.members, Some(1));
    expect_code(carol.client.roles().await, "permission_denied");
    let why = ok(alice
        .client
        .check("carol", "roles.view", Some("vault"))
        .await);
    assert!(!why.allowed);
    assert!(
        why.reason
            .contains("vault role auditors does not hold roles.view"),
        "{}",
        why.reason
    );
    // A custom role opens applications only through an access role.
    expect_code(carol.client.apps().await, "permission_denied");
}

async fn custom_roles_cannot_take_a_built_in_name_or_owner_cells_and_held_ones_stay(app: TestApp) {
    let (alice, _) = enterprise_vault(&app, &["carol"]).await;
    expect_code(
        alice
            .client
            .create_role("admin", json!({"capabilities": ["overview"]}))
            .await,
        "already_exists",
    );
    expect_code(
        alice
            .client
            .edit_role("developer", json!({"capabilities": ["overview"]}))
            .await,
        "permission_denied",
    );
    expect_code(
        alice
            .client
            .create_role("heirs", json!({"capabilities": ["organization.transfer"]}))
            .await,
        "invalid_value",
    );
    expect_code(
        alice
            .client
            .create_role("typo", json!({"capabilities": ["overveiw"]}))
            .await,
        "invalid_value",
    );
    ok(alice
        .client
        .create_role("readers", json!({"capabilities": ["overview"]}))
        .await);
    expect_code(
        alice
            .client
            .create_role("readers", json!({"capabilities": ["overview"]}))
            .await,
        "already_exists",
    );
    ok(alice.client.set_member_role("carol", "readers").await);
    let refused = expect_code(alice.client.delete_role("readers").await, "conflict");
    assert!(refused.to_string().contains("set-role"), "{refused}");
    ok(alice.client.set_member_role("carol", "collaborator").await);
    ok(alice.client.delete_role("readers").await);
    expect_code(alice.client.role("readers").await, "not_found");
    expect_code(
        alice.client.set_member_role("carol", "readers").await,
        "not_found",
    );
}

/// Carol leads: a custom role that manages members and authors roles, and an access role
/// that opens payments with reveal off in production and STRIPE_* denied there.
async fn a_lead(app: &TestApp) -> (TestUser, TestUser, TestUser) {
    let (alice, mut members) = enterprise_vault(app, &["carol", "dan"]).await;
    ok(alice
        .client
        .create_role(
            "lead",
            json!({"capabilities": ["overview", "members.view", "members.invite",
                "members.manage", "roles.view", "roles.manage", "audit.view_own"]}),
        )
        .await);
    ok(alice
        .client
        .create_access_role(
            "payments-team",
            json!({"scope": {"applications": ["payments"]},
                "environments": {"production": ["reveal"]},
                "deny": ["payments/+/production/STRIPE_*"]}),
        )
        .await);
    ok(alice
        .client
        .create_access_role("everything", json!({"scope": "everything"}))
        .await);
    ok(alice.client.set_member_role("carol", "lead").await);
    ok(alice
        .client
        .set_member_access_role("carol", Some("payments-team"))
        .await);
    let dan = members.remove(1);
    let carol = members.remove(0);
    (alice, carol, dan)
}

fn refused_because<T: std::fmt::Debug>(
    result: Result<T, strongroom_client::ClientError>,
    why: &str,
) {
    let err = expect_code(result, "permission_denied");
    assert!(err.to_string().contains(why), "{err}");
}

async fn nobody_authors_a_vault_role_holding_a_cell_they_lack(app: TestApp) {
    let (_, carol, _) = a_lead(&app).await;
    refused_because(
        carol
            .client
            .create_role("payers", json!({"capabilities": ["overview", "billing"]}))
            .await,
        "'billing'",
    );
    ok(carol
        .client
        .create_role(
            "viewers",
            json!({"capabilities": ["overview", "members.view"]}),
        )
        .await);
    refused_because(
        carol
            .client
            .edit_role(
                "viewers",
                json!({"capabilities": ["overview", "members.view", "machines"]}),
            )
            .await,
        "'machines'",
    );
    // Her own role holds as much as she does: only someone above her changes it, even to
    // narrow it.
    refused_because(
        carol
            .client
            .edit_role("lead", json!({"capabilities": ["overview"]}))
            .await,
        "as much as your own",
    );
}

async fn nobody_assigns_or_invites_at_or_above_their_own_role(app: TestApp) {
    let (_, carol, _) = a_lead(&app).await;
    refused_because(
        carol.client.set_member_role("dan", "admin").await,
        "below your own",
    );
    refused_because(
        carol.client.set_member_role("dan", "lead").await,
        "below your own",
    );
    refused_because(
        carol.client.invite("eve@example.com", Some("admin")).await,
        "below your own",
    );
    ok(carol.client.set_member_role("dan", "collaborator").await);
}

async fn nobody_writes_an_access_role_opening_more_than_their_own(app: TestApp) {
    let (_, carol, _) = a_lead(&app).await;
    refused_because(
        carol
            .client
            .create_access_role("all", json!({"scope": "everything"}))
            .await,
        "every application",
    );
    refused_because(
        carol
            .client
            .create_access_role("billing", json!({"scope": {"projects": ["billing/api"]}}))
            .await,
        "billing/api",
    );
    refused_because(
        carol
            .client
            .create_access_role(
                "revealers",
                json!({"scope": {"projects": ["payments/api"]}}),
            )
            .await,
        "'reveal' on at payments/api/production",
    );
    // Widening one's own role by editing it is the same escalation.
    refused_because(
        carol
            .client
            .edit_access_role(
                "payments-team",
                json!({"scope": {"applications": ["payments"]},
                    "deny": ["payments/+/production/STRIPE_*"]}),
            )
            .await,
        "reveal",
    );
    refused_because(
        carol
            .client
            .edit_access_role(
                "everything",
                json!({"scope": {"applications": ["payments"]}}),
            )
            .await,
        "opens more than yours",
    );
    refused_because(
        carol.client.delete_access_role("everything").await,
        "only access you hold",
    );
}

async fn the_authors_deny_rules_travel_into_roles_they_write_and_stay(app: TestApp) {
    let (alice, carol, dan) = a_lead(&app).await;
    let written = ok(carol
        .client
        .create_access_role(
            "api-readers",
            json!({"scope": {"projects": ["payments/api"]}, "off": ["reveal"]}),
        )
        .await);
    assert_eq!(
        written.spec["deny"],
        json!(["payments/+/production/STRIPE_*"])
    );
    refused_because(
        carol
            .client
            .edit_access_role(
                "api-readers",
                json!({"scope": {"projects": ["payments/api"]}, "off": ["reveal"]}),
            )
            .await,
        "binds you",
    );
    ok(carol
        .client
        .set_member_access_role("dan", Some("api-readers"))
        .await);
    let listed: Vec<String> = ok(dan.client.secrets("payments/api/production").await)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(listed, vec!["KEY"]);
    // Once someone not below her holds the role (here, she does), she cannot change it.
    ok(alice
        .client
        .set_member_access_role("carol", Some("api-readers"))
        .await);
    refused_because(
        carol.client.delete_access_role("api-readers").await,
        "not below yours holds",
    );
}

async fn nobody_hands_out_an_access_role_opening_more_than_their_own(app: TestApp) {
    let (_, carol, dan) = a_lead(&app).await;
    refused_because(
        carol
            .client
            .set_member_access_role("dan", Some("everything"))
            .await,
        "only access you hold",
    );
    refused_because(
        carol
            .client
            .invite_with_access_role("eve@example.com", Some("collaborator"), Some("everything"))
            .await,
        "only access you hold",
    );
    expect_code(dan.client.apps().await, "permission_denied");
    ok(carol
        .client
        .set_member_access_role("dan", Some("payments-team"))
        .await);
    ok(dan.client.apps().await);
}

async fn an_invite_can_offer_a_custom_role_below_the_inviters_own(app: TestApp) {
    let (alice, carol, _) = a_lead(&app).await;
    ok(alice
        .client
        .create_role(
            "auditors",
            json!({"description": "Auditors: the roster", "capabilities": ["overview", "members.view"]}),
        )
        .await);
    expect_code(
        carol
            .client
            .invite("x@example.com", Some("no-such-role"))
            .await,
        "not_found",
    );
    // A custom role is offered only below the inviter's own, like a built-in one.
    refused_because(
        carol.client.invite("x@example.com", Some("lead")).await,
        "below your own",
    );
    let bob = app.verified_user("bob").await;
    let erin = app.verified_user("erin").await;
    let sent = ok(carol
        .client
        .invite("bob@example.com", Some("auditors"))
        .await);
    assert_eq!(sent.vault_role, "auditors");
    ok(carol
        .client
        .invite("erin@example.com", Some("auditors"))
        .await);
    let pending: Vec<String> = ok(alice.client.pending_invites().await)
        .into_iter()
        .map(|i| i.vault_role)
        .collect();
    assert_eq!(pending, vec!["auditors", "auditors"]);
    let invite = ok(bob.client.received_invites().await).remove(0);
    assert_eq!(
        (invite.vault_role.as_str(), invite.role_summary.as_str()),
        ("auditors", "Auditors: the roster")
    );
    let joined = ok(bob.client.accept_invite(&invite.id).await);
    assert_eq!(joined.role, "auditors");
    ok(bob.client.switch_vault(&joined.id).await);
    assert_eq!(ok(bob.client.members().await).items.len(), 4);
    expect_code(bob.client.roles().await, "permission_denied");
    // Neither a pending invite nor a holder lets the role be deleted from under them.
    let refused = expect_code(alice.client.delete_role("auditors").await, "conflict");
    assert!(refused.to_string().contains("revoke"), "{refused}");
    let erins = ok(erin.client.received_invites().await).remove(0);
    ok(alice.client.revoke_invite(&erins.id).await);
    expect_code(alice.client.delete_role("auditors").await, "conflict");
    ok(alice.client.set_member_role("bob", "collaborator").await);
    ok(alice.client.delete_role("auditors").await);
}

async fn an_access_role_preview_names_who_gains_what_where_and_saves_nothing(app: TestApp) {
    let (alice, _) = enterprise_vault(&app, &["bob", "carol"]).await;
    let readers = json!({"scope": "everything", "environments": {"production": ["reveal"]}});
    ok(alice
        .client
        .create_access_role("readers", readers.clone())
        .await);
    ok(alice
        .client
        .set_member_access_role("bob", Some("readers"))
        .await);
    ok(alice
        .client
        .set_member_access_role("carol", Some("readers"))
        .await);
    let preview = ok(alice
        .client
        .preview_access_role("readers", json!({"scope": "everything"}))
        .await);
    assert_eq!(preview.holders, vec!["bob".to_owned(), "carol".to_owned()]);
    assert_eq!(
        preview.summary,
        vec![
            "2 members (bob, carol) gain reveal on billing/api/production, payments/api/production"
                .to_owned()
        ]
    );
    assert_eq!(
        ok(alice.client.access_role("readers").await).spec,
        readers,
        "a preview saves nothing"
    );
    let narrower = ok(alice
        .client
        .preview_access_role(
            "readers",
            json!({"scope": "everything", "off": ["write"], "environments": {"production": ["reveal"]}}),
        )
        .await);
    assert_eq!(narrower.changes.len(), 1);
    assert_eq!(narrower.changes[0].direction, "lose");
    assert_eq!(narrower.changes[0].what, "write");
    assert_eq!(
        narrower.changes[0].places.len(),
        6,
        "every environment of both projects"
    );
    // A role that does not exist yet is compared with one that opens nothing.
    let new = ok(alice
        .client
        .preview_access_role("fresh", json!({"scope": "everything"}))
        .await);
    assert!(new.holders.is_empty() && !new.changes.is_empty());
    assert!(
        new.summary[0].starts_with("No member holds"),
        "{:?}",
        new.summary
    );
}

async fn a_vault_role_preview_names_the_cells_its_holders_gain_and_lose(app: TestApp) {
    let (alice, _) = enterprise_vault(&app, &["carol"]).await;
    ok(alice
        .client
        .create_role(
            "auditors",
            json!({"capabilities": ["overview", "members.view"]}),
        )
        .await);
    ok(alice.client.set_member_role("carol", "auditors").await);
    let preview = ok(alice
        .client
        .preview_role(
            "auditors",
            json!({"capabilities": ["overview", "audit.view_own", "audit.view_others"]}),
        )
        .await);
    assert_eq!(
        preview.summary,
        vec![
            "carol gains audit.view_own".to_owned(),
            "carol gains audit.view_others".to_owned(),
            "carol loses members.view".to_owned(),
        ]
    );
    ok(alice.client.members().await);
    assert_eq!(
        ok(alice.client.role("auditors").await).capabilities,
        vec!["overview".to_owned(), "members.view".to_owned()],
        "a preview saves nothing"
    );
    let built_in = alice
        .client
        .preview_role("developer", json!({"capabilities": []}))
        .await;
    assert!(built_in.is_err(), "built-in roles have no edit to preview");
}

crate::on_both_backends!(
    an_access_role_preview_names_who_gains_what_where_and_saves_nothing,
    a_vault_role_preview_names_the_cells_its_holders_gain_and_lose,
    an_invite_can_offer_a_custom_role_below_the_inviters_own,
    custom_vault_roles_need_the_enterprise_plan_and_the_refusal_names_it,
    a_custom_role_holds_exactly_its_cells_and_an_edit_holds_on_the_next_request,
    custom_roles_cannot_take_a_built_in_name_or_owner_cells_and_held_ones_stay,
    nobody_authors_a_vault_role_holding_a_cell_they_lack,
    nobody_assigns_or_invites_at_or_above_their_own_role,
    nobody_writes_an_access_role_opening_more_than_their_own,
    the_authors_deny_rules_travel_into_roles_they_write_and_stay,
    nobody_hands_out_an_access_role_opening_more_than_their_own,
);

/// A custom-role edit made through one node holds on the next request on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_custom_role_edit_on_one_node_holds_on_the_next_request_on_another() {
    let mut app = TestApp::spawn(strongroom_testkit::Backend::Postgres).await;
    let (alice, members) = enterprise_vault(&app, &["carol"]).await;
    ok(alice
        .client
        .create_role(
            "auditors",
            json!({"capabilities": ["overview", "members.view"]}),
        )
        .await);
    ok(alice.client.set_member_role("carol", "auditors").await);
    let node_b = app.second_node().await;
    let carol_on_b = strongroom_client::Client::new(&node_b, None)
        .unwrap_or_else(|e| panic!("{e}"))
        .with_token(members[0].token.clone());
    ok(carol_on_b.members().await);
    ok(alice
        .client
        .edit_role("auditors", json!({"capabilities": ["overview"]}))
        .await);
    expect_code(carol_on_b.members().await, "permission_denied");
    app.stop().await;
}
