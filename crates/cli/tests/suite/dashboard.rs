//! The web dashboard over plain HTTP, where exact headers matter: CSRF on every form,
//! refusals from foreign origins, the security headers and cookie flags, values kept off
//! pages until revealed, and reveals from the dashboard in the audit log. The journeys in
//! a real browser are in `crates/browser-tests`.

use crate::ok;
use serde_json::json;
use strongroom_server::DASHBOARD_ROUTES;
use strongroom_testkit::{PASSWORD, TestApp, WebBrowser};

/// A dashboard route with its parameters filled in.
fn concrete(path: &str) -> String {
    path.replace("{app}", "payments")
        .replace("{project}", "api")
        .replace("{env}", "production")
        .replace("{name}", "STRIPE_KEY")
        .replace("{id}", "sess_0000000000000000000000")
}

fn state_changing_routes() -> Vec<String> {
    let routes: Vec<String> = DASHBOARD_ROUTES
        .iter()
        .filter(|(method, _, _)| *method == "POST")
        .map(|(_, path, _)| concrete(path))
        .collect();
    assert!(routes.len() >= 20, "the dashboard's forms: {routes:?}");
    routes
}

/// What a refused form must leave behind: nothing new in the vault.
async fn nothing_changed(app: &TestApp, alice: &strongroom_testkit::TestUser) {
    assert!(ok(alice.client.apps().await).is_empty());
    assert_eq!(
        ok(alice.client.sessions().await).len(),
        2,
        "the API's and the browser's"
    );
    let vault = &alice.signup.user.personal_vault_id;
    let changes: Vec<_> = app
        .audit_trail(vault)
        .await
        .into_iter()
        .filter(|(_, action, _)| action != "account.signup" && action != "session.sign_in")
        .collect();
    assert!(changes.is_empty(), "{changes:?}");
}

async fn every_state_changing_form_refuses_a_request_without_its_csrf_token(app: TestApp) {
    let alice = app.signup("alice").await;
    let mut browser = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    for route in state_changing_routes() {
        let page = browser
            .post(
                &route,
                &[("name", "payments"), ("vault", "x"), ("code", "1")],
            )
            .await;
        assert_eq!(page.status, 403, "{route}: {}", page.body);
        assert!(
            page.body.contains("security token"),
            "{route}: {}",
            page.body
        );
        let wrong = browser
            .post(
                &route,
                &[("csrf", "0123456789abcdef"), ("name", "payments")],
            )
            .await;
        assert_eq!(wrong.status, 403, "{route} with a wrong token");
    }
    nothing_changed(&app, &alice).await;
}

async fn every_state_changing_form_refuses_a_foreign_origin(app: TestApp) {
    let alice = app.signup("alice").await;
    let mut browser = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let csrf = browser.get("/ui/account").await.csrf();
    for route in state_changing_routes() {
        let fields = [
            ("csrf", csrf.as_str()),
            ("name", "payments"),
            ("vault", "x"),
        ];
        let foreign = browser
            .post_with(&route, &fields, &[("origin", "https://evil.example")])
            .await;
        assert_eq!(foreign.status, 403, "{route}: {}", foreign.body);
        assert!(
            foreign.body.contains("another site"),
            "{route}: {}",
            foreign.body
        );
        let cross_site = browser
            .post_with(&route, &fields, &[("sec-fetch-site", "cross-site")])
            .await;
        assert_eq!(
            cross_site.status, 403,
            "{route} cross-site: {}",
            cross_site.body
        );
    }
    nothing_changed(&app, &alice).await;
    // The same form, from this site with its token, goes through.
    let created = browser
        .post("/ui/apps", &[("csrf", csrf.as_str()), ("name", "payments")])
        .await;
    assert_eq!(
        created.location(),
        Some("/ui/apps/payments"),
        "{}",
        created.body
    );
    assert_eq!(ok(alice.client.apps().await).len(), 1);
}

async fn pages_carry_a_strict_content_security_policy_and_refuse_framing(app: TestApp) {
    app.signup("alice").await;
    let mut browser = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    for path in [
        "/ui/signin",
        "/ui/vaults",
        "/ui/apps",
        "/ui/account",
        "/ui/nowhere",
    ] {
        let page = browser.get(path).await;
        let csp = page
            .headers
            .get("content-security-policy")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_else(|| panic!("{path} has no CSP"));
        for directive in [
            "default-src 'none'",
            "script-src 'self'",
            "frame-ancestors 'none'",
            "form-action 'self'",
        ] {
            assert!(csp.contains(directive), "{path}: {csp}");
        }
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("unsafe-eval"),
            "{csp}"
        );
        assert_eq!(
            page.headers
                .get("x-frame-options")
                .and_then(|v| v.to_str().ok()),
            Some("DENY"),
            "{path}"
        );
        assert!(
            !page.body.contains("<script>") && !page.body.contains(" style=\""),
            "{path} has inline script or style"
        );
    }
}

