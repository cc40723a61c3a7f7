//! Organizations: conversion and creation, vault switching, invites by email and by
//! link, plans, the member lifecycle and the owner's kill switch.

use crate::{expect_code, ok, step_up_request, value};
use strongroom_proto::CreateLinkRequest;
use strongroom_testkit::{PASSWORD, TestApp, TestUser};

async fn purge(store: &strongroom_store::Store) -> u64 {
    store
        .purge_deleted_organizations(strongroom_store::now_ms())
        .await
        .unwrap_or_else(|e| panic!("purge: {e}"))
}

async fn step_up(user: &TestUser) {
    ok(user.client.step_up(&step_up_request(PASSWORD, None)).await);
}

fn roles_of(roster: &strongroom_proto::Roster) -> Vec<(String, String, String)> {
    roster
        .items
        .iter()
        .map(|m| (m.username.clone(), m.vault_role.clone(), m.status.clone()))
        .collect()
}

async fn converting_a_personal_vault_keeps_its_id_and_contents(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice
        .client
        .put_secret("payments/api/production/KEY", &value("kept"))
        .await);
    let before = ok(alice.client.whoami().await).vault;
    step_up(&alice).await;

    let org = ok(alice.client.convert_vault("acme").await);

    assert_eq!(org.id, before.id);
    assert_eq!(
        (org.kind.as_str(), org.name.as_str(), org.role.as_str()),
        ("organization", "acme", "owner")
    );
    let now = ok(alice.client.whoami().await);
    assert_eq!(
        now.vault.id, before.id,
        "the session still acts in the converted vault"
    );
    assert_ne!(
        now.user.personal_vault_id, before.id,
        "a new personal vault replaces it"
    );
    assert_eq!(
        ok(alice
            .client
            .reveal("payments/api/production/KEY", None)
            .await)
        .value
        .expose(),
        "kept"
    );
    let vaults = ok(alice.client.vaults().await);
    assert_eq!(vaults.len(), 2);
    assert!(
        vaults
            .iter()
            .any(|v| v.kind == "personal" && v.id == now.user.personal_vault_id)
    );
    let trail = app.audit_trail(&org.id).await;
    assert!(
        trail.contains(&("alice".into(), "organization.convert".into(), "acme".into())),
        "{trail:?}"
    );
}

async fn conversion_needs_a_fresh_step_up(app: TestApp) {
    let alice = app.signup("alice").await;
    expect_code(alice.client.convert_vault("acme").await, "step_up_required");
    assert_eq!(ok(alice.client.whoami().await).vault.kind, "personal");
}

async fn conversion_is_one_way(app: TestApp) {
    let alice = app.signup("alice").await;
    step_up(&alice).await;
    ok(alice.client.convert_vault("acme").await);
    expect_code(alice.client.convert_vault("again").await, "conflict");
}

async fn organization_names_are_validated_and_unique_per_owner(app: TestApp) {
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    for bad in ["", "Acme Corp", "../x", "a/b", "x\u{0}y"] {
        expect_code(alice.client.create_organization(bad).await, "invalid_name");
    }
    ok(alice.client.create_organization("acme").await);
    expect_code(
        alice.client.create_organization("acme").await,
        "already_exists",
    );
    ok(bob.client.create_organization("acme").await);
}

async fn switching_vaults_needs_no_new_sign_in_and_scopes_every_request(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let org = ok(alice.client.create_organization("acme").await);
    assert!(!org.current);

    let switched = ok(alice.client.switch_vault("acme").await);
    assert_eq!(switched.id, org.id);
    assert!(
        ok(alice.client.apps().await).is_empty(),
        "the organization starts empty"
    );
    expect_code(
        alice
            .client
            .reveal("payments/api/production/KEY", None)
            .await,
        "not_found",
    );
    let listed = ok(alice.client.vaults().await);
    assert!(listed.iter().any(|v| v.id == org.id && v.current));

    ok(alice
        .client
        .switch_vault(&ok(alice.client.whoami().await).user.personal_vault_id)
        .await);
    assert_eq!(ok(alice.client.apps().await).len(), 1);
    expect_code(
        alice.client.switch_vault("no-such-vault").await,
        "not_found",
    );
}

