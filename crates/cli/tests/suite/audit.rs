//! The audit log: every request in a vault leaves an entry; the chain names the first
//! entry that was changed, removed, inserted or reordered; View own and View others show
//! what they say; filters and pages; and nothing changes, and no value leaves, when an
//! entry cannot be written.

use crate::{expect_code, ok, value};
use strongroom_client::{AuditFilter, ClientError};
use strongroom_crypto::machine_key::MachineKey;
use strongroom_crypto::request_signing::{SignedRequest, body_digest};
use strongroom_proto::{AuditEntryInfo, AuditVerification, LoginRequest, LoginResponse, Sensitive};
use strongroom_testkit::{Backend, Receiver, TestApp, TestUser};

const SECRET: &str = "payments/api/production/KEY";

/// Alice's personal vault with a secret, a reveal and a listing: a dozen entries.
async fn busy_vault(app: &TestApp) -> (TestUser, String) {
    let alice = app.signup("alice").await;
    let vault = alice.signup.session.vault_id.clone();
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice.client.put_secret(SECRET, &value("v1")).await);
    ok(alice.client.put_secret(SECRET, &value("v2")).await);
    ok(alice.client.reveal(SECRET, None).await);
    ok(alice.client.secrets("payments/api/production").await);
    (alice, vault)
}

fn broken_at(report: &AuditVerification) -> Option<(i64, &str)> {
    report.broken.as_ref().map(|b| (b.seq, b.kind.as_str()))
}

async fn the_chain_holds_after_ordinary_use(app: TestApp) {
    let (alice, _) = busy_vault(&app).await;
    let report = ok(alice.client.verify_audit().await);
    assert!(report.intact, "{report:?}");
    assert!(report.verified >= 7, "{report:?}");
    assert_eq!(report.verified, report.head_seq);
    // The check itself is recorded, and the chain still holds after it.
    let again = ok(alice.client.verify_audit().await);
    assert_eq!(again.head_seq, report.head_seq + 1);
    assert!(again.intact);
}

async fn a_changed_entry_is_named(app: TestApp) {
    let (alice, vault) = busy_vault(&app).await;
    app.execute_sql(&format!(
        "UPDATE audit_events SET target = 'somewhere/else' WHERE vault_id = '{vault}' AND seq = 3"
    ))
    .await;
    let report = ok(alice.client.verify_audit().await);
    assert_eq!(broken_at(&report), Some((3, "changed")), "{report:?}");
    assert_eq!(report.verified, 2);
    assert!(!report.intact);
}

async fn a_removed_entry_is_named(app: TestApp) {
    let (alice, vault) = busy_vault(&app).await;
    app.execute_sql(&format!(
        "DELETE FROM audit_events WHERE vault_id = '{vault}' AND seq = 3"
    ))
    .await;
    let report = ok(alice.client.verify_audit().await);
    assert_eq!(broken_at(&report), Some((4, "removed")), "{report:?}");
}

async fn entries_removed_from_the_end_are_named(app: TestApp) {
    let (alice, vault) = busy_vault(&app).await;
    let last: i64 = app
        .query_column(&format!(
            "SELECT CAST(MAX(seq) AS TEXT) FROM audit_events WHERE vault_id = '{vault}'"
        ))
        .await[0]
        .parse()
        .unwrap_or_default();
    app.execute_sql(&format!(
        "DELETE FROM audit_events WHERE vault_id = '{vault}' AND seq >= {}",
        last - 1
    ))
    .await;
    let report = ok(alice.client.verify_audit().await);
    assert_eq!(
        broken_at(&report),
        Some((last - 1, "removed")),
        "{report:?}"
    );
}