async fn the_session_cookie_is_http_only_same_site_lax_and_scoped_to_the_dashboard(app: TestApp) {
    app.signup("alice").await;
    let mut browser = WebBrowser::new(&app.url);
    let page = browser.get("/ui/signin").await;
    let done = browser
        .post(
            "/ui/signin",
            &[
                ("csrf", &page.csrf()),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    let cookie = done
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("strongroom_session="))
        .unwrap_or_else(|| panic!("no session cookie: {:?}", done.set_cookies()));
    for flag in ["HttpOnly", "SameSite=Lax", "Path=/ui"] {
        assert!(cookie.contains(flag), "{cookie}");
    }
    assert!(
        !cookie.contains("Secure"),
        "plain HTTP cannot carry a Secure cookie: {cookie}"
    );
    // The cookie is the dashboard's alone: the API answers it as if nobody were signed in.
    let token = browser
        .cookie("strongroom_session")
        .unwrap_or_default()
        .to_owned();
    let api = reqwest::Client::new()
        .get(format!("{}/api/v1/auth/whoami", app.url))
        .header("cookie", format!("strongroom_session={token}"))
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(api.status().as_u16(), 401);
}

async fn a_wrong_password_on_the_sign_in_page_says_so_and_sets_no_session(app: TestApp) {
    app.signup("alice").await;
    let mut browser = WebBrowser::new(&app.url);
    let page = browser.get("/ui/signin").await;
    let refused = browser
        .post(
            "/ui/signin",
            &[
                ("csrf", &page.csrf()),
                ("username", "alice"),
                ("password", "not the password at all"),
            ],
        )
        .await;
    assert_eq!(refused.status, 401);
    assert!(
        refused.body.contains("invalid username or password"),
        "{}",
        refused.body
    );
    assert!(browser.cookie("strongroom_session").is_none());
    assert_eq!(
        browser.get("/ui/vaults").await.location(),
        Some("/ui/signin")
    );
}

async fn a_value_stays_off_every_page_until_revealed_and_the_reveal_is_audited(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let mut browser = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let env = browser.get("/ui/apps/payments/api/production").await;
    let created = browser
        .post(
            "/ui/apps/payments/api/production",
            &[
                ("csrf", &env.csrf()),
                ("name", "STRIPE_KEY"),
                ("value", "sk_live_dashboard_value"),
                ("secret_type", "api_key"),
                ("note", "billing"),
            ],
        )
        .await;
    let secret_page = "/ui/apps/payments/api/production/STRIPE_KEY";
    assert_eq!(created.location(), Some(secret_page), "{}", created.body);
    for path in [
        "/ui/apps/payments/api/production",
        secret_page,
        "/ui/apps/payments/api",
    ] {
        let page = browser.get(path).await;
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("sk_live_dashboard_value"),
            "{path} shows the value"
        );
    }
    let page = browser.get(secret_page).await;
    assert!(
        page.body.contains("id=\"reveal\""),
        "alice may reveal: {}",
        page.body
    );
    let revealed = browser
        .post(&format!("{secret_page}/reveal"), &[("csrf", &page.csrf())])
        .await;
    assert_eq!(revealed.status, 200, "{}", revealed.body);
    assert!(revealed.body.contains("sk_live_dashboard_value"));
    let trail = app.audit_trail(&alice.signup.user.personal_vault_id).await;
    assert!(
        trail.contains(&(
            "alice".into(),
            "secret.reveal".into(),
            "payments/api/production/STRIPE_KEY".into()
        )),
        "{trail:?}"
    );
    assert!(
        trail.iter().all(|(_, action, _)| !action.contains("/ui")),
        "every dashboard route names its audit action: {trail:?}"
    );
}

async fn a_member_without_reveal_sees_names_but_no_reveal_button_and_a_forced_reveal_explains_why(
    app: TestApp,
) {
    let (_, acme) = app.readers_organization(&[]).await;
    let mut browser = switched(&app, "bob", &acme.id).await;
    let list = browser.get("/ui/apps/payments/api/production").await;
    assert!(
        list.body.contains("STRIPE_KEY"),
        "bob sees the name: {}",
        list.body
    );
    let page = browser
        .get("/ui/apps/payments/api/production/STRIPE_KEY")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        !page.body.contains("id=\"reveal\""),
        "no reveal button for bob"
    );
    assert!(page.body.contains("reveal-denied"), "{}", page.body);
    let forced = browser
        .post(
            "/ui/apps/payments/api/production/STRIPE_KEY/reveal",
            &[("csrf", &page.csrf())],
        )
        .await;
    assert_eq!(forced.status, 403, "{}", forced.body);
    assert!(!forced.body.contains(strongroom_testkit::READERS_VALUE));
    assert!(
        forced.body.contains("readers"),
        "the refusal names the access role: {}",
        forced.body
    );
}

async fn a_machine_never_reaches_a_dashboard_page(app: TestApp) {
    app.signup("alice").await;
    let signed = reqwest::Client::new()
        .get(format!("{}/ui/vaults", app.url))
        .header(
            "authorization",
            "Strongroom-Ed25519 vault=vault_x, key=SHA256:x, ts=0, nonce=x, digest=x, sig=x",
        )
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_ne!(signed.status().as_u16(), 200);
}