async fn a_vault_one_does_not_belong_to_cannot_be_switched_to(app: TestApp) {
    let alice = app.signup("alice").await;
    let bob = app.signup("bob").await;
    let org = ok(alice.client.create_organization("acme").await);
    let by_id = expect_code(bob.client.switch_vault(&org.id).await, "not_found");
    let missing = expect_code(
        bob.client
            .switch_vault("vault_aaaaaaaaaaaaaaaaaaaaaaaaaa")
            .await,
        "not_found",
    );
    assert_eq!(
        by_id.to_string().replace(&org.id, "ID"),
        missing
            .to_string()
            .replace("vault_aaaaaaaaaaaaaaaaaaaaaaaaaa", "ID")
    );
}

async fn invitees_see_accept_and_decline_their_invites(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app.organization(&alice, "acme", &[]).await;
    let other = ok(alice.client.create_organization("globex").await);
    let bob = app.verified_user("bob").await;
    ok(alice
        .client
        .invite("bob@example.com", Some("developer"))
        .await);
    ok(alice.client.switch_vault(&other.id).await);
    ok(alice.client.invite("BOB@example.com", None).await);

    let mut panel = ok(bob.client.received_invites().await);
    panel.sort_by(|a, b| a.organization.cmp(&b.organization));
    assert_eq!(panel.len(), 2);
    let (acme, globex) = (&panel[0], &panel[1]);
    assert_eq!(
        (
            acme.organization.as_str(),
            acme.invited_by.as_str(),
            acme.vault_role.as_str()
        ),
        ("acme", "alice", "developer")
    );
    assert!(acme.role_summary.starts_with("Developer:"));
    assert_eq!(globex.vault_role, "collaborator");

    let joined = ok(bob.client.accept_invite(&acme.id).await);
    assert_eq!(
        (joined.id.as_str(), joined.role.as_str()),
        (org.id.as_str(), "developer")
    );
    ok(bob.client.decline_invite(&globex.id).await);
    assert!(ok(bob.client.received_invites().await).is_empty());
    let vaults = ok(bob.client.vaults().await);
    assert!(vaults.iter().any(|v| v.id == org.id));
    assert!(!vaults.iter().any(|v| v.id == other.id));
}

async fn a_personal_vault_takes_no_members(app: TestApp) {
    let alice = app.signup("alice").await;
    app.signup("bob").await;
    let refused = expect_code(
        alice.client.invite("bob@example.com", None).await,
        "conflict",
    );
    assert!(refused.to_string().contains("org convert"), "{refused}");
    expect_code(
        alice
            .client
            .create_link(&CreateLinkRequest::default())
            .await,
        "conflict",
    );
}

async fn email_invites_need_a_verified_address(app: TestApp) {
    let alice = app.signup("alice").await;
    app.organization(&alice, "acme", &[]).await;
    let bob = app.signup("bob").await;
    ok(alice.client.invite("bob@example.com", None).await);
    expect_code(bob.client.received_invites().await, "email_not_verified");
    let invite_id = ok(alice.client.pending_invites().await)[0].id.clone();
    expect_code(
        bob.client.accept_invite(&invite_id).await,
        "email_not_verified",
    );

    app.verify_email("bob").await;
    assert!(ok(bob.client.whoami().await).user.email_verified);
    ok(bob.client.accept_invite(&invite_id).await);
}

async fn changing_ones_email_makes_it_unverified(app: TestApp) {
    let bob = app.verified_user("bob").await;
    step_up(&bob).await;
    let changed = ok(bob.client.change_email("bob@elsewhere.example").await);
    assert!(!changed.email_verified);
    expect_code(bob.client.received_invites().await, "email_not_verified");
}

async fn only_one_account_can_hold_an_address_verified(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, _) = app
        .organization(&alice, "acme", &[("bob", "developer")])
        .await;
    let impostor = ok(app
        .client
        .signup(&crate::signup_request(
            "impostor",
            "BOB@example.com",
            PASSWORD,
        ))
        .await);
    let username =
        strongroom_core::account::Username::parse("impostor").unwrap_or_else(|e| panic!("{e}"));
    let store = app.operator_store().await;
    let refused = store
        .mark_email_verified(&username)
        .await
        .err()
        .map(|e| e.code());
    assert_eq!(refused, Some(strongroom_core::ErrorCode::Conflict));
    assert!(!impostor.user.email_verified);
}