async fn an_inserted_entry_is_named(app: TestApp) {
    let (alice, vault) = busy_vault(&app).await;
    // A forged entry between #3 and #4: a copy of #3 claiming another action.
    app.execute_sql(&format!(
        "INSERT INTO audit_events (vault_id, at, actor_kind, actor_id, actor_name, action, \
         target, outcome, severity, ip, user_agent, request_id, detail, seq, prev_mac, mac) \
         SELECT vault_id, at, actor_kind, actor_id, actor_name, 'secret.purge', target, \
         outcome, severity, ip, user_agent, request_id, detail, seq, prev_mac, mac \
         FROM audit_events WHERE vault_id = '{vault}' AND seq = 3"
    ))
    .await;
    let report = ok(alice.client.verify_audit().await);
    assert_eq!(broken_at(&report), Some((3, "inserted")), "{report:?}");
    assert_eq!(report.verified, 3, "the genuine #3 still holds");
}

async fn a_reordered_entry_is_named(app: TestApp) {
    let (alice, vault) = busy_vault(&app).await;
    app.execute_sql(&format!(
        "UPDATE audit_events SET seq = 7 - seq WHERE vault_id = '{vault}' AND seq IN (3, 4)"
    ))
    .await;
    let report = ok(alice.client.verify_audit().await);
    assert_eq!(broken_at(&report), Some((3, "reordered")), "{report:?}");
}

async fn tampering_in_one_vault_leaves_another_vaults_chain_whole(app: TestApp) {
    let (alice, vault) = busy_vault(&app).await;
    let bob = app.signup("bob").await;
    ok(bob.client.create_app("billing").await);
    app.execute_sql(&format!(
        "UPDATE audit_events SET target = 'x' WHERE vault_id = '{vault}' AND seq = 2"
    ))
    .await;
    assert!(!ok(alice.client.verify_audit().await).intact);
    assert!(ok(bob.client.verify_audit().await).intact);
}

async fn entries(user: &TestUser, filter: AuditFilter) -> Vec<AuditEntryInfo> {
    ok(user.client.audit_page(&filter, 1000, None).await).items
}

async fn view_own_shows_a_member_only_their_own_entries(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    let dev = &members[0];
    ok(alice.client.create_app("payments").await);
    ok(dev.client.members().await);
    let seen = entries(dev, AuditFilter::default()).await;
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|e| e.actor_name == "dev"),
        "{:?}",
        seen.iter().map(|e| &e.actor_name).collect::<Vec<_>>()
    );
    // Asking for someone else's entries finds nothing rather than theirs.
    assert!(
        entries(
            dev,
            AuditFilter {
                actor: Some("alice".into()),
                ..Default::default()
            }
        )
        .await
        .is_empty()
    );
    // And checking the whole chain takes View others.
    expect_code(dev.client.verify_audit().await, "permission_denied");
}

async fn view_others_shows_every_actor_machines_and_agents_included(app: TestApp) {
    let alice = app.signup("alice").await;
    let (vault, members) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice.client.put_secret(SECRET, &value("v")).await);
    ok(members[0].client.members().await);
    let token = ok(alice
        .client
        .create_token(&crate::token_request(
            "helper",
            "agent",
            &["payments/api"],
            &["read"],
        ))
        .await);
    let agent = app.client.with_token(token.secret.expose().to_owned());
    ok(agent.secrets("payments/api/production").await);
    let seen = entries(&alice, AuditFilter::default()).await;
    let actors: std::collections::BTreeSet<(String, String)> = seen
        .iter()
        .map(|e| (e.actor_kind.clone(), e.actor_name.clone()))
        .collect();
    for expected in [("member", "alice"), ("member", "dev"), ("agent", "helper")] {
        assert!(
            actors.contains(&(expected.0.to_owned(), expected.1.to_owned())),
            "{expected:?} missing from {actors:?} in {vault:?}"
        );
    }
}

async fn entries_of_suspended_and_removed_members_stay_under_their_usernames(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(
            &alice,
            "acme",
            &[("dev", "developer"), ("ops", "developer")],
        )
        .await;
    ok(members[0].client.members().await);
    ok(members[1].client.members().await);
    ok(alice.client.suspend_member("dev").await);
    ok(alice.client.remove_member("ops").await);
    for name in ["dev", "ops"] {
        let theirs = entries(
            &alice,
            AuditFilter {
                actor: Some(name.into()),
                action: Some("member.list".into()),
                ..Default::default()
            },
        )
        .await;
        assert_eq!(theirs.len(), 1, "{name}: {theirs:?}");
        assert_eq!(theirs[0].actor_kind, "member");
    }
}