async fn the_vault_role_matrix_disables_cells_the_author_lacks_and_built_ins_are_read_only(
    app: TestApp,
) {
    let alice = app.verified_user("alice").await;
    let (org, _) = app
        .organization(&alice, "acme", &[("carol", "collaborator")])
        .await;
    app.set_plan(&org.id, "enterprise").await;
    ok(alice
        .client
        .create_role(
            "lead",
            json!({"capabilities": ["overview", "members.view", "roles.view", "roles.manage", "audit.view_own"]}),
        )
        .await);
    ok(alice
        .client
        .create_role("auditors", json!({"capabilities": ["overview"]}))
        .await);
    ok(alice.client.set_member_role("carol", "lead").await);
    let mut browser = WebBrowser::signed_in(&app.url, "carol", PASSWORD).await;
    let vaults = browser.get("/ui/vaults").await;
    browser
        .post(
            "/ui/vaults/switch",
            &[("csrf", &vaults.csrf()), ("vault", &org.id)],
        )
        .await;
    let page = browser.get("/ui/roles/auditors").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let cell = |name: &str| {
        let at = page
            .body
            .find(&format!("value=\"{name}\""))
            .unwrap_or_else(|| panic!("no cell {name}"));
        page.body[at..at + 120].to_owned()
    };
    assert!(
        cell("audit.view_others").contains("disabled"),
        "{}",
        cell("audit.view_others")
    );
    assert!(
        page.body
            .contains("you do not hold audit.view_others yourself")
    );
    assert!(
        !cell("roles.view").contains("disabled"),
        "carol holds roles.view"
    );
    assert!(page.body.contains("organization.delete stays the owner"));
    // Posting a cell she lacks anyway is refused by the API, whatever the page allowed.
    let forced = browser
        .post(
            "/ui/roles/auditors",
            &[
                ("csrf", &page.csrf()),
                ("cell", "overview"),
                ("cell", "audit.view_others"),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(forced.status, 403, "{}", forced.body);
    assert_eq!(
        ok(alice.client.role("auditors").await).capabilities,
        vec!["overview".to_owned()]
    );
    let built_in = browser.get("/ui/roles/developer").await;
    assert!(built_in.body.contains("Built-in roles are read-only"));
    assert!(
        !built_in.body.contains("id=\"confirm-save\"")
            && !built_in.body.contains(">Preview effect<")
    );
}

/// The text of the table row that starts with the cell `first`.
fn row<'a>(html: &'a str, first: &str) -> &'a str {
    let start = html
        .find(&format!("<tr><td>{first}</td>"))
        .or_else(|| html.find(&format!("<tr><th scope=\"row\">{first}</th>")))
        .unwrap_or_else(|| panic!("no row {first} in {html}"));
    let end = html[start..]
        .find("</tr>")
        .map_or(html.len(), |e| start + e);
    &html[start..end]
}

/// An organization where bob (developer) and carol (collaborator) read everything but
/// reveal nothing in production.
async fn readers_vault(app: &TestApp) -> (strongroom_testkit::TestUser, String) {
    let (alice, org) = app.readers_organization(&[("carol", "collaborator")]).await;
    (alice, org.id)
}

async fn switched(app: &TestApp, username: &str, vault: &str) -> WebBrowser {
    let mut browser = WebBrowser::signed_in(&app.url, username, PASSWORD).await;
    let page = browser.get("/ui/vaults").await;
    let done = browser
        .post(
            "/ui/vaults/switch",
            &[("csrf", &page.csrf()), ("vault", vault)],
        )
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    browser
}

async fn my_access_shows_each_verb_in_each_environment_and_why(app: TestApp) {
    let (_alice, org) = readers_vault(&app).await;
    let mut bob = switched(&app, "bob", &org).await;
    let page = bob.get("/ui/access").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert!(
        page.body.contains("through the access role readers"),
        "{}",
        page.body
    );
    let production = row(&page.body, "payments/api/production");
    assert_eq!(production.matches('✓').count(), 5, "{production}");
    assert!(
        production.contains("reveal is switched off here"),
        "{production}"
    );
    assert_eq!(
        row(&page.body, "payments/api/staging").matches('✓').count(),
        6
    );
    let asked = bob
        .get("/ui/access?verb=reveal&path=payments/api/production/STRIPE_KEY")
        .await;
    let answer = asked.body.split("id=\"answer\"").nth(1).unwrap_or_default();
    assert!(
        answer.contains("readers"),
        "the same line as `strongroom check`: {answer}"
    );
}

async fn a_secrets_access_tab_lists_who_can_read_use_and_reveal_and_who_revealed(app: TestApp) {
    let (alice, org) = readers_vault(&app).await;
    let key = strongroom_crypto::machine_key::MachineKey::generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .public();
    ok(alice
        .client
        .register_machine("deployer", &key.to_openssh(""), None)
        .await);
    ok(alice
        .client
        .attach_machine("deployer", "payments/api", &[], &["reveal".to_owned()])
        .await);
    ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api/production"],
            &["reveal"],
        ))
        .await);
    ok(alice
        .client
        .create_token(&crate::token_request(
            "helper",
            "agent",
            &["payments/api"],
            &["read", "use"],
        ))
        .await);
    ok(alice
        .client
        .create_token(&crate::token_request(
            "elsewhere",
            "ci",
            &["payments/api/staging"],
            &["reveal"],
        ))
        .await);
    ok(alice
        .client
        .reveal("payments/api/production/STRIPE_KEY", None)
        .await);
    let mut owner = switched(&app, "alice", &org).await;
    let page = owner
        .get("/ui/apps/payments/api/production/STRIPE_KEY/access")
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let html = &page.body;
    assert_eq!(
        row(html, "alice").matches('✓').count(),
        3,
        "the owner reads, uses, reveals"
    );
    let bob = row(html, "bob");
    assert!(bob.contains("readers"), "{bob}");
    assert_eq!(
        (bob.matches('✓').count(), bob.matches('✗').count()),
        (2, 1),
        "{bob}"
    );
    assert_eq!(
        row(html, "deployer").matches('✓').count(),
        2,
        "read and reveal"
    );
    assert_eq!(
        row(html, "deploy").matches('✓').count(),
        2,
        "read and reveal"
    );
    let helper = row(html, "helper");
    assert!(
        helper.contains("agent") && helper.matches('✗').count() == 1,
        "{helper}"
    );
    assert!(
        !html.contains("<tr><td>elsewhere</td>"),
        "a token scoped elsewhere is not listed"
    );
    let reveals = html
        .split("id=\"access-reveals\"")
        .nth(1)
        .unwrap_or_default();
    assert!(reveals.contains("alice"), "who revealed it: {reveals}");
    // Carol may read the secret, but her role holds neither the roster nor machines or
    // tokens: each section says so instead of listing.
    let mut carol = switched(&app, "carol", &org).await;
    let hers = carol
        .get("/ui/apps/payments/api/production/STRIPE_KEY/access")
        .await;
    assert_eq!(hers.status, 200, "{}", hers.body);
    assert!(
        !hers.body.contains("<tr><td>deployer</td>") && !hers.body.contains("<tr><td>bob</td>")
    );
    assert!(
        hers.body.matches("class=\"why\"").count() >= 3,
        "{}",
        hers.body
    );
}