/// Every organization has exactly one owner membership, active, matching `owner_id`.
const ONE_OWNER: &str = "SELECT CASE WHEN \
     (SELECT COUNT(*) FROM memberships m WHERE m.vault_id = v.id AND m.role = 'owner') = 1 \
     AND EXISTS (SELECT 1 FROM memberships m WHERE m.vault_id = v.id AND m.user_id = v.owner_id \
                 AND m.role = 'owner' AND m.status = 'active') \
     THEN 'one owner' ELSE 'broken' END FROM vaults v WHERE v.kind = 'organization'";

async fn a_transfer_racing_a_removal_still_leaves_one_active_owner(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(
            &alice,
            "acme",
            &[
                ("adm", "admin"),
                ("bob", "developer"),
                ("carol", "developer"),
            ],
        )
        .await;
    let adm = &members[0];
    step_up(&alice).await;
    let (transfer, removal, suspension) = tokio::join!(
        alice.client.transfer_ownership("bob"),
        adm.client.remove_member("bob"),
        adm.client.suspend_member("carol"),
    );
    assert!(
        transfer.is_ok() || removal.is_ok(),
        "{transfer:?} {removal:?}"
    );
    ok(suspension);
    assert_eq!(app.query_column(ONE_OWNER).await, vec!["one owner"]);
}

async fn wrong_verification_codes_are_refused_and_limited(app: TestApp) {
    let bob = app.signup("bob").await;
    for _ in 0..5 {
        expect_code(bob.client.verify_email("000000").await, "invalid_value");
    }
    let locked = expect_code(bob.client.verify_email("000000").await, "invalid_value");
    assert!(locked.to_string().contains("too many"), "{locked}");
    assert!(!ok(bob.client.whoami().await).user.email_verified);
}

async fn an_invite_answer_is_byte_for_byte_the_same_whatever_the_address(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app
        .organization(&alice, "acme", &[("member", "collaborator")])
        .await;
    app.set_plan(&org.id, "team").await;
    app.signup("hasaccount").await;
    ok(alice.client.invite("invited@example.com", None).await);
    let http = reqwest::Client::new();
    let mut answers = Vec::new();
    for email in [
        "hasaccount@example.com",
        "nobody-by-this-name@example.com",
        "member@example.com",
        "invited@example.com",
    ] {
        let response = http
            .post(format!("{}/api/v1/invites", app.url))
            .bearer_auth(&alice.token)
            .json(&serde_json::json!({"email": email, "vault_role": "developer"}))
            .send()
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        answers.push((status, body));
    }
    assert_eq!(answers[0].0, reqwest::StatusCode::ACCEPTED);
    for answer in &answers[1..] {
        assert_eq!(answer, &answers[0]);
    }
}

async fn expired_revoked_answered_and_foreign_invites_are_refused(app: TestApp) {
    let alice = app.signup("alice").await;
    app.organization(&alice, "acme", &[]).await;
    let bob = app.verified_user("bob").await;
    let carol = app.verified_user("carol").await;
    let id_of = |invites: Vec<strongroom_proto::InviteInfo>, email: &str| {
        invites
            .into_iter()
            .find(|i| i.email == email)
            .map(|i| i.id)
            .unwrap_or_default()
    };

    ok(alice.client.invite("bob@example.com", None).await);
    let bobs = id_of(ok(alice.client.pending_invites().await), "bob@example.com");
    expect_code(carol.client.accept_invite(&bobs).await, "not_found");
    ok(alice.client.revoke_invite(&bobs).await);
    expect_code(bob.client.accept_invite(&bobs).await, "invite_unusable");
    expect_code(alice.client.revoke_invite(&bobs).await, "not_found");

    ok(alice.client.invite("bob@example.com", None).await);
    let again = id_of(ok(alice.client.pending_invites().await), "bob@example.com");
    app.execute_sql(&format!(
        "UPDATE invites SET expires_at = 1 WHERE id = '{again}'"
    ))
    .await;
    expect_code(bob.client.accept_invite(&again).await, "invite_expired");
    assert!(
        ok(alice.client.pending_invites().await).is_empty(),
        "expired invites are not pending"
    );

    ok(alice.client.invite("carol@example.com", None).await);
    let carols = id_of(
        ok(alice.client.pending_invites().await),
        "carol@example.com",
    );
    ok(carol.client.accept_invite(&carols).await);
    expect_code(carol.client.accept_invite(&carols).await, "invite_unusable");
    expect_code(
        carol.client.decline_invite(&carols).await,
        "invite_unusable",
    );
}

