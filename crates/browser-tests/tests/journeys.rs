//! The dashboard's main journeys, in a real headless Chromium, against a real server on
//! SQLite and on PostgreSQL.

use std::time::{SystemTime, UNIX_EPOCH};
use strongroom_browser_tests::Browser;
use strongroom_crypto::totp::TotpSecret;
use strongroom_testkit::{Backend, MailSink, PASSWORD, TestApp};

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn ok<T, E: std::fmt::Debug>(result: Result<T, E>) -> T {
    result.unwrap_or_else(|e| panic!("unexpected error: {e:?}"))
}

/// Waits until the current 30-second TOTP step has at least ten seconds left, so a code
/// typed now is still current when the server checks it.
async fn early_in_a_totp_step() {
    let into_step = now() % 30;
    if into_step > 20 {
        tokio::time::sleep(std::time::Duration::from_secs(31 - into_step)).await;
    }
}

async fn sign_in(browser: &Browser, username: &str, code: Option<&str>) {
    browser.open("/ui/signin").await;
    browser.fill("#username", username).await;
    browser.fill("#password", PASSWORD).await;
    if let Some(code) = code {
        browser.fill("#code", code).await;
    }
    browser.click_button("Sign in").await;
    browser.find("#vault-list").await;
}

/// Sign up → verify the email → turn on TOTP (QR code, recovery codes) → sign in again
/// with a code → create an application, project and secret → reveal it and copy it.
async fn sign_up_verify_enrol_totp_create_a_secret_and_reveal_it(backend: Backend) {
    let mail = MailSink::start().await;
    let app = TestApp::spawn_with_mail(backend, &mail).await;
    let browser = Browser::start(&app.url).await;

    browser.open("/ui/signup").await;
    browser.screenshot("sign-up").await;
    browser.fill("#username", "alice").await;
    browser.fill("#email", "alice@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click_button("Create account").await;
    browser.wait_for_text("Verify your email").await;
    assert_eq!(browser.path().await, "/ui/verify");

    let delivered = mail
        .wait_for("alice@example.com", "verification code")
        .await;
    let code: String = delivered
        .data
        .split("verification code is ")
        .nth(1)
        .unwrap_or_default()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    assert_eq!(code.len(), 6, "{}", delivered.data);
    browser.fill("#code", &code).await;
    browser.click_button("Verify").await;
    browser.wait_for_text("Your account").await;
    assert!(browser.page_text().await.contains("verified"));

    browser.click_button("Turn on two-factor sign-in").await;
    let qr = browser.find("img.qr").await;
    let src = ok(qr.attr("src").await).unwrap_or_default();
    assert!(src.starts_with("data:image/svg+xml;base64,"), "{src}");
    browser.screenshot("totp-enrolment").await;
    let secret_text = browser.text("#totp-secret").await;
    let bytes = ok(totp_rs::Secret::Encoded(secret_text.trim().to_owned()).to_bytes());
    let secret = TotpSecret::from_bytes(bytes);
    early_in_a_totp_step().await;
    // The previous step's code confirms enrolment (it is still accepted), leaving the
    // current one for the sign-in that follows.
    browser.fill("#code", &ok(secret.code_at(now() - 30))).await;
    browser.click_button("Turn on").await;
    browser.wait_for_text("Your recovery codes").await;
    let codes = browser.text("#recovery-codes").await;
    assert_eq!(
        codes.lines().filter(|l| !l.trim().is_empty()).count(),
        10,
        "{codes}"
    );

    browser.open("/ui/account").await;
    browser.click_button("Sign out").await;
    browser.find("#username").await;
    browser.open("/ui/signin").await;
    browser.fill("#username", "alice").await;
    browser.fill("#password", PASSWORD).await;
    browser.click_button("Sign in").await;
    browser.wait_for_text("authenticator").await;
    assert_eq!(
        browser.path().await,
        "/ui/signin",
        "a password alone is not enough"
    );
    sign_in(&browser, "alice", Some(&ok(secret.code_at(now())))).await;
    browser.screenshot("vault-picker").await;

    browser.open("/ui/apps").await;
    browser
        .wait_for_text("There is no application here yet")
        .await;
    browser.fill("#name", "payments").await;
    browser.click_button("Create application").await;
    browser.wait_for_text("There is no project here yet").await;
    browser.fill("#name", "api").await;
    browser.click_button("Create project").await;
    browser.wait_for_text("production").await;
    browser
        .click("a[href='/ui/apps/payments/api/production']")
        .await;
    browser
        .wait_for_text("No secrets you can see here yet")
        .await;
    browser.fill("#name", "STRIPE_KEY").await;
    browser.fill("#value", "sk_live_from_the_browser").await;
    browser.click_button("Save secret").await;
    browser.wait_for_text("History").await;
    assert_eq!(
        browser.path().await,
        "/ui/apps/payments/api/production/STRIPE_KEY"
    );
    assert!(
        !ok(browser.client.source().await).contains("sk_live_from_the_browser"),
        "the value is not on the page before a reveal"
    );
    browser.screenshot("secret").await;

    browser.click("#reveal").await;
    let value = browser.find("#revealed-value").await;
    assert_eq!(ok(value.text().await), "sk_live_from_the_browser");
    // htmx swapped the value in without leaving the page.
    assert_eq!(
        browser.path().await,
        "/ui/apps/payments/api/production/STRIPE_KEY"
    );
    browser.click("button[data-copy='revealed-value']").await;
    browser.wait_for_text("Copied").await;
    browser.screenshot("secret-revealed").await;

    // The audit viewer shows that reveal, attributed to alice by name.
    browser.click("a[href='/ui/audit']").await;
    browser.fill("#f-action", "secret.reveal").await;
    browser.click_button("Filter").await;
    browser.find("#audit").await;
    let rows = browser.text("#audit tbody").await;
    assert!(
        rows.contains("alice") && rows.contains("payments/api/production/STRIPE_KEY"),
        "{rows}"
    );
    assert_eq!(rows.lines().count(), 1, "only the reveal matches: {rows}");
    browser.screenshot("audit").await;

    let alice = ok(strongroom_client::Client::new(&app.url, None));
    let signed_in = ok(alice
        .login(&strongroom_proto::LoginRequest {
            username: "alice".into(),
            password: strongroom_proto::Sensitive::new(PASSWORD),
            totp_code: None,
            recovery_code: Some(strongroom_proto::Sensitive::new(
                codes.lines().next().unwrap_or_default().trim(),
            )),
        })
        .await);
    let trail = app.audit_trail(&signed_in.user.personal_vault_id).await;
    assert!(
        trail.contains(&(
            "alice".into(),
            "secret.reveal".into(),
            "payments/api/production/STRIPE_KEY".into()
        )),
        "{trail:?}"
    );
    browser.close().await;
}

/// The header's switcher changes vault in two clicks, with no new sign-in; a member
/// suspended there is cut off on their next click, with the reason.
async fn switch_vaults_from_the_header_and_a_suspension_cuts_the_open_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let alice = app.verified_user("alice").await;
    let (acme, _) = app
        .organization(&alice, "acme", &[("bob", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice
        .client
        .create_access_role("everything", serde_json::json!({"scope": "everything"}))
        .await);
    ok(alice
        .client
        .set_member_access_role("bob", Some("everything"))
        .await);
    let browser = Browser::start(&app.url).await;
    sign_in(&browser, "bob", None).await;
    // Sign-in starts in the personal vault; the switcher holds both.
    let personal = browser.text("#vault-switcher option[selected]").await;
    assert!(personal.contains("bob"), "{personal}");
    let acme_option = browser
        .find(&format!("#vault-switcher option[value='{}']", acme.id))
        .await;
    browser.click("#vault-switcher").await;
    ok(acme_option.click().await);
    browser.find("a[href='/ui/apps/payments']").await;
    let selected = browser.text("#vault-switcher option[selected]").await;
    assert!(selected.contains("acme (developer)"), "{selected}");

    // The owner suspends bob from the roster's action menu, in a browser of her own.
    let owner = Browser::start(&app.url).await;
    sign_in(&owner, "alice", None).await;
    owner.click_button("Switch to acme").await;
    owner.find("a[href='/ui/apps/payments']").await;
    owner.open("/ui/members").await;
    owner.click("tr[data-member='bob'] summary").await;
    owner
        .click("tr[data-member='bob'] form[action='/ui/members/bob/suspend'] button")
        .await;
    owner.wait_for_text("suspended").await;
    assert!(
        owner
            .text("tr[data-member='bob']")
            .await
            .contains("suspended")
    );
    owner.close().await;
    browser.click("a[href='/ui/apps']").await;
    let why = browser.text("#denied").await;
    assert!(why.contains("suspended"), "{why}");
    assert!(!browser.has("a[href='/ui/apps/payments']").await);
    // The rest of the account still works: the switcher leads back to the personal vault.
    browser.find("#vault-switcher").await;
    browser.close().await;
}

/// Convert a personal vault to an organization (step-up) → invite by email → the invitee
/// accepts in their own panel → switches vault → the owner's open roster shows them
/// without a reload.
async fn convert_invite_accept_switch_and_the_roster_updates_live(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.verified_user("alice").await;
    app.verified_user("bob").await;
    let owner = Browser::start(&app.url).await;
    sign_in(&owner, "alice", None).await;
    owner.click("a[href='/ui/organization']").await;
    owner.fill("#convert-name", "acme").await;
    owner.fill("#convert-password", PASSWORD).await;
    owner.click_button("Convert to an organization").await;
    owner.find("#members").await;
    assert!(owner.text("#members").await.contains("alice"));
    assert!(
        owner.text(".plan").await.contains("free"),
        "the plan and cap are shown"
    );
    owner.fill("#invite-email", "bob@example.com").await;
    owner.click_button("Send invite").await;
    owner.wait_for_text("bob@example.com").await;
    assert!(owner.text("#pending-invites").await.contains("developer"));

    let invitee = Browser::start(&app.url).await;
    sign_in(&invitee, "bob", None).await;
    invitee.click("a[href='/ui/invitations']").await;
    let offer = invitee.text("#received-invites").await;
    assert!(offer.contains("acme") && offer.contains("alice"), "{offer}");
    invitee.click_button("Accept").await;
    invitee.find("#vault-list").await;
    let switch = invitee.find("#vault-list form button").await;
    assert!(ok(switch.text().await).contains("acme"));
    ok(switch.click().await);
    let selected = invitee.text("#vault-switcher option[selected]").await;
    assert!(selected.contains("acme (developer)"), "{selected}");

    // The owner's page was not reloaded: the roster polls and shows bob by itself.
    for _ in 0..100 {
        if owner.text("#members").await.contains("bob") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let roster = owner.text("#members").await;
    assert!(
        roster.contains("bob") && roster.contains("developer"),
        "{roster}"
    );
    assert_eq!(owner.path().await, "/ui/members");
    owner.screenshot("members").await;
    invitee.close().await;
    owner.close().await;
}

/// Edit an access role: ticking reveal back on in production shows, before saving, that
/// bob gains reveal on payments/api/production; confirming saves it.
async fn edit_an_access_role_and_see_its_effect_before_saving(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (alice, _) = app.readers_organization(&[]).await;
    let readers = ok(alice.client.access_role("readers").await).spec;
    let browser = Browser::start(&app.url).await;
    sign_in(&browser, "alice", None).await;
    browser.click_button("Switch to acme").await;
    browser.find("a[href='/ui/apps/payments']").await;
    browser.open("/ui/roles").await;
    browser.click("a[href='/ui/access-roles/readers']").await;
    let production_reveal = "#environments input[value='production:reveal']";
    assert!(!ok(browser
        .find(production_reveal)
        .await
        .is_selected()
        .await));
    browser.click(production_reveal).await;
    // The effect appears as soon as the box is ticked, before anything is saved.
    browser
        .wait_for_text("bob gains reveal on payments/api/production")
        .await;
    assert_eq!(ok(alice.client.access_role("readers").await).spec, readers);
    browser.screenshot("access-role-effect").await;
    browser.click("#confirm-save").await;
    browser.wait_for_text("Saved.").await;
    let saved = ok(alice.client.access_role("readers").await).spec;
    assert_eq!(saved, serde_json::json!({"scope": "everything"}), "{saved}");
    browser.close().await;
}

/// Every page a member uses: each field has a label, nothing is taken out of the tab
/// order or forced ahead in it, and at a phone's width nothing spills sideways.
async fn every_page_labels_its_fields_keeps_tab_order_and_fits_a_phone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let (alice, _) = app.readers_organization(&[]).await;
    let key = ok(strongroom_crypto::machine_key::MachineKey::generate()).public();
    ok(alice
        .client
        .register_machine("deployer", &key.to_openssh(""), None)
        .await);

    let browser = Browser::start(&app.url).await;
    sign_in(&browser, "alice", None).await;
    browser.click_button("Switch to acme").await;
    browser.find("a[href='/ui/apps/payments']").await;
    let pages = [
        "/ui/vaults",
        "/ui/apps",
        "/ui/apps/payments",
        "/ui/apps/payments/api",
        "/ui/apps/payments/api/production",
        "/ui/apps/payments/api/production/STRIPE_KEY",
        "/ui/apps/payments/api/production/STRIPE_KEY/access",
        "/ui/trash",
        "/ui/audit",
        "/ui/members",
        "/ui/organization",
        "/ui/invitations",
        "/ui/roles",
        "/ui/roles/developer",
        "/ui/access-roles/readers",
        "/ui/access",
        "/ui/machines",
        "/ui/machines/deployer",
        "/ui/tokens",
        "/ui/policies",
        "/ui/allowlist",
        "/ui/alerts",
        "/ui/billing",
        "/ui/account",
    ];
    let unlabelled = "return [...document.querySelectorAll('input:not([type=hidden]), select, textarea')]\
        .filter(e => (!e.labels || e.labels.length === 0) && !e.getAttribute('aria-label'))\
        .map(e => e.outerHTML.slice(0, 100));";
    let tab_order = "return [...document.querySelectorAll('[tabindex]')]\
        .filter(e => e.tabIndex !== 0).map(e => e.outerHTML.slice(0, 100));";
    let overflow = "return document.documentElement.scrollWidth - window.innerWidth;";
    for (width, height) in [(1280, 900), (390, 844)] {
        ok(browser.client.set_window_size(width, height).await);
        for page in pages {
            browser.open(page).await;
            browser.find("main").await;
            assert!(
                !browser.page_text().await.contains("Error 4"),
                "{page} failed: {}",
                browser.page_text().await
            );
            let missing = ok(browser.client.execute(unlabelled, vec![]).await);
            assert_eq!(
                missing,
                serde_json::json!([]),
                "{page}: fields without a label"
            );
            let forced = ok(browser.client.execute(tab_order, vec![]).await);
            assert_eq!(forced, serde_json::json!([]), "{page}: tab order changed");
            let spill = ok(browser.client.execute(overflow, vec![]).await);
            if spill.as_i64().unwrap_or(0) > 1 {
                let wide = "return [document.documentElement.scrollWidth, document.body.scrollWidth, window.innerWidth, ...[...document.querySelectorAll('body *')].filter(e => e.scrollWidth > window.innerWidth).map(e => e.tagName + '.' + e.className + ' ' + e.scrollWidth + '/' + e.clientWidth + ' r=' + Math.round(e.getBoundingClientRect().right))];";
                eprintln!(
                    "WIDE {page}: {:?}",
                    browser.client.execute(wide, vec![]).await
                );
            }
            assert!(
                spill.as_i64().unwrap_or(0) <= 1,
                "{page} is {spill} px wider than a {width} px window"
            );
        }
    }
    browser
        .open("/ui/apps/payments/api/production/STRIPE_KEY")
        .await;
    browser.screenshot("secret-phone").await;
    browser.close().await;
}

/// A developer whose access role switches reveal off in production sees the secret's
/// name but no reveal button, with the reason; forcing the reveal is refused, saying why.
async fn a_developer_without_reveal_sees_names_and_why_not_the_value(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.readers_organization(&[]).await;
    let browser = Browser::start(&app.url).await;
    sign_in(&browser, "bob", None).await;
    browser.click_button("Switch to acme").await;
    browser.click("a[href='/ui/apps/payments']").await;
    browser.click("a[href='/ui/apps/payments/api']").await;
    browser
        .click("a[href='/ui/apps/payments/api/production']")
        .await;
    browser
        .click("a[href='/ui/apps/payments/api/production/STRIPE_KEY']")
        .await;
    browser.find("#history").await;
    assert!(!browser.has("#reveal").await, "no reveal button for bob");
    let why = browser.text("#reveal-denied").await;
    assert!(why.contains("readers") && why.contains("reveal"), "{why}");
    browser.screenshot("reveal-denied").await;
    // Forcing it, with a form of his own, is refused and says why.
    ok(browser
        .client
        .execute(
            "const f = document.createElement('form'); f.method = 'post'; \
             f.action = location.pathname + '/reveal'; \
             const t = document.createElement('input'); t.name = 'csrf'; \
             t.value = document.querySelector('meta[name=csrf-token]').content; \
             f.appendChild(t); document.body.appendChild(f); f.submit();",
            vec![],
        )
        .await);
    browser.wait_for_text("Permission denied").await;
    let refusal = browser.text(".why").await;
    assert!(refusal.contains("readers"), "{refusal}");
    assert!(!ok(browser.client.source().await).contains(strongroom_testkit::READERS_VALUE));
    browser.close().await;
}

macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(strongroom_testkit::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(strongroom_testkit::Backend::Postgres).await;
                }
            )*
        }
    };
}

on_both_backends!(
    sign_up_verify_enrol_totp_create_a_secret_and_reveal_it,
    switch_vaults_from_the_header_and_a_suspension_cuts_the_open_session,
    convert_invite_accept_switch_and_the_roster_updates_live,
    edit_an_access_role_and_see_its_effect_before_saving,
    every_page_labels_its_fields_keeps_tab_order_and_fits_a_phone,
    a_developer_without_reveal_sees_names_and_why_not_the_value,
);