async fn filters_narrow_the_entries(app: TestApp) {
    let (alice, _) = busy_vault(&app).await;
    expect_code(
        alice
            .client
            .reveal("payments/api/production/MISSING", None)
            .await,
        "not_found",
    );
    let filter = |f: AuditFilter| entries(&alice, f);
    let writes = filter(AuditFilter {
        action: Some("secret.write".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(writes.len(), 2);
    assert!(writes.iter().all(|e| e.target == SECRET));
    let family = filter(AuditFilter {
        action: Some("secret.*".into()),
        ..Default::default()
    })
    .await;
    assert!(family.iter().all(|e| e.action.starts_with("secret.")));
    assert!(family.len() >= 4, "{family:?}");
    let under = filter(AuditFilter {
        target: Some("payments/api/production/".into()),
        ..Default::default()
    })
    .await;
    assert!(
        !under.is_empty()
            && under
                .iter()
                .all(|e| e.target.starts_with("payments/api/production/"))
    );
    let failed = filter(AuditFilter {
        outcome: Some("error".into()),
        ..Default::default()
    })
    .await;
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert_eq!(failed[0].target, "payments/api/production/MISSING");
    let notable = filter(AuditFilter {
        severity: Some("notice".into()),
        ..Default::default()
    })
    .await;
    assert!(notable.iter().all(|e| e.severity != "info"));
    assert!(notable.iter().any(|e| e.action == "secret.reveal"));
    let everything = filter(AuditFilter::default()).await;
    let alices = filter(AuditFilter {
        actor_kind: Some("member".into()),
        actor: Some("alice".into()),
        ..Default::default()
    })
    .await;
    // Everything but the entry of the listing just before.
    assert_eq!(alices.len(), everything.len() + 1);
    assert!(
        filter(AuditFilter {
            actor_kind: Some("machine".into()),
            ..Default::default()
        })
        .await
        .is_empty()
    );
    let future = filter(AuditFilter {
        since: Some("2999-01-01T00:00:00Z".into()),
        ..Default::default()
    })
    .await;
    assert!(future.is_empty());
    let past = filter(AuditFilter {
        until: Some("2000-01-01T00:00:00Z".into()),
        ..Default::default()
    })
    .await;
    assert!(past.is_empty());
    expect_code(
        alice
            .client
            .audit_page(
                &AuditFilter {
                    severity: Some("loud".into()),
                    ..Default::default()
                },
                10,
                None,
            )
            .await,
        "invalid_value",
    );
}

async fn pages_run_newest_first_without_gaps_or_repeats(app: TestApp) {
    let (alice, _) = busy_vault(&app).await;
    let everything = entries(&alice, AuditFilter::default()).await;
    let mut paged = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = ok(alice
            .client
            .audit_page(&AuditFilter::default(), 3, cursor.as_deref())
            .await);
        assert!(page.items.len() <= 3);
        paged.extend(page.items);
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    // Each listing adds an entry of its own, after the entries it returns: the first page
    // starts with the entry of the listing of everything.
    let seqs: Vec<i64> = paged.iter().map(|e| e.seq).collect();
    let expected: Vec<i64> = (1..=everything[0].seq + 1).rev().collect();
    assert_eq!(seqs, expected);
    let oldest = ok(alice
        .client
        .audit_page(
            &AuditFilter {
                oldest_first: true,
                ..Default::default()
            },
            2,
            None,
        )
        .await);
    assert_eq!(
        oldest.items.iter().map(|e| e.seq).collect::<Vec<_>>(),
        [1, 2]
    );
}

async fn no_change_lands_and_no_value_leaves_when_its_entry_cannot_be_written(app: TestApp) {
    let (alice, _) = busy_vault(&app).await;
    refuse_audit_writes(&app).await;
    expect_code(
        alice.client.put_secret(SECRET, &value("v3")).await,
        "internal",
    );
    expect_code(alice.client.create_app("billing").await, "internal");
    let refused = expect_code(alice.client.reveal(SECRET, None).await, "internal");
    assert!(!refused.to_string().contains("v2"));
    expect_code(
        alice.client.secrets("payments/api/production").await,
        "internal",
    );
    allow_audit_writes(&app).await;
    let read = ok(alice.client.reveal(SECRET, None).await);
    assert_eq!(read.value.expose(), "v2", "the refused write did not land");
    assert!(
        !ok(alice.client.apps().await)
            .iter()
            .any(|a| a.name == "billing")
    );
    assert!(ok(alice.client.verify_audit().await).intact);
}

/// Makes every insert into the audit log fail, as a full disk or a broken table would.
async fn refuse_audit_writes(app: &TestApp) {
    if app.is_postgres() {
        app.execute_sql(
            "CREATE FUNCTION refuse_audit() RETURNS trigger AS $$ \
             BEGIN RAISE EXCEPTION 'audit writes refused by the test'; END; $$ LANGUAGE plpgsql",
        )
        .await;
        app.execute_sql(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
             FOR EACH ROW EXECUTE FUNCTION refuse_audit()",
        )
        .await;
    } else {
        app.execute_sql(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_events \
             BEGIN SELECT RAISE(ABORT, 'audit writes refused by the test'); END",
        )
        .await;
    }
}

async fn allow_audit_writes(app: &TestApp) {
    if app.is_postgres() {
        app.execute_sql("DROP TRIGGER refuse_audit ON audit_events")
            .await;
    } else {
        app.execute_sql("DROP TRIGGER refuse_audit").await;
    }
}

/// What a route walk puts in each path parameter: alice's real objects where they exist.
fn route_param(path: &str, param: &str, vault: &str) -> String {
    match param {
        "app" => "payments".into(),
        "project" => "api".into(),
        "env" => "production".into(),
        "name" if path.contains("/roles/") => "auditor".into(),
        "name" => "KEY".into(),
        "username" => "dev".into(),
        "role" => "readers".into(),
        "machine" => "deployer".into(),
        "token" => "deploy".into(),
        "policy" => "office".into(),
        "vault" => vault.into(),
        "id" => "nothing-by-this-id".into(),
        other => panic!("{path}: the route walk does not know parameter {{{other}}}; add it"),
    }
}

/// Routes where nobody is signed in to a vault, so there is no vault to record in.
const OUTSIDE_ANY_VAULT: &[&str] = &[
    "/healthz",
    "/api/v1/openapi.json",
    // Creates the account; its first sign-in is recorded in the new vault.
    "/api/v1/auth/signup",
    // Walked on its own below: a sign-in is recorded in the vault it opens.
    "/api/v1/auth/login",
];

async fn every_route_leaves_an_entry(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app
        .organization(&alice, "acme", &[("dev", "developer")])
        .await;
    let vault = org.id;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    ok(alice.client.put_secret(SECRET, &value("v")).await);
    let doc = ok(app.client.openapi().await);
    let mut operations: Vec<(String, String)> = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() && !OUTSIDE_ANY_VAULT.contains(&path.as_str()) {
                operations.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    // Routes that change the caller's own account or session go last, sign-out at the end.
    operations.sort_by_key(|(_, path)| {
        (
            path == "/api/v1/auth/logout",
            path.starts_with("/api/v1/auth/"),
        )
    });
    let body = serde_json::json!({
        "name": "probe", "vault": vault, "username": "dev", "email": "probe@example.com",
        "vault_role": "collaborator", "value": "probe", "to": 1, "code": "000000",
        "password": "not the password", "new_password": "another password for the walk",
        "secrets": {"KEY": "probe"}, "spec": {"scope": "everything"}, "access_role": "readers",
        "project": "payments/api", "path": SECRET, "secret": SECRET,
        "destination": "api.example.com", "method": "GET", "verbs": ["read"], "kind": "ci",
        "cidr": "192.0.2.0/24", "machine": "deployer", "scopes": ["payments/api"],
    });
    let http = reqwest::Client::new();
    let mut unrecorded = Vec::new();
    for (index, (method, path)) in operations.iter().enumerate() {
        let url_path: Vec<String> = path
            .split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(param) => route_param(path, param, &vault),
                    None => segment.to_owned(),
                },
            )
            .collect();
        let request_id = format!("walk{index:04}");
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or_default();
        let response = http
            .request(method.clone(), format!("{}{}", app.url, url_path.join("/")))
            .bearer_auth(&alice.token)
            .header("x-request-id", &request_id)
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
        let status = response.status();
        // In the vault the request acted in (a new organization's creation is recorded
        // in the organization's own log).
        let recorded = app
            .query_column(&format!(
                "SELECT action FROM audit_events WHERE request_id = '{request_id}'"
            ))
            .await;
        if recorded.is_empty() {
            unrecorded.push(format!("{method} {path} ({status})"));
        }
    }
    assert!(
        operations.len() >= 90,
        "only {} operations",
        operations.len()
    );
    assert!(unrecorded.is_empty(), "no audit entry for: {unrecorded:#?}");
}

async fn sign_in(
    app: &TestApp,
    username: &str,
    password: &str,
) -> Result<LoginResponse, ClientError> {
    app.client
        .login(&LoginRequest {
            username: username.to_owned(),
            password: Sensitive::new(password),
            totp_code: None,
            recovery_code: None,
        })
        .await
}

async fn a_sign_in_is_recorded_in_the_vault_it_opens(app: TestApp) {
    let alice = app.signup("alice").await;
    let vault = alice.signup.session.vault_id.clone();
    let again = ok(sign_in(&app, "alice", strongroom_testkit::PASSWORD).await);
    assert_eq!(again.session.vault_id, vault);
    let sign_ins = entries(
        &alice,
        AuditFilter {
            action: Some("session.sign_in".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(sign_ins.len(), 2, "sign-up's and the new one: {sign_ins:?}");
    assert!(
        sign_ins
            .iter()
            .all(|e| e.actor_name == "alice" && e.outcome == "allowed")
    );
}

async fn a_refused_sign_in_is_recorded_as_an_outsider_claiming_the_account(app: TestApp) {
    let alice = app.signup("alice").await;
    expect_code(
        sign_in(&app, "alice", "not alice's password").await,
        "invalid_credentials",
    );
    expect_code(
        sign_in(&app, "nobody", "not anyone's password").await,
        "invalid_credentials",
    );
    let filter = AuditFilter {
        actor_kind: Some("external".into()),
        ..Default::default()
    };
    // The entry is written after the answer (so the answer takes no longer for a real
    // account than for an unknown one): wait for it.
    let mut refused = Vec::new();
    for _ in 0..50 {
        refused = entries(&alice, filter.clone()).await;
        if !refused.is_empty() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert_eq!(refused[0].action, "session.sign_in");
    assert_eq!(refused[0].outcome, "denied");
    assert_eq!(refused[0].actor_name, "alice");
    assert_eq!(refused[0].detail, "wrong password");
}

async fn mirror_app(backend: Backend, url: &str, file: &std::path::Path) -> TestApp {
    let (url, file) = (url.to_owned(), file.to_owned());
    TestApp::spawn_configured(backend, Default::default(), move |config| {
        config.audit_url = Some(url.clone());
        config.audit_file = Some(file.clone());
    })
    .await
}

fn lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect()
}

fn seqs_of(lines: &[serde_json::Value], vault: &str) -> Vec<i64> {
    lines
        .iter()
        .filter(|l| l["vault_id"] == vault)
        .map(|l| l["seq"].as_i64().unwrap_or_default())
        .collect()
}

async fn every_entry_is_mirrored_in_order_to_a_file_and_an_endpoint(backend: Backend) {
    // The endpoint refuses its first two deliveries: they are retried, nothing is lost
    // and nothing comes twice.
    let siem = Receiver::start(2).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("audit.jsonl");
    let app = mirror_app(backend, &siem.url, &file).await;
    let (alice, vault) = busy_vault(&app).await;
    let bob = app.signup("bob").await;
    ok(bob.client.create_app("billing").await);
    let logged = entries(
        &alice,
        AuditFilter {
            oldest_first: true,
            ..Default::default()
        },
    )
    .await;
    let last = logged.last().map_or(0, |e| e.seq);
    let received = siem
        .wait_for(|received| {
            let all: String = received.iter().map(|r| r.body.as_str()).collect();
            seqs_of(&lines(&all), &vault).len() as i64 >= last
        })
        .await;
    assert!(siem.refused() >= 2);
    assert!(
        received
            .iter()
            .all(|r| r.header("content-type") == Some("application/x-ndjson"))
    );
    let streamed = lines(&received.iter().map(|r| r.body.as_str()).collect::<String>());
    let alices = seqs_of(&streamed, &vault);
    assert_eq!(alices[..last as usize], (1..=last).collect::<Vec<_>>()[..]);
    assert!(!seqs_of(&streamed, &bob.signup.session.vault_id).is_empty());
    // The lines carry what the log holds, and the chain's MACs.
    let first = streamed
        .iter()
        .find(|l| l["vault_id"] == vault && l["seq"] == 1)
        .unwrap_or_else(|| panic!("no first entry"));
    assert_eq!(first["action"], logged[0].action);
    assert_eq!(first["actor_name"], "alice");
    assert_eq!(first["prev_mac"], "");
    assert_eq!(first["mac"].as_str().map(str::len), Some(64));
    // The file gets the same entries in the same order.
    let mut in_file = Vec::new();
    for _ in 0..200 {
        in_file = lines(&std::fs::read_to_string(&file).unwrap_or_default());
        if seqs_of(&in_file, &vault).len() as i64 >= last {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        seqs_of(&in_file, &vault)[..last as usize],
        (1..=last).collect::<Vec<_>>()[..]
    );
    assert!(
        !std::fs::read_to_string(&file)
            .unwrap_or_default()
            .contains("v1")
    );
}

async fn the_mirror_resumes_after_a_restart_without_gaps_or_repeats(backend: Backend) {
    let siem = Receiver::start(0).await;
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    let file = dir.path().join("audit.jsonl");
    let mut app = mirror_app(backend, &siem.url, &file).await;
    let (alice, vault) = busy_vault(&app).await;
    let before = ok(alice.client.verify_audit().await).head_seq;
    siem.wait_for(|r| {
        let all: String = r.iter().map(|r| r.body.as_str()).collect();
        seqs_of(&lines(&all), &vault).len() as i64 >= before
    })
    .await;
    app.restart().await;
    let alice = app.client.with_token(alice.token.clone());
    ok(alice.create_app("billing").await);
    let after = ok(alice.verify_audit().await).head_seq;
    let received = siem
        .wait_for(|r| {
            let all: String = r.iter().map(|r| r.body.as_str()).collect();
            seqs_of(&lines(&all), &vault).len() as i64 >= after
        })
        .await;
    let all: String = received.iter().map(|r| r.body.as_str()).collect();
    assert_eq!(
        seqs_of(&lines(&all), &vault)[..after as usize],
        (1..=after).collect::<Vec<_>>()[..]
    );
}

/// The vault's entries of refused machine and token requests, once they are written
/// (after the answer, so this waits for them).
async fn runtime_refusals(user: &TestUser, at_least: usize) -> Vec<AuditEntryInfo> {
    let filter = AuditFilter {
        action: Some("runtime.authenticate".into()),
        oldest_first: true,
        ..Default::default()
    };
    let mut found = Vec::new();
    for _ in 0..50 {
        found = entries(user, filter.clone()).await;
        if found.len() >= at_least {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    found
}

async fn refused_machine_and_token_requests_are_recorded_in_their_vault(app: TestApp) {
    let (alice, vault) = busy_vault(&app).await;
    // A revoked CI token, used again.
    let created = ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await);
    ok(alice.client.revoke_token("deploy").await);
    let token = app.client.with_token(created.secret.expose().to_owned());
    expect_code(token.reveal(SECRET, None).await, "unauthenticated");
    // A machine's signed request, replayed by whoever caught it.
    let key = MachineKey::generate().unwrap_or_else(|e| panic!("{e}"));
    ok(alice
        .client
        .register_machine("deployer", &key.public().to_openssh(""), None)
        .await);
    let path = "/api/v1/apps";
    let signed = SignedRequest {
        method: "GET".into(),
        path: path.into(),
        query: String::new(),
        vault: vault.clone(),
        key: key.public().fingerprint(),
        timestamp: strongroom_store::now_ms() / 1000,
        nonce: "replayed-nonce-0001".into(),
        digest: body_digest(b""),
    }
    .authorization(&key);
    let http = reqwest::Client::new();
    for expected in [200, 401] {
        let status = http
            .get(format!("{}{path}", app.url))
            .header("authorization", &signed)
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or_default();
        assert_eq!(status, expected);
    }
    // The machine itself, disabled.
    ok(alice.client.set_machine_enabled("deployer", false).await);
    let machine = app.client.with_machine_key(key, &vault);
    expect_code(machine.apps().await, "unauthenticated");

    let refusals = runtime_refusals(&alice, 3).await;
    let seen: Vec<(&str, &str, &str)> = refusals
        .iter()
        .map(|e| {
            (
                e.actor_kind.as_str(),
                e.actor_name.as_str(),
                e.outcome.as_str(),
            )
        })
        .collect();
    assert_eq!(
        seen,
        [
            ("token", "deploy", "denied"),
            ("external", "deployer", "denied"),
            ("machine", "deployer", "denied"),
        ]
    );
    assert!(refusals[0].detail.contains("revoked"), "{:?}", refusals[0]);
    assert!(
        refusals[1].detail.contains("already used"),
        "{:?}",
        refusals[1]
    );
    assert!(refusals[2].detail.contains("disabled"), "{:?}", refusals[2]);
    assert_eq!(refusals[2].target, "/api/v1/apps");
}

async fn a_body_that_does_not_parse_is_refused_and_recorded_without_quoting_it(app: TestApp) {
    let (alice, _) = busy_vault(&app).await;
    let response = reqwest::Client::new()
        .put(format!(
            "{}/api/v1/apps/payments/projects/api/envs/production/secrets/PIN",
            app.url
        ))
        .bearer_auth(&alice.token)
        .header("x-request-id", "badbody1")
        .json(&serde_json::json!({"value": 918273}))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(response.status().as_u16(), 400);
    // Neither the answer nor the log quotes the value.
    let answer = response.text().await.unwrap_or_default();
    assert!(
        answer.contains("invalid type") && !answer.contains("918273"),
        "{answer}"
    );
    let recorded = entries(
        &alice,
        AuditFilter {
            action: Some("secret.write".into()),
            outcome: Some("error".into()),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].request_id, "badbody1");
    assert!(!recorded[0].detail.contains("918273"), "{:?}", recorded[0]);
}

crate::on_both_backends!(
    the_chain_holds_after_ordinary_use,
    a_changed_entry_is_named,
    a_removed_entry_is_named,
    entries_removed_from_the_end_are_named,
    an_inserted_entry_is_named,
    a_reordered_entry_is_named,
    tampering_in_one_vault_leaves_another_vaults_chain_whole,
    view_own_shows_a_member_only_their_own_entries,
    view_others_shows_every_actor_machines_and_agents_included,
    entries_of_suspended_and_removed_members_stay_under_their_usernames,
    filters_narrow_the_entries,
    pages_run_newest_first_without_gaps_or_repeats,
    no_change_lands_and_no_value_leaves_when_its_entry_cannot_be_written,
    every_route_leaves_an_entry,
    a_sign_in_is_recorded_in_the_vault_it_opens,
    a_refused_sign_in_is_recorded_as_an_outsider_claiming_the_account,
    refused_machine_and_token_requests_are_recorded_in_their_vault,
    a_body_that_does_not_parse_is_refused_and_recorded_without_quoting_it,
);

crate::each_backend!(
    every_entry_is_mirrored_in_order_to_a_file_and_an_endpoint,
    the_mirror_resumes_after_a_restart_without_gaps_or_repeats,
);