async fn invites_offer_only_roles_below_the_inviters_own(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(&alice, "acme", &[("adm", "admin"), ("dev", "developer")])
        .await;
    app.set_plan(&ok(alice.client.whoami().await).vault.id, "team")
        .await;
    let (adm, dev) = (&members[0], &members[1]);
    expect_code(
        adm.client.invite("x@example.com", Some("admin")).await,
        "permission_denied",
    );
    expect_code(
        adm.client.invite("x@example.com", Some("owner")).await,
        "permission_denied",
    );
    expect_code(
        alice.client.invite("x@example.com", Some("owner")).await,
        "permission_denied",
    );
    ok(adm.client.invite("x@example.com", Some("developer")).await);
    expect_code(
        dev.client
            .invite("y@example.com", Some("collaborator"))
            .await,
        "permission_denied",
    );
    expect_code(
        dev.client.create_link(&CreateLinkRequest::default()).await,
        "permission_denied",
    );
}

async fn invite_links_join_as_collaborator_until_revoked_expired_or_used_up(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app.organization(&alice, "acme", &[]).await;
    app.set_plan(&org.id, "team").await;
    let once = ok(alice
        .client
        .create_link(&CreateLinkRequest {
            expires_in_hours: Some(24),
            max_uses: Some(1),
        })
        .await);
    assert_eq!(once.link.state, "active");
    assert!(once.token.expose().starts_with("srl_"));

    let bob = app.signup("bob").await;
    let joined = ok(bob
        .client
        .join(&format!(
            "https://vault.example/join/{}",
            once.token.expose()
        ))
        .await);
    assert_eq!(
        (joined.id.as_str(), joined.role.as_str()),
        (org.id.as_str(), "collaborator")
    );
    expect_code(bob.client.join(once.token.expose()).await, "conflict");
    let carol = app.signup("carol").await;
    expect_code(
        carol.client.join(once.token.expose()).await,
        "invite_unusable",
    );

    let revoked = ok(alice
        .client
        .create_link(&CreateLinkRequest::default())
        .await);
    ok(alice.client.revoke_link(&revoked.link.id).await);
    expect_code(
        carol.client.join(revoked.token.expose()).await,
        "invite_unusable",
    );

    let expired = ok(alice
        .client
        .create_link(&CreateLinkRequest::default())
        .await);
    app.execute_sql(&format!(
        "UPDATE invite_links SET expires_at = 1 WHERE id = '{}'",
        expired.link.id
    ))
    .await;
    expect_code(
        carol.client.join(expired.token.expose()).await,
        "invite_expired",
    );
    expect_code(carol.client.join("srl_not-a-real-link").await, "not_found");

    let states: Vec<String> = ok(alice.client.links().await)
        .into_iter()
        .map(|l| l.state)
        .collect();
    assert_eq!(states.len(), 3);
    for state in ["used_up", "revoked", "expired"] {
        assert!(states.iter().any(|s| s == state), "{states:?}");
    }
    expect_code(
        alice
            .client
            .create_link(&CreateLinkRequest {
                expires_in_hours: Some(0),
                max_uses: None,
            })
            .await,
        "invalid_value",
    );
}

async fn the_plan_cap_counts_members_and_pending_invites(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app
        .organization(&alice, "acme", &[("bob", "developer")])
        .await;
    ok(alice.client.invite("carol@example.com", None).await);
    let roster = ok(alice.client.members().await);
    assert_eq!(
        (roster.plan.as_str(), roster.used, roster.cap),
        ("free", 3, Some(3))
    );

    let full = expect_code(
        alice.client.invite("dave@example.com", None).await,
        "plan_limit_reached",
    );
    for part in ["free", "3 members", "3 are used", "/billing"] {
        assert!(full.to_string().contains(part), "{full}");
    }
    let link = ok(alice
        .client
        .create_link(&CreateLinkRequest::default())
        .await);
    let erin = app.signup("erin").await;
    expect_code(
        erin.client.join(link.token.expose()).await,
        "plan_limit_reached",
    );

    app.set_plan(&org.id, "team").await;
    ok(alice.client.invite("dave@example.com", None).await);
    ok(erin.client.join(link.token.expose()).await);
    let roster = ok(alice.client.members().await);
    assert_eq!(
        (roster.plan.as_str(), roster.used, roster.cap),
        ("team", 5, Some(25))
    );
}

