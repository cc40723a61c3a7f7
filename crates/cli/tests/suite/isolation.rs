//! Vault isolation: nothing of one user's vault is visible from another's.

use crate::{expect_code, ok, step_up_request, value};
use serde_json::{Value, json};
use strongroom_crypto::request_signing::{SignedRequest, body_digest};
use strongroom_proto::CreateLinkRequest;
use strongroom_testkit::{PASSWORD, TestApp, WebBrowser};

async fn another_users_vault_is_invisible(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice
        .client
        .put_secret("payments/api/production/KEY", &value("alice-only"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/production/OLD", &value("old"))
        .await);
    ok(alice
        .client
        .delete_secret("payments/api/production/OLD")
        .await);
    let bob = app.signup("bob").await;

    assert!(ok(bob.client.apps().await).is_empty());
    assert!(ok(bob.client.trash().await).is_empty());
    let probe = expect_code(
        bob.client.reveal("payments/api/production/KEY", None).await,
        "not_found",
    );
    let nothing = expect_code(
        bob.client.reveal("nothing/here/at/ALL", None).await,
        "not_found",
    );
    assert!(!probe.to_string().contains("alice"));
    assert!(!nothing.to_string().contains("alice"));
    expect_code(
        bob.client.secrets("payments/api/production").await,
        "not_found",
    );
    expect_code(bob.client.projects("payments").await, "not_found");
    expect_code(
        bob.client
            .put_secret("payments/api/production/KEY", &value("x"))
            .await,
        "not_found",
    );
    expect_code(
        bob.client
            .delete_secret("payments/api/production/KEY")
            .await,
        "not_found",
    );
    expect_code(
        bob.client
            .restore_secret("payments/api/production/OLD")
            .await,
        "not_found",
    );
    expect_code(
        bob.client.rollback("payments/api/production/KEY", 1).await,
        "not_found",
    );
    expect_code(
        bob.client
            .environment_values("payments/api/production")
            .await,
        "not_found",
    );

    // The same names in Bob's own vault are his alone.
    ok(bob.client.create_app("payments").await);
    ok(bob.client.create_project("payments/api").await);
    ok(bob
        .client
        .put_secret("payments/api/production/KEY", &value("bob-only"))
        .await);
    assert_eq!(
        ok(alice
            .client
            .reveal("payments/api/production/KEY", None)
            .await)
        .value
        .expose(),
        "alice-only"
    );
    assert_eq!(
        ok(bob.client.reveal("payments/api/production/KEY", None).await)
            .value
            .expose(),
        "bob-only"
    );
    assert_eq!(
        ok(bob.client.versions("payments/api/production/KEY").await).len(),
        1
    );
    assert_ne!(
        alice.signup.user.personal_vault_id,
        bob.signup.user.personal_vault_id
    );
}

/// Masks what differs between any two successful answers: fresh ids and timestamps.
fn mask_fresh_values(body: &str) -> String {
    fn mask(value: &mut Value) {
        match value {
            Value::String(s) => {
                let is_id = s
                    .split_once('_')
                    .is_some_and(|(prefix, rest)| prefix.len() <= 5 && rest.len() == 26);
                let is_time =
                    s.len() >= 20 && s.as_bytes().get(10) == Some(&b'T') && s.ends_with('Z');
                let is_token = (s.starts_with("srl_") || s.starts_with("srs_")) && s.len() > 40;
                if is_id || is_time || is_token {
                    *s = "FRESH".into();
                }
            }
            Value::Array(items) => items.iter_mut().for_each(mask),
            Value::Object(map) => map.values_mut().for_each(mask),
            _ => {}
        }
    }
    match serde_json::from_str::<Value>(body) {
        Ok(mut value) => {
            mask(&mut value);
            value.to_string()
        }
        Err(_) => body.to_owned(),
    }
}

/// The values a probe puts where a route names an object: another vault's real objects,
/// or objects that exist nowhere.
struct Probe {
    app: String,
    project: String,
    env: String,
    name: String,
    session: String,
    invite: String,
    link: String,
    username: String,
    role: String,
    machine: String,
    token: String,
    policy: String,
    /// A machine's public key (base64 part) and its fingerprint.
    machine_key: String,
    machine_fingerprint: String,
    vault: String,
    org_name: String,
    email: String,
    /// An AppRole secret id's id.
    approle: String,
}

impl Probe {
    /// The value for path parameter `param` of `path`. A parameter this table does not
    /// know fails the test, so a new route cannot skip the probe.
    fn param(&self, path: &str, param: &str) -> String {
        match param {
            "app" => self.app.clone(),
            "project" => self.project.clone(),
            "env" => self.env.clone(),
            "name" => self.name.clone(),
            "username" => self.username.clone(),
            "role" => self.role.clone(),
            "machine" => self.machine.clone(),
            "token" => self.token.clone(),
            "policy" => self.policy.clone(),
            "vault" => self.vault.clone(),
            "id" if path.starts_with("/api/v1/auth/sessions/")
                || path.starts_with("/ui/account/sessions/") =>
            {
                self.session.clone()
            }
            "id" if path.starts_with("/api/v1/invites/")
                || path.starts_with("/api/v1/account/invites/")
                || path.starts_with("/ui/invites/")
                || path.starts_with("/ui/invitations/") =>
            {
                self.invite.clone()
            }
            "id" if path.starts_with("/api/v1/links/") || path.starts_with("/ui/links/") => {
                self.link.clone()
            }
            "id" if path.contains("/approle/") => self.approle.clone(),
            other => {
                panic!("{path}: the cross-vault probe does not know parameter {{{other}}}; add it")
            }
        }
    }

    fn url(&self, path: &str) -> String {
        path.split('/')
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(param) => self.param(path, param),
                    None => segment.to_owned(),
                },
            )
            .collect::<Vec<_>>()
            .join("/")
    }

    /// One body for every route: each field that can name an object names the probe's.
    fn body(&self) -> Value {
        json!({
            "name": self.org_name,
            "vault": self.vault,
            "username": self.username,
            "email": self.email,
            // An invite link's token is a bearer secret meant to be shared, so the probe
            // names the link by its id, as another vault's object.
            "link": self.link,
            "vault_role": "collaborator",
            "value": "probe",
            "to": 1,
            "versions": [1],
            "code": "000000",
            "password": "not the password",
            "new_password": "a new password for the probe",
            "secrets": {self.name.clone(): "probe"},
            "spec": {"scope": "everything"},
            "access_role": self.role,
            "public_key": format!("ssh-ed25519 {}", self.machine_key),
            "project": format!("{}/{}", self.app, self.project),
            "path": format!("{}/{}/{}/{}", self.app, self.project, self.env, self.name),
            "secret": format!("{}/{}/{}/{}", self.app, self.project, self.env, self.name),
            "destination": "api.example.com",
            "method": "GET",
            "environments": [self.env],
            "verbs": ["read"],
            "kind": "ci",
            // A range that would shut the prober out, so it is refused whoever asks.
            "cidr": "192.0.2.0/24",
            "machine": self.machine,
            "scopes": [format!("{}/{}", self.app, self.project)],
        })
    }

    /// Replaces the probe's values in an answer, so two answers can be compared.
    fn normalize(&self, text: &str) -> String {
        let mut text = text.to_owned();
        for (value, placeholder) in [
            (&self.role, "ROLE"),
            (&self.machine, "MACHINE"),
            (&self.token, "TOKEN"),
            (&self.policy, "POLICY"),
            (&self.machine_key, "MACHINE_PK"),
            (&self.machine_fingerprint, "FINGERPRINT"),
            (&self.session, "SESSION"),
            (&self.invite, "INVITE"),
            (&self.link, "LINK"),
            (&self.approle, "APPROLE"),
            (&self.vault, "VAULT"),
            (&self.email, "EMAIL"),
            (&self.org_name, "ORG"),
            (&self.app, "APP"),
            (&self.project, "PROJECT"),
            (&self.env, "ENV"),
            (&self.name, "NAME"),
            (&self.username, "USER"),
        ] {
            text = text.replace(value.as_str(), placeholder);
        }
        text
    }
}