async fn machines_tokens_policies_allowlist_and_alerts_are_managed_from_the_dashboard(
    backend: strongroom_testkit::Backend,
) {
    let mail = strongroom_testkit::MailSink::start().await;
    let app = TestApp::spawn_with_mail(backend, &mail).await;
    let alice = app.user_with_project("alice", "payments/api").await;
    let mut web = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let csrf = web.get("/ui/machines").await.csrf();
    let key = strongroom_crypto::machine_key::MachineKey::generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .public()
        .to_openssh("");
    let registered = web
        .post(
            "/ui/machines",
            &[("csrf", &csrf), ("name", "deployer"), ("public_key", &key)],
        )
        .await;
    assert_eq!(
        registered.location(),
        Some("/ui/machines/deployer"),
        "{}",
        registered.body
    );
    let attached = web
        .post(
            "/ui/machines/deployer/attach",
            &[
                ("csrf", &csrf),
                ("project", "payments/api"),
                ("environments", "production"),
                ("verb", "reveal"),
            ],
        )
        .await;
    assert_eq!(attached.status, 303, "{}", attached.body);
    let issued = web
        .post(
            "/ui/machines/deployer/approle",
            &[("csrf", &csrf), ("expires_in_hours", "")],
        )
        .await;
    assert!(
        issued.body.contains("id=\"approle-secret\""),
        "{}",
        issued.body
    );
    let detail = ok(alice.client.machine("deployer").await);
    assert_eq!(detail.attachments.len(), 1);
    assert_eq!(
        detail.attachments[0].environments,
        vec!["production".to_owned()]
    );

    let created = web
        .post(
            "/ui/tokens",
            &[
                ("csrf", &csrf),
                ("name", "deploy"),
                ("kind", "ci"),
                ("scopes", "payments/api"),
                ("verb", "read"),
                ("verb", "reveal"),
            ],
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.body);
    let marker = "id=\"token-secret\" class=\"secret\">";
    let secret: String = created
        .body
        .split(marker)
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(|c| *c != '<')
        .collect();
    assert!(
        secret.starts_with("sr_"),
        "the token's secret is shown once: {secret}"
    );
    let tokens = ok(alice.client.tokens().await);
    assert_eq!(tokens.len(), 1);
    assert_eq!(tokens[0].kind, "ci");

    let policy = web
        .post(
            "/ui/policies",
            &[
                ("csrf", &csrf),
                ("name", "office"),
                ("subject_kind", "machine"),
                ("subject", "deployer"),
                ("project", "payments/api"),
                ("cidrs", "10.0.0.0/8"),
                ("day", "mon"),
                ("day", "tue"),
                ("from", "09:00"),
                ("to", "17:00"),
                ("time_zone", "UTC"),
                ("max_reads", "100"),
            ],
        )
        .await;
    assert_eq!(policy.status, 303, "{}", policy.body);
    let policies = ok(alice.client.policies().await);
    assert_eq!(policies[0].spec["window"]["days"], json!(["mon", "tue"]));
    assert_eq!(policies[0].spec["max_reads"], json!(100));

    let added = web
        .post(
            "/ui/allowlist",
            &[("csrf", &csrf), ("cidr", "127.0.0.0/8"), ("note", "here")],
        )
        .await;
    assert_eq!(added.status, 303, "{}", added.body);
    assert_eq!(ok(alice.client.allowlist().await).len(), 1);
    web.post(
        "/ui/allowlist/remove",
        &[("csrf", &csrf), ("cidr", "127.0.0.0/8")],
    )
    .await;
    assert!(ok(alice.client.allowlist().await).is_empty());

    let alert = web
        .post(
            "/ui/alerts",
            &[
                ("csrf", &csrf),
                ("name", "reveals"),
                ("channel", "email"),
                ("destination", "sec@example.com"),
                ("actions", "secret.reveal"),
            ],
        )
        .await;
    assert_eq!(alert.status, 200, "{}", alert.body);
    assert_eq!(ok(alice.client.alerts().await).len(), 1);
    web.post("/ui/alerts/reveals/delete", &[("csrf", &csrf)])
        .await;
    assert!(ok(alice.client.alerts().await).is_empty());

    let revoked = web
        .post("/ui/tokens/deploy/revoke", &[("csrf", &csrf)])
        .await;
    assert_eq!(revoked.status, 303);
    assert!(
        ok(alice.client.tokens().await)
            .iter()
            .all(|t| t.status != "active"),
        "revoked"
    );
    let removed = web
        .post(
            "/ui/machines/deployer/remove",
            &[("csrf", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(removed.location(), Some("/ui/machines"));
    assert!(ok(alice.client.machines().await).is_empty());
}

async fn history_compare_rollback_trash_restore_and_purge_work_from_the_dashboard(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let mut web = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let env = "/ui/apps/payments/api/production";
    let secret = "/ui/apps/payments/api/production/KEY";
    let csrf = web.get(env).await.csrf();
    web.post(
        env,
        &[
            ("csrf", &csrf),
            ("name", "KEY"),
            ("value", "one"),
            ("note", "first"),
        ],
    )
    .await;
    let second = web
        .post(
            secret,
            &[
                ("csrf", &csrf),
                ("value", "two"),
                ("secret_type", "password"),
                ("note", "second"),
            ],
        )
        .await;
    assert_eq!(second.location(), Some(secret), "{}", second.body);
    let compared = web.get(&format!("{secret}?a=1&b=2")).await;
    let table = compared
        .body
        .split("id=\"comparison\"")
        .nth(1)
        .unwrap_or_default();
    assert!(
        table.contains(
            "class=\"differs\"><th scope=\"row\">Type</th><td>generic</td><td>password</td>"
        ),
        "{table}"
    );
    assert!(
        !compared.body.contains(">one<") && !compared.body.contains(">two<"),
        "values are never compared on screen"
    );
    let rolled = web
        .post(
            &format!("{secret}/rollback"),
            &[("csrf", &csrf), ("version", "1")],
        )
        .await;
    assert_eq!(rolled.status, 303, "{}", rolled.body);
    let versions = ok(alice.client.versions("payments/api/production/KEY").await);
    assert_eq!(versions[0].version, 3);
    assert_eq!(versions[0].rolled_back_from, Some(1));
    assert_eq!(
        ok(alice
            .client
            .reveal("payments/api/production/KEY", None)
            .await)
        .value
        .expose(),
        "one"
    );

    let deleted = web
        .post(
            &format!("{secret}/delete"),
            &[("csrf", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(deleted.location(), Some(env));
    let trash = web.get("/ui/trash").await;
    assert!(
        trash.body.contains("payments/api/production/KEY"),
        "{}",
        trash.body
    );
    let restored = web
        .post(
            "/ui/trash/payments/api/production/KEY/restore",
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(restored.location(), Some(secret));
    assert!(ok(alice.client.trash().await).is_empty());
    web.post(
        &format!("{secret}/delete"),
        &[("csrf", &csrf), ("confirm", "on")],
    )
    .await;
    let purged = web
        .post(
            "/ui/trash/payments/api/production/KEY/purge",
            &[("csrf", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(purged.location(), Some("/ui/trash"));
    assert!(ok(alice.client.trash().await).is_empty());
    assert_eq!(web.get(secret).await.status, 404);
}

async fn sessions_are_revoked_and_recovery_codes_renewed_after_re_entering_the_password(
    app: TestApp,
) {
    let alice = app.signup("alice").await;
    let (secret, _) = crate::accounts::enable_totp(&alice).await;
    let mut web = WebBrowser::new(&app.url);
    let page = web.get("/ui/signin").await;
    let code = secret.code_at(crate::accounts::now()).unwrap_or_default();
    let signed_in = web
        .post(
            "/ui/signin",
            &[
                ("csrf", &page.csrf()),
                ("username", "alice"),
                ("password", PASSWORD),
                ("code", &code),
            ],
        )
        .await;
    assert_eq!(
        signed_in.location(),
        Some("/ui/vaults"),
        "{}",
        signed_in.body
    );
    let account = web.get("/ui/account").await;
    let csrf = account.csrf();
    // The API's session is listed beside this browser's, and revoking it ends it.
    let api_session = ok(alice.client.whoami().await).session.id;
    assert!(
        account
            .body
            .contains(&format!("/ui/account/sessions/{api_session}/revoke"))
    );
    let revoked = web
        .post(
            &format!("/ui/account/sessions/{api_session}/revoke"),
            &[("csrf", &csrf)],
        )
        .await;
    assert_eq!(revoked.location(), Some("/ui/account"));
    assert!(
        alice.client.whoami().await.is_err(),
        "the revoked session is over"
    );
    // New recovery codes need the password again.
    let refused = web
        .post(
            "/ui/account/recovery-codes",
            &[
                ("csrf", &csrf),
                ("password", "not the password at all"),
                ("code", "000000"),
            ],
        )
        .await;
    assert_eq!(refused.status, 401, "{}", refused.body);
    assert!(!refused.body.contains("id=\"recovery-codes\""));
    crate::early_in_a_totp_step().await;
    let code = secret
        .code_at(crate::accounts::now() + 30)
        .unwrap_or_default();
    let renewed = web
        .post(
            "/ui/account/recovery-codes",
            &[("csrf", &csrf), ("password", PASSWORD), ("code", &code)],
        )
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.body);
    let codes = renewed
        .body
        .split("id=\"recovery-codes\"")
        .nth(1)
        .unwrap_or_default();
    assert_eq!(codes.matches("<li><code>").count(), 10, "{codes}");
}

async fn an_owner_transfers_deletes_and_restores_and_a_member_leaves_from_the_dashboard(
    app: TestApp,
) {
    let alice = app.verified_user("alice").await;
    let (org, _) = app
        .organization(&alice, "acme", &[("bob", "admin"), ("carol", "developer")])
        .await;
    let mut carol = switched(&app, "carol", &org.id).await;
    let csrf = carol.get("/ui/organization").await.csrf();
    let left = carol
        .post(
            "/ui/organization/leave",
            &[("csrf", &csrf), ("confirm", "on")],
        )
        .await;
    assert_eq!(left.location(), Some("/ui/vaults"), "{}", left.body);
    assert_eq!(ok(alice.client.members().await).items.len(), 2);

    let mut owner = switched(&app, "alice", &org.id).await;
    let csrf = owner.get("/ui/organization").await.csrf();
    let wrong = owner
        .post(
            "/ui/organization/transfer",
            &[
                ("csrf", &csrf),
                ("username", "bob"),
                ("password", "not the password at all"),
            ],
        )
        .await;
    assert_eq!(
        wrong.status, 401,
        "a transfer needs the password: {}",
        wrong.body
    );
    let transferred = owner
        .post(
            "/ui/organization/transfer",
            &[("csrf", &csrf), ("username", "bob"), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(transferred.status, 303, "{}", transferred.body);
    let roster = ok(alice.client.members().await);
    let bob = roster.items.iter().find(|m| m.username == "bob");
    assert_eq!(bob.map(|m| m.vault_role.as_str()), Some("owner"));

    let mut new_owner = switched(&app, "bob", &org.id).await;
    let csrf = new_owner.get("/ui/organization").await.csrf();
    let deleted = new_owner
        .post(
            "/ui/organization/delete",
            &[("csrf", &csrf), ("password", PASSWORD), ("confirm", "on")],
        )
        .await;
    assert_eq!(deleted.location(), Some("/ui/vaults"), "{}", deleted.body);
    let vaults = new_owner.get("/ui/vaults").await;
    assert!(
        vaults
            .body
            .contains(&format!("/ui/vaults/{}/restore", org.id)),
        "{}",
        vaults.body
    );
    let restored = new_owner
        .post(
            &format!("/ui/vaults/{}/restore", org.id),
            &[("csrf", &vaults.csrf()), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(restored.location(), Some("/ui/vaults"), "{}", restored.body);
    assert!(ok(alice.client.members().await).items.len() == 2);
}

async fn the_audit_viewer_filters_pages_exports_and_shows_a_developer_only_their_own(app: TestApp) {
    let (alice, org) = readers_vault(&app).await;
    for _ in 0..60 {
        ok(alice
            .client
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await);
    }
    let mut owner = switched(&app, "alice", &org).await;
    let first = owner
        .get("/ui/audit?action=secret.reveal&actor=alice")
        .await;
    assert_eq!(first.status, 200, "{}", first.body);
    let rows = |html: &str| html.matches("<td><code>secret.reveal</code></td>").count();
    assert_eq!(rows(&first.body), 50, "a page holds 50 entries");
    assert!(first.body.contains("badge sev-notice") || first.body.contains("badge sev-info"));
    let older = first
        .body
        .split("id=\"older\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .map(|href| {
            href.trim_end_matches("\" ")
                .replace("&amp;", "&")
                .replace("&#38;", "&")
        })
        .unwrap_or_default();
    assert!(
        older.starts_with("/ui/audit?") && older.contains("cursor="),
        "{older}"
    );
    let second = owner.get(&older).await;
    assert_eq!(
        rows(&second.body),
        10,
        "the rest, on the next page: {older}"
    );
    assert!(!second.body.contains("id=\"older\""));
    let export = owner
        .get("/ui/audit/export?action=secret.reveal&actor=alice")
        .await;
    assert_eq!(export.status, 200);
    assert!(
        export
            .headers
            .get("content-disposition")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("attachment"))
    );
    let lines: Vec<serde_json::Value> = export
        .body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert_eq!(lines.len(), 60);
    assert!(
        lines
            .iter()
            .all(|e| e["actor_name"] == "alice" && e["action"] == "secret.reveal")
    );

    // Bob holds View own only: alice's entries are not his to see, on the page or in an export.
    let mut bob = switched(&app, "bob", &org).await;
    bob.get("/ui/apps/payments/api/production").await;
    let his = bob.get("/ui/audit").await;
    assert_eq!(his.status, 200, "{}", his.body);
    assert!(his.body.contains("<td>bob <span"), "{}", his.body);
    assert!(!his.body.contains("<td>alice <span"), "{}", his.body);
    let exported = bob.get("/ui/audit/export?actor=alice").await;
    assert!(exported.body.trim().is_empty(), "{}", exported.body);
}

async fn the_visitor_cookies_token_opens_only_the_sign_in_forms(app: TestApp) {
    let alice = app.signup("alice").await;
    let mut web = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    // A token derived from the visitor cookie (which a sibling site could plant) is no
    // good once there is a session.
    let visitor = web
        .cookie("strongroom_visitor")
        .unwrap_or_default()
        .to_owned();
    assert!(!visitor.is_empty());
    let planted = strongroom_testkit::csrf_token_for(&visitor);
    let refused = web
        .post("/ui/apps", &[("csrf", &planted), ("name", "payments")])
        .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert!(ok(alice.client.apps().await).is_empty());
    // The page's own token, bound to the session, goes through.
    let csrf = web.get("/ui/apps").await.csrf();
    assert_ne!(csrf, planted);
    let created = web
        .post("/ui/apps", &[("csrf", &csrf), ("name", "payments")])
        .await;
    assert_eq!(created.status, 303, "{}", created.body);
}

async fn signing_in_again_in_the_same_browser_ends_the_session_it_had(app: TestApp) {
    let alice = app.signup("alice").await;
    let mut web = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let first = web
        .cookie("strongroom_session")
        .unwrap_or_default()
        .to_owned();
    let page = web.get("/ui/signin").await;
    let again = web
        .post(
            "/ui/signin",
            &[
                ("csrf", &page.csrf()),
                ("username", "alice"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(again.location(), Some("/ui/vaults"), "{}", again.body);
    assert_ne!(web.cookie("strongroom_session").unwrap_or_default(), first);
    assert_eq!(
        ok(alice.client.sessions().await).len(),
        2,
        "the API's and the browser's new one; the browser's old one is gone"
    );
}

async fn the_rosters_change_check_is_not_an_audit_entry_but_each_roster_fetch_is(app: TestApp) {
    let (alice, org) = app.readers_organization(&[]).await;
    let mut owner = switched(&app, "alice", &org.id).await;
    let before = owner.get("/ui/members/roster/version").await;
    assert_eq!(before.status, 200);
    for _ in 0..3 {
        assert_eq!(
            owner.get("/ui/members/roster/version").await.body,
            before.body
        );
    }
    ok(alice.client.suspend_member("bob").await);
    let after = owner.get("/ui/members/roster/version").await;
    assert_ne!(
        after.body, before.body,
        "a suspension changes the roster's digest"
    );
    owner.get("/ui/members/roster").await;
    let actions = app
        .query_column(&format!(
            "SELECT action FROM audit_events WHERE vault_id = '{}' AND actor_name = 'alice'",
            org.id
        ))
        .await;
    assert!(
        !actions.iter().any(|a| a == "member.roster_version"),
        "{actions:?}"
    );
    assert!(actions.iter().any(|a| a == "member.list"), "{actions:?}");
}

async fn the_site_root_leads_to_the_dashboard(app: TestApp) {
    let mut web = WebBrowser::new(&app.url);
    for path in ["/", "/ui/"] {
        assert_eq!(web.get(path).await.location(), Some("/ui/vaults"), "{path}");
    }
    assert_eq!(web.get("/ui/vaults").await.location(), Some("/ui/signin"));
}

async fn the_password_email_and_two_factor_are_changed_after_re_entering_the_password(
    app: TestApp,
) {
    let alice = app.signup("alice").await;
    let mut web = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let csrf = web.get("/ui/account").await.csrf();
    let new_password = "an entirely new passphrase";
    let changed = web
        .post(
            "/ui/account/password",
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("new_password", new_password),
            ],
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert!(changed.body.contains("Password changed"));
    assert!(alice.client.whoami().await.is_err(), "other sessions end");
    WebBrowser::signed_in(&app.url, "alice", new_password).await;
    let moved = web
        .post(
            "/ui/account/email",
            &[
                ("csrf", &csrf),
                ("password", new_password),
                ("email", "alice@new.example"),
            ],
        )
        .await;
    assert_eq!(moved.location(), Some("/ui/verify"), "{}", moved.body);
    assert!(
        web.get("/ui/account")
            .await
            .body
            .contains("alice@new.example")
    );
    let refused = web
        .post(
            "/ui/account/email",
            &[
                ("csrf", &csrf),
                ("password", PASSWORD),
                ("email", "mallory@example.com"),
            ],
        )
        .await;
    assert_eq!(refused.status, 401, "the old password no longer steps up");
}

async fn two_factor_sign_in_is_turned_off_after_re_entering_the_password_and_a_code(app: TestApp) {
    let alice = app.signup("alice").await;
    let (secret, _) = crate::accounts::enable_totp(&alice).await;
    let mut web = WebBrowser::new(&app.url);
    let page = web.get("/ui/signin").await;
    let code = secret.code_at(crate::accounts::now()).unwrap_or_default();
    web.post(
        "/ui/signin",
        &[
            ("csrf", &page.csrf()),
            ("username", "alice"),
            ("password", PASSWORD),
            ("code", &code),
        ],
    )
    .await;
    let csrf = web.get("/ui/account").await.csrf();
    crate::early_in_a_totp_step().await;
    let next = secret
        .code_at(crate::accounts::now() + 30)
        .unwrap_or_default();
    let off = web
        .post(
            "/ui/account/totp/disable",
            &[("csrf", &csrf), ("password", PASSWORD), ("code", &next)],
        )
        .await;
    assert_eq!(off.location(), Some("/ui/account"), "{}", off.body);
    assert!(!ok(alice.client.whoami().await).user.totp_enabled);
}

async fn versions_are_deleted_undeleted_and_destroyed_and_tags_written_from_a_secrets_page(
    app: TestApp,
) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let mut web = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let env = "/ui/apps/payments/api/production";
    let secret = "/ui/apps/payments/api/production/KEY";
    let csrf = web.get(env).await.csrf();
    web.post(
        env,
        &[
            ("csrf", &csrf),
            ("name", "KEY"),
            ("value", "one"),
            ("tags", "billing, pci"),
        ],
    )
    .await;
    web.post(
        secret,
        &[("csrf", &csrf), ("value", "two"), ("tags", "billing")],
    )
    .await;
    let meta = ok(alice.client.secret("payments/api/production/KEY").await);
    assert_eq!(meta.tags, vec!["billing".to_owned()]);
    let client = &alice.client;
    let state = |v: i64| async move {
        let versions = ok(client.versions("payments/api/production/KEY").await);
        let found = versions.into_iter().find(|x| x.version == v);
        found.map(|x| (x.deleted_at.is_some(), x.destroyed_at.is_some()))
    };
    let deleted = web
        .post(
            &format!("{secret}/versions/delete"),
            &[("csrf", &csrf), ("version", "1")],
        )
        .await;
    assert_eq!(deleted.location(), Some(secret), "{}", deleted.body);
    assert_eq!(state(1).await, Some((true, false)));
    assert!(web.get(secret).await.body.contains("Undelete 1"));
    web.post(
        &format!("{secret}/versions/undelete"),
        &[("csrf", &csrf), ("version", "1")],
    )
    .await;
    assert_eq!(state(1).await, Some((false, false)));
    web.post(
        &format!("{secret}/versions/destroy"),
        &[("csrf", &csrf), ("version", "1"), ("confirm", "on")],
    )
    .await;
    assert_eq!(state(1).await.map(|s| s.1), Some(true));
}

async fn a_member_who_may_view_roles_asks_about_another_member_on_my_access(app: TestApp) {
    let (_, org) = app.readers_organization(&[]).await;
    let mut owner = switched(&app, "alice", &org.id).await;
    let asked = owner
        .get("/ui/access?who=bob&verb=reveal&path=payments/api/production/STRIPE_KEY")
        .await;
    let answer = asked.body.split("id=\"answer\"").nth(1).unwrap_or_default();
    assert!(
        answer.contains("bob: reveal") && answer.contains("readers"),
        "{answer}"
    );
    let mut bob = switched(&app, "bob", &org.id).await;
    let refused = bob
        .get("/ui/access?who=alice&verb=reveal&path=payments/api/production/STRIPE_KEY")
        .await;
    assert_eq!(
        refused.status, 403,
        "a developer may not ask about others: {}",
        refused.body
    );
}

async fn a_pasted_env_file_is_imported_into_an_environment(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice
        .client
        .put_secret("payments/api/production/KEPT", &crate::value("same"))
        .await);
    let mut web = WebBrowser::signed_in(&app.url, "alice", PASSWORD).await;
    let env = "/ui/apps/payments/api/production";
    let csrf = web.get(env).await.csrf();
    let dotenv =
        "# pasted\nexport STRIPE_KEY=sk_live_pasted\nKEPT='same'\nimport=\"a name like a route\"\n";
    let done = web
        .post(
            "/ui/import/payments/api/production",
            &[("csrf", &csrf), ("dotenv", dotenv)],
        )
        .await;
    assert_eq!(done.status, 200, "{}", done.body);
    assert!(
        done.body
            .contains("Imported: 2 created, 0 updated, 1 unchanged."),
        "{}",
        done.body
    );
    assert!(
        !done.body.contains("sk_live_pasted"),
        "values stay off the page"
    );
    assert_eq!(
        ok(alice
            .client
            .reveal("payments/api/production/STRIPE_KEY", None)
            .await)
        .value
        .expose(),
        "sk_live_pasted"
    );
    // A secret named "import" has its own page, like any other.
    assert_eq!(web.get(&format!("{env}/import")).await.status, 200);
    let broken = web
        .post(
            "/ui/import/payments/api/production",
            &[("csrf", &csrf), ("dotenv", "NOT A LINE")],
        )
        .await;
    assert_eq!(broken.status, 400);
    assert!(broken.body.contains("line 1"), "{}", broken.body);
}

crate::each_backend!(machines_tokens_policies_allowlist_and_alerts_are_managed_from_the_dashboard);

crate::on_both_backends!(
    a_pasted_env_file_is_imported_into_an_environment,
    the_password_email_and_two_factor_are_changed_after_re_entering_the_password,
    two_factor_sign_in_is_turned_off_after_re_entering_the_password_and_a_code,
    versions_are_deleted_undeleted_and_destroyed_and_tags_written_from_a_secrets_page,
    a_member_who_may_view_roles_asks_about_another_member_on_my_access,
    the_visitor_cookies_token_opens_only_the_sign_in_forms,
    signing_in_again_in_the_same_browser_ends_the_session_it_had,
    the_rosters_change_check_is_not_an_audit_entry_but_each_roster_fetch_is,
    the_site_root_leads_to_the_dashboard,
    the_audit_viewer_filters_pages_exports_and_shows_a_developer_only_their_own,
    history_compare_rollback_trash_restore_and_purge_work_from_the_dashboard,
    sessions_are_revoked_and_recovery_codes_renewed_after_re_entering_the_password,
    an_owner_transfers_deletes_and_restores_and_a_member_leaves_from_the_dashboard,
    my_access_shows_each_verb_in_each_environment_and_why,
    a_secrets_access_tab_lists_who_can_read_use_and_reveal_and_who_revealed,
    the_vault_role_matrix_disables_cells_the_author_lacks_and_built_ins_are_read_only,
    every_state_changing_form_refuses_a_request_without_its_csrf_token,
    every_state_changing_form_refuses_a_foreign_origin,
    pages_carry_a_strict_content_security_policy_and_refuse_framing,
    the_session_cookie_is_http_only_same_site_lax_and_scoped_to_the_dashboard,
    a_wrong_password_on_the_sign_in_page_says_so_and_sets_no_session,
    a_value_stays_off_every_page_until_revealed_and_the_reveal_is_audited,
    a_member_without_reveal_sees_names_but_no_reveal_button_and_a_forced_reveal_explains_why,
    a_machine_never_reaches_a_dashboard_page,
);