async fn concurrent_invites_cannot_overshoot_the_cap(app: TestApp) {
    let alice = app.signup("alice").await;
    app.organization(&alice, "acme", &[("bob", "developer")])
        .await;
    let attempts = (0..32).map(|i| {
        let client = alice.client.clone();
        async move { client.invite(&format!("guest{i}@example.com"), None).await }
    });
    let results = futures_join_all(attempts).await;
    let sent = results.iter().filter(|r| r.is_ok()).count();
    assert_eq!(sent, 1, "{results:?}");
    for refused in results.iter().filter_map(|r| r.as_ref().err()) {
        assert_eq!(refused.code(), Some("plan_limit_reached"));
    }
    assert_eq!(ok(alice.client.members().await).used, 3);
}

async fn concurrent_transfers_leave_exactly_one_owner(app: TestApp) {
    let alice = app.signup("alice").await;
    app.organization(
        &alice,
        "acme",
        &[("bob", "developer"), ("carol", "developer")],
    )
    .await;
    step_up(&alice).await;
    let (to_bob, to_carol) = tokio::join!(
        alice.client.transfer_ownership("bob"),
        alice.client.transfer_ownership("carol")
    );
    assert_eq!(
        usize::from(to_bob.is_ok()) + usize::from(to_carol.is_ok()),
        1,
        "{to_bob:?} {to_carol:?}"
    );
    let roster = ok(alice.client.members().await);
    let owners = roster
        .items
        .iter()
        .filter(|m| m.vault_role == "owner")
        .count();
    assert_eq!(owners, 1);
}

/// Runs the futures concurrently and collects their outputs in order.
async fn futures_join_all<F>(futures: impl IntoIterator<Item = F>) -> Vec<F::Output>
where
    F: std::future::Future + Send + 'static,
    F::Output: Send + 'static,
{
    let handles: Vec<_> = futures.into_iter().map(tokio::spawn).collect();
    let mut out = Vec::new();
    for handle in handles {
        out.push(handle.await.unwrap_or_else(|e| panic!("{e}")));
    }
    out
}

async fn suspension_cuts_access_on_the_next_request_until_unsuspended(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, members) = app.organization(&alice, "acme", &[("bob", "admin")]).await;
    let bob = &members[0];
    ok(alice.client.create_app("payments").await);
    assert_eq!(ok(bob.client.apps().await).len(), 1);

    let suspended = ok(alice.client.suspend_member("bob").await);
    assert_eq!(suspended.status, "suspended");
    let denied = expect_code(bob.client.apps().await, "permission_denied");
    assert!(denied.to_string().contains("suspended"), "{denied}");
    expect_code(bob.client.members().await, "permission_denied");
    expect_code(bob.client.switch_vault(&org.id).await, "permission_denied");
    assert!(
        ok(bob.client.vaults().await)
            .iter()
            .any(|v| v.id == org.id && v.status == "suspended")
    );
    expect_code(alice.client.suspend_member("bob").await, "conflict");

    ok(alice.client.unsuspend_member("bob").await);
    assert_eq!(ok(bob.client.apps().await).len(), 1);
}

async fn removal_drops_the_membership_at_once(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, members) = app.organization(&alice, "acme", &[("bob", "admin")]).await;
    let bob = &members[0];
    ok(alice.client.remove_member("bob").await);
    let denied = expect_code(bob.client.apps().await, "permission_denied");
    assert!(
        denied.to_string().contains("no longer a member"),
        "{denied}"
    );
    assert!(!ok(bob.client.vaults().await).iter().any(|v| v.id == org.id));
    expect_code(bob.client.switch_vault(&org.id).await, "not_found");
    let lost = expect_code(bob.client.whoami().await, "permission_denied");
    assert!(lost.to_string().contains("vaults use"), "{lost}");
    let roster = ok(alice.client.members().await);
    assert_eq!(
        roles_of(&roster),
        vec![("alice".into(), "owner".into(), "active".into())]
    );
    expect_code(alice.client.remove_member("bob").await, "not_found");
}