async fn every_route_answers_for_another_vaults_objects_exactly_as_for_missing_ones(app: TestApp) {
    // The victim: alice's organization, with something of every kind in it.
    let alice = app.signup("alice").await;
    let (org, _) = app
        .organization(&alice, "acme", &[("bob", "developer")])
        .await;
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    // An environment name no other vault has, so a listing of the prober's own
    // environments cannot be mistaken for the victim's.
    ok(alice.client.create_env("payments/api/blue").await);
    ok(alice
        .client
        .put_secret("payments/api/blue/KEY", &value("v"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/blue/OLD", &value("v"))
        .await);
    ok(alice.client.delete_secret("payments/api/blue/OLD").await);
    ok(alice.client.invite("someone@example.com", None).await);
    let invite = ok(alice.client.pending_invites().await).remove(0).id;
    let link = ok(alice
        .client
        .create_link(&CreateLinkRequest::default())
        .await)
    .link
    .id;
    let session = ok(alice.client.whoami().await).session.id;
    ok(alice
        .client
        .create_access_role("payments-devs", json!({"scope": "everything"}))
        .await);
    let machine_key = strongroom_crypto::machine_key::MachineKey::generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .public();
    ok(alice
        .client
        .register_machine("deployer", &machine_key.to_openssh(""), None)
        .await);
    ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy-token",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await);
    ok(alice
        .client
        .create_policy(&strongroom_proto::CreatePolicyRequest {
            name: "office-hours".into(),
            machine: Some("deployer".into()),
            token: None,
            project: None,
            spec: json!({"max_reads": 5}),
        })
        .await);
    let approle = ok(alice
        .client
        .issue_approle(
            "deployer",
            &strongroom_proto::IssueApproleRequest::default(),
        )
        .await)
    .secret_id_accessor;
    // The missing probe's key is one no vault has registered.
    let fresh_key = strongroom_crypto::machine_key::MachineKey::generate()
        .unwrap_or_else(|e| panic!("{e}"))
        .public();
    let key_base64 = |key: strongroom_crypto::machine_key::MachinePublicKey| {
        key.to_openssh("")
            .split_whitespace()
            .nth(1)
            .unwrap_or_default()
            .to_owned()
    };

    // The prober: owner of an organization of her own, verified and stepped up, so that
    // no role, verification or step-up refusal can mask the answer.
    let mallory = app.verified_user("mallory").await;
    app.organization(&mallory, "evil", &[]).await;
    ok(mallory
        .client
        .step_up(&step_up_request(PASSWORD, None))
        .await);
    // And mallory's machine, attached to a project of her own, probes every route too.
    let mallory_vault = ok(mallory.client.whoami().await).vault.id;
    ok(mallory.client.create_app("tools").await);
    ok(mallory.client.create_project("tools/ci").await);
    let mallory_machine =
        strongroom_crypto::machine_key::MachineKey::generate().unwrap_or_else(|e| panic!("{e}"));
    ok(mallory
        .client
        .register_machine("prober", &mallory_machine.public().to_openssh(""), None)
        .await);
    ok(mallory
        .client
        .attach_machine("prober", "tools/ci", &[], &["reveal".to_owned()])
        .await);

    let victim = Probe {
        app: "payments".into(),
        project: "api".into(),
        env: "blue".into(),
        name: "KEY".into(),
        session,
        invite,
        link,
        username: "bob".into(),
        role: "payments-devs".into(),
        machine: "deployer".into(),
        token: "deploy-token".into(),
        policy: "office-hours".into(),
        machine_key: key_base64(machine_key),
        machine_fingerprint: machine_key.fingerprint(),
        vault: org.id.clone(),
        org_name: "acme".into(),
        email: "bob@example.com".into(),
        approle,
    };
    let missing = Probe {
        app: "absent".into(),
        project: "zilch".into(),
        env: "nowhere".into(),
        name: "NONE".into(),
        session: "sess_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        invite: "inv_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        link: "link_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        username: "nobody".into(),
        role: "no-such-role".into(),
        machine: "no-such-machine".into(),
        token: "no-such-token".into(),
        policy: "no-such-policy".into(),
        machine_key: key_base64(fresh_key),
        machine_fingerprint: fresh_key.fingerprint(),
        vault: "vault_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
        org_name: "unheard-of".into(),
        email: "nobody@example.com".into(),
        approle: "ars_aaaaaaaaaaaaaaaaaaaaaaaaaa".into(),
    };

    // The dashboard first: the API walk ends with routes that change mallory's password.
    probe_dashboard(&app, &mallory_vault, &mallory_machine, &victim, &missing).await;
    let doc = ok(app.client.openapi().await);
    let http = reqwest::Client::new();
    let mut probed = 0;
    // Routes that change the prober's own account (email, password) go last, so they
    // cannot mask the answers of the others (an unverified address, say).
    let mut paths: Vec<(&String, &Value)> =
        doc["paths"].as_object().into_iter().flatten().collect();
    paths.sort_by_key(|(path, _)| path.starts_with("/api/v1/auth/"));
    for (path, item) in paths {
        let path = path.as_str();
        // Sign-up and sign-in act on the global account namespace, not inside a vault.
        if matches!(path, "/api/v1/auth/signup" | "/api/v1/auth/login") {
            continue;
        }
        for method in ["get", "put", "post", "delete", "patch"] {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let has_params = path.contains('{');
            let has_body = operation.get("requestBody").is_some();
            if !has_params && !has_body {
                continue; // nothing in the request can name another vault's object
            }
            for as_machine in [false, true] {
                let mut answers = Vec::new();
                for probe in [&victim, &missing] {
                    let http_method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes())
                        .unwrap_or(reqwest::Method::GET);
                    let url_path = probe.url(path);
                    let body = if has_body {
                        serde_json::to_vec(&probe.body()).unwrap_or_default()
                    } else {
                        Vec::new()
                    };
                    let mut request = http
                        .request(http_method.clone(), format!("{}{url_path}", app.url))
                        .header("content-type", "application/json")
                        .body(body.clone());
                    request = if as_machine {
                        let signed = SignedRequest {
                            method: http_method.as_str().to_owned(),
                            path: url_path.clone(),
                            query: String::new(),
                            vault: mallory_vault.clone(),
                            key: mallory_machine.public().fingerprint(),
                            timestamp: strongroom_store::now_ms() / 1000,
                            nonce: format!("probe{probed:04}{}{}", as_machine, probe.app),
                            digest: body_digest(&body),
                        };
                        request.header("authorization", signed.authorization(&mallory_machine))
                    } else {
                        request.bearer_auth(&mallory.token)
                    };
                    let response = request.send().await.unwrap_or_else(|e| panic!("{e}"));
                    let status = response.status().as_u16();
                    let body = response.text().await.unwrap_or_default();
                    // The probe's own values become placeholders first, so a leaked id of
                    // the victim's cannot hide among the masked fresh ones.
                    answers.push((status, mask_fresh_values(&probe.normalize(&body))));
                }
                let who = if as_machine { "a machine" } else { "a member" };
                assert!(answers[0].0 < 500, "{method} {path} as {who}: {answers:?}");
                assert_eq!(
                    answers[0], answers[1],
                    "{method} {path} as {who}: another vault's object vs a missing one"
                );
            }
            probed += 1;
        }
    }
    assert!(probed >= 30, "only {probed} operations probed");
    // And nothing of alice's changed.
    assert_eq!(
        ok(alice.client.reveal("payments/api/blue/KEY", None).await)
            .value
            .expose(),
        "v"
    );
    assert_eq!(ok(alice.client.members().await).items.len(), 2);
    assert_eq!(ok(alice.client.pending_invites().await).len(), 1);
}

/// The same walk over the dashboard's routes: as the prober's signed-in browser (with
/// its CSRF token, from this site) and as the prober's signed machine, every route that
/// names an object answers for another vault's exactly as for a missing one.
async fn probe_dashboard(
    app: &TestApp,
    mallory_vault: &str,
    mallory_machine: &strongroom_crypto::machine_key::MachineKey,
    victim: &Probe,
    missing: &Probe,
) {
    let mut browser = WebBrowser::signed_in(&app.url, "mallory", PASSWORD).await;
    let csrf = browser.get("/ui/account").await.csrf();
    let http = reqwest::Client::new();
    let mut probed = 0;
    for (method, path, _) in strongroom_server::DASHBOARD_ROUTES {
        let names_a_vault = *path == "/ui/vaults/switch";
        if !path.contains('{') && !names_a_vault {
            continue;
        }
        for as_machine in [false, true] {
            let mut answers = Vec::new();
            for probe in [victim, missing] {
                let url_path = probe.url(path);
                let fields = [
                    ("csrf", csrf.clone()),
                    ("vault", probe.vault.clone()),
                    ("name", "probe".to_owned()),
                    ("value", "probe".to_owned()),
                    ("version", "1".to_owned()),
                    ("code", "000000".to_owned()),
                    // The real password: a step-up must pass so the route itself answers.
                    ("password", PASSWORD.to_owned()),
                ];
                let (status, body) = if as_machine {
                    let body = if *method == "POST" {
                        form_urlencoded::Serializer::new(String::new())
                            .extend_pairs(fields[1..].iter().map(|(k, v)| (*k, v.as_str())))
                            .finish()
                    } else {
                        String::new()
                    };
                    let signed = SignedRequest {
                        method: (*method).to_owned(),
                        path: url_path.clone(),
                        query: String::new(),
                        vault: mallory_vault.to_owned(),
                        key: mallory_machine.public().fingerprint(),
                        timestamp: strongroom_store::now_ms() / 1000,
                        nonce: format!("ui{probed:04}{}", probe.app),
                        digest: body_digest(body.as_bytes()),
                    };
                    let response = http
                        .request(
                            reqwest::Method::from_bytes(method.as_bytes())
                                .unwrap_or(reqwest::Method::GET),
                            format!("{}{url_path}", app.url),
                        )
                        .header("content-type", "application/x-www-form-urlencoded")
                        .header("authorization", signed.authorization(mallory_machine))
                        .body(body)
                        .send()
                        .await
                        .unwrap_or_else(|e| panic!("{e}"));
                    let status = response.status().as_u16();
                    (status, response.text().await.unwrap_or_default())
                } else if *method == "POST" {
                    let fields: Vec<(&str, &str)> =
                        fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                    let page = browser.post(&url_path, &fields).await;
                    (page.status, page.body)
                } else {
                    let page = browser.get(&url_path).await;
                    (page.status, page.body)
                };
                answers.push((status, mask_fresh_values(&probe.normalize(&body))));
            }
            let who = if as_machine {
                "a machine"
            } else {
                "a member's browser"
            };
            assert!(answers[0].0 < 500, "{method} {path} as {who}: {answers:?}");
            assert!(
                !matches!(answers[0].0, 200 | 303) || !as_machine,
                "{method} {path} reached by {who}: {answers:?}"
            );
            assert_eq!(
                answers[0], answers[1],
                "{method} {path} as {who}: another vault's object vs a missing one"
            );
        }
        probed += 1;
    }
    assert!(probed >= 15, "only {probed} dashboard routes probed");
}

crate::on_both_backends!(
    another_users_vault_is_invisible,
    every_route_answers_for_another_vaults_objects_exactly_as_for_missing_ones,
);