async fn nobody_acts_on_the_owner_or_on_a_role_at_or_above_their_own(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(
            &alice,
            "acme",
            &[("adm", "admin"), ("adm2", "admin"), ("dev", "developer")],
        )
        .await;
    let (adm, dev) = (&members[0], &members[2]);
    for target in ["alice", "adm2", "adm"] {
        expect_code(adm.client.suspend_member(target).await, "permission_denied");
        expect_code(adm.client.remove_member(target).await, "permission_denied");
        expect_code(
            adm.client.set_member_role(target, "developer").await,
            "permission_denied",
        );
    }
    expect_code(
        alice.client.suspend_member("alice").await,
        "permission_denied",
    );
    expect_code(
        alice.client.set_member_role("adm", "owner").await,
        "permission_denied",
    );
    expect_code(
        adm.client.set_member_role("dev", "admin").await,
        "permission_denied",
    );
    expect_code(dev.client.suspend_member("adm").await, "permission_denied");
    let demoted = ok(adm.client.set_member_role("dev", "collaborator").await);
    assert_eq!(demoted.vault_role, "collaborator");
    ok(adm.client.suspend_member("dev").await);
    let roster = ok(alice.client.members().await);
    assert!(roles_of(&roster).contains(&("alice".into(), "owner".into(), "active".into())));
}

async fn a_member_leaves_on_their_own_but_the_owner_must_transfer_first(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, members) = app
        .organization(&alice, "acme", &[("bob", "developer")])
        .await;
    let bob = &members[0];
    let personal = ok(bob.client.leave_vault().await);
    assert_eq!(personal.kind, "personal");
    assert_eq!(ok(bob.client.whoami().await).vault.id, personal.id);
    assert!(!ok(bob.client.vaults().await).iter().any(|v| v.id == org.id));
    let refused = expect_code(alice.client.leave_vault().await, "permission_denied");
    assert!(refused.to_string().contains("transfer"), "{refused}");
    let trail = app.audit_trail(&org.id).await;
    assert!(
        trail
            .iter()
            .any(|(who, what, _)| who == "bob" && what == "member.leave"),
        "{trail:?}"
    );
}

async fn ownership_transfer_needs_step_up_and_leaves_exactly_one_owner(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(&alice, "acme", &[("bob", "developer")])
        .await;
    let bob = &members[0];
    expect_code(
        alice.client.transfer_ownership("bob").await,
        "step_up_required",
    );
    step_up(&alice).await;
    expect_code(alice.client.transfer_ownership("nobody").await, "not_found");
    ok(alice.client.transfer_ownership("bob").await);

    let roster = ok(bob.client.members().await);
    let owners: Vec<_> = roster
        .items
        .iter()
        .filter(|m| m.vault_role == "owner")
        .map(|m| m.username.as_str())
        .collect();
    assert_eq!(owners, vec!["bob"]);
    assert!(roles_of(&roster).contains(&("alice".into(), "admin".into(), "active".into())));
    expect_code(
        alice.client.transfer_ownership("bob").await,
        "permission_denied",
    );
    ok(alice.client.leave_vault().await);
}

async fn a_deleted_organization_refuses_everyone_until_its_owner_restores_it(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, members) = app.organization(&alice, "acme", &[("bob", "admin")]).await;
    let bob = &members[0];
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice
        .client
        .put_secret("payments/api/production/KEY", &value("v"))
        .await);

    expect_code(alice.client.delete_organization().await, "step_up_required");
    expect_code(bob.client.delete_organization().await, "permission_denied");
    step_up(&alice).await;
    ok(alice.client.delete_organization().await);

    for user in [&alice, bob] {
        let denied = expect_code(
            user.client
                .reveal("payments/api/production/KEY", None)
                .await,
            "permission_denied",
        );
        assert!(denied.to_string().contains("deleted"), "{denied}");
        expect_code(user.client.members().await, "permission_denied");
    }
    expect_code(bob.client.switch_vault(&org.id).await, "conflict");
    expect_code(bob.client.restore_organization(&org.id).await, "not_found");
    assert!(
        ok(bob.client.vaults().await)
            .iter()
            .any(|v| v.id == org.id && v.status == "deleted")
    );

    let restored = ok(alice.client.restore_organization(&org.id).await);
    assert_eq!(restored.status, "active");
    assert_eq!(
        ok(bob.client.reveal("payments/api/production/KEY", None).await)
            .value
            .expose(),
        "v"
    );
}

async fn organizations_deleted_over_thirty_days_ago_are_purged_with_their_keys(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, members) = app.organization(&alice, "acme", &[("bob", "admin")]).await;
    let bob = &members[0];
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    step_up(&alice).await;
    ok(alice.client.delete_organization().await);
    let keys_before = app
        .execute_sql("UPDATE data_keys SET created_at = created_at")
        .await;
    let store = app.operator_store().await;
    assert_eq!(purge(&store).await, 0, "within 30 days nothing is purged");
    app.execute_sql(&format!(
        "UPDATE vaults SET deleted_at = 1 WHERE id = '{}'",
        org.id
    ))
    .await;
    assert_eq!(purge(&store).await, 1);

    assert_eq!(
        app.execute_sql("UPDATE data_keys SET created_at = created_at")
            .await,
        keys_before - 1
    );
    expect_code(
        alice.client.restore_organization(&org.id).await,
        "not_found",
    );
    assert_eq!(
        ok(bob.client.whoami().await).vault.kind,
        "personal",
        "sessions move to the personal vault"
    );
    assert!(ok(bob.client.vaults().await).iter().all(|v| v.id != org.id));
}

async fn lifecycle_actions_are_audited_with_the_actors_username(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app
        .organization(&alice, "acme", &[("bob", "developer")])
        .await;
    ok(alice.client.suspend_member("bob").await);
    ok(alice.client.unsuspend_member("bob").await);
    ok(alice.client.set_member_role("bob", "collaborator").await);
    let link = ok(alice
        .client
        .create_link(&CreateLinkRequest::default())
        .await);
    ok(alice.client.revoke_link(&link.link.id).await);
    ok(alice.client.remove_member("bob").await);
    let actions: Vec<(String, String)> = app
        .audit_trail(&org.id)
        .await
        .into_iter()
        .map(|(who, what, _)| (who, what))
        .collect();
    let expected = [
        ("alice", "organization.create"),
        ("alice", "member.invite"),
        ("bob", "member.join"),
        ("alice", "member.suspend"),
        ("alice", "member.unsuspend"),
        ("alice", "member.assign_role"),
        ("alice", "member.link_create"),
        ("alice", "member.link_revoke"),
        ("alice", "member.remove"),
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(a, b)| ((*a).into(), (*b).into()))
        .collect();
    assert_eq!(actions, expected);
}

crate::on_both_backends!(
    converting_a_personal_vault_keeps_its_id_and_contents,
    conversion_needs_a_fresh_step_up,
    conversion_is_one_way,
    organization_names_are_validated_and_unique_per_owner,
    switching_vaults_needs_no_new_sign_in_and_scopes_every_request,
    a_vault_one_does_not_belong_to_cannot_be_switched_to,
    invitees_see_accept_and_decline_their_invites,
    email_invites_need_a_verified_address,
    a_personal_vault_takes_no_members,
    changing_ones_email_makes_it_unverified,
    wrong_verification_codes_are_refused_and_limited,
    only_one_account_can_hold_an_address_verified,
    a_transfer_racing_a_removal_still_leaves_one_active_owner,
    an_invite_answer_is_byte_for_byte_the_same_whatever_the_address,
    expired_revoked_answered_and_foreign_invites_are_refused,
    invites_offer_only_roles_below_the_inviters_own,
    invite_links_join_as_collaborator_until_revoked_expired_or_used_up,
    the_plan_cap_counts_members_and_pending_invites,
    concurrent_invites_cannot_overshoot_the_cap,
    concurrent_transfers_leave_exactly_one_owner,
    suspension_cuts_access_on_the_next_request_until_unsuspended,
    removal_drops_the_membership_at_once,
    nobody_acts_on_the_owner_or_on_a_role_at_or_above_their_own,
    a_member_leaves_on_their_own_but_the_owner_must_transfer_first,
    ownership_transfer_needs_step_up_and_leaves_exactly_one_owner,
    a_deleted_organization_refuses_everyone_until_its_owner_restores_it,
    organizations_deleted_over_thirty_days_ago_are_purged_with_their_keys,
    lifecycle_actions_are_audited_with_the_actors_username,
);

/// The six-digit code in a verification mail.
fn code_in(mail: &str) -> String {
    mail.split(|c: char| !c.is_ascii_digit())
        .find(|word| word.len() == 6)
        .unwrap_or_else(|| panic!("no code in {mail}"))
        .to_owned()
}

async fn with_smtp_codes_and_invites_are_mailed(backend: strongroom_testkit::Backend) {
    let sink = strongroom_testkit::MailSink::start().await;
    let app = TestApp::spawn_with_mail(backend, &sink).await;
    let alice = app.signup("alice").await;
    app.organization(&alice, "acme", &[]).await;
    let bob = app.signup("bob").await;
    let mail = sink.wait_for("bob@example.com", "verification code").await;
    let verified = ok(bob.client.verify_email(&code_in(&mail.data)).await);
    assert!(verified.email_verified);
    expect_code(
        bob.client.verify_email(&code_in(&mail.data)).await,
        "invalid_value",
    );

    ok(alice.client.invite("nobody@example.com", None).await);
    ok(alice
        .client
        .invite("bob@example.com", Some("developer"))
        .await);
    let invite = sink.wait_for("bob@example.com", "invited you").await;
    assert!(invite.data.contains("alice"), "{}", invite.data);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        sink.delivered()
            .iter()
            .all(|m| !m.recipients.iter().any(|r| r.starts_with("nobody"))),
        "an address without an account gets no mail"
    );

    // Someone else types bob's address: the code reaches bob's mailbox, and even with it
    // the address cannot be verified on a second account.
    let sent_before = sink.delivered().len();
    let impostor = app.signup("impostor").await;
    step_up(&impostor).await;
    ok(impostor.client.change_email("bob@example.com").await);
    let mut second = Vec::new();
    for _ in 0..200 {
        second = sink.delivered();
        if second.len() > sent_before + 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let code = second
        .iter()
        .rev()
        .find(|m| m.recipients.iter().any(|r| r == "bob@example.com"))
        .map(|m| code_in(&m.data))
        .unwrap_or_default();
    expect_code(impostor.client.verify_email(&code).await, "conflict");

    // Concurrent guesses share the few tries of one code.
    let carol = app.signup("carol").await;
    let code = code_in(
        &sink
            .wait_for("carol@example.com", "verification code")
            .await
            .data,
    );
    let wrong = if code == "000000" { "111111" } else { "000000" };
    let guesses = (0..12).map(|_| {
        let client = carol.client.clone();
        async move { client.verify_email(wrong).await }
    });
    let results = futures_join_all(guesses).await;
    let counted = results
        .iter()
        .filter(|r| {
            r.as_ref()
                .err()
                .is_some_and(|e| e.to_string().contains("wrong or has expired"))
        })
        .count();
    assert_eq!(counted, 5, "{results:?}");
    let late = expect_code(carol.client.verify_email(&code).await, "invalid_value");
    assert!(late.to_string().contains("too many"), "{late}");

    ok(bob.client.resend_verification().await);
    let before = sink.delivered().len();
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        sink.delivered().len(),
        before,
        "a verified address gets no new code"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_codes_and_invites_are_mailed_on_sqlite() {
    with_smtp_codes_and_invites_are_mailed(strongroom_testkit::Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_smtp_codes_and_invites_are_mailed_on_postgres() {
    with_smtp_codes_and_invites_are_mailed(strongroom_testkit::Backend::Postgres).await;
}

/// With two server nodes on one PostgreSQL, a suspension, a role change, a removal or a
/// deletion made through one node is obeyed by the other on the very next request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lifecycle_changes_on_one_node_hold_on_the_next_request_on_another() {
    let mut app = TestApp::spawn(strongroom_testkit::Backend::Postgres).await;
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(
            &alice,
            "acme",
            &[("bob", "developer"), ("carol", "developer")],
        )
        .await;
    let node_b = app.second_node().await;
    let on_b = |token: &str| {
        strongroom_client::Client::new(&node_b, None)
            .unwrap_or_else(|e| panic!("{e}"))
            .with_token(token.to_owned())
    };
    let (bob, carol) = (on_b(&members[0].token), on_b(&members[1].token));
    ok(bob.members().await);

    ok(alice.client.suspend_member("bob").await);
    expect_code(bob.members().await, "permission_denied");
    ok(alice.client.unsuspend_member("bob").await);
    ok(bob.members().await);

    ok(alice.client.set_member_role("bob", "admin").await);
    ok(bob.pending_invites().await);
    ok(alice.client.set_member_role("bob", "developer").await);
    expect_code(bob.pending_invites().await, "permission_denied");

    ok(alice.client.remove_member("carol").await);
    expect_code(carol.members().await, "permission_denied");

    step_up(&alice).await;
    ok(alice.client.delete_organization().await);
    expect_code(bob.members().await, "permission_denied");
    expect_code(on_b(&alice.token).members().await, "permission_denied");
    app.stop().await;
}
