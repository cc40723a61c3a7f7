//! The Vault/OpenBao KV v2 interface under `/v1/`, checked on the wire: the envelope
//! and status codes clients depend on, the path mapping, values as objects,
//! check-and-set, per-version delete/undelete/destroy, settings, namespaces, tokens,
//! and that every call goes through the same decisions and audit log as the native
//! API. (The real clients drive it in `kv_clients.rs`.)

use crate::{expect_code, ok, value};
use serde_json::{Value, json};
use strongroom_client::AuditFilter;
use strongroom_testkit::{TestApp, TestUser, VaultHttp};

const DB: &str = "secret/data/payments/api/production/db";
const DB_META: &str = "secret/metadata/payments/api/production/db";

/// Alice with payments/api, and a Vault-wire client on her session.
async fn alice(app: &TestApp) -> (TestUser, VaultHttp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let kv = VaultHttp::new(&app.url, Some(&alice.token));
    (alice, kv)
}

fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

async fn a_kv_write_of_an_object_reads_back_as_that_object(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    let data = json!({"user": "app", "pass": "p4ss", "port": 5432, "tls": {"mode": "verify"}});
    let written = kv.post(DB, json!({"data": data, "options": {}})).await;
    assert_eq!(written.status, 200, "{:?}", written.body);
    assert_eq!(written.data()["version"], 1);
    let read = kv.get(DB).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.data()["data"], data);
    // The native API holds the object as its JSON text.
    let native = ok(alice
        .client
        .reveal("payments/api/production/db", None)
        .await);
    let stored: Value =
        serde_json::from_str(native.value.expose()).unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(stored, data);
}

async fn a_kv_value_object_is_stored_as_a_plain_value_and_plain_values_read_as_value(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    let path = "secret/data/payments/api/production/STRIPE_KEY";
    assert_eq!(
        kv.post(path, json!({"data": {"value": "sk_live_1"}}))
            .await
            .status,
        200
    );
    let native = ok(alice
        .client
        .reveal("payments/api/production/STRIPE_KEY", None)
        .await);
    assert_eq!(native.value.expose(), "sk_live_1");
    ok(alice
        .client
        .put_secret("payments/api/production/PLAIN", &value("hunter2"))
        .await);
    let read = kv.get("secret/data/payments/api/production/PLAIN").await;
    assert_eq!(read.data()["data"], json!({"value": "hunter2"}));
}

async fn every_answer_carries_the_envelope_and_the_exact_json_content_type(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    let written = kv.post(DB, json!({"data": {"a": "b"}})).await;
    assert_eq!(written.content_type.as_deref(), Some("application/json"));
    assert_eq!(
        keys(&written.body),
        [
            "auth",
            "data",
            "lease_duration",
            "lease_id",
            "renewable",
            "request_id",
            "warnings",
            "wrap_info"
        ]
    );
    assert_eq!(written.body["lease_duration"], 0);
    assert_eq!(written.body["renewable"], false);
    assert_eq!(
        keys(written.data()),
        [
            "created_time",
            "custom_metadata",
            "deletion_time",
            "destroyed",
            "version"
        ]
    );
    let missing = kv.get("secret/data/payments/api/production/NOPE").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body, json!({"errors": []}));
    assert_eq!(missing.content_type.as_deref(), Some("application/json"));
    let deleted = kv.call("DELETE", DB, None).await;
    assert_eq!(deleted.status, 204);
    assert_eq!(deleted.body, Value::Null);
}

async fn listing_shows_folders_down_to_secret_names_and_an_empty_folder_is_a_404(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    ok(alice.client.create_app("billing").await);
    kv.post(DB, json!({"data": {"a": "b"}})).await;
    kv.post(
        "secret/data/payments/api/production/API_KEY",
        json!({"data": {"value": "k"}}),
    )
    .await;
    let root = kv.get("secret/metadata?list=true").await;
    assert_eq!(root.data()["keys"], json!(["billing/", "payments/"]));
    let app_level = kv.call("LIST", "secret/metadata/payments", None).await;
    assert_eq!(app_level.data()["keys"], json!(["api/"]));
    let envs = kv.get("secret/metadata/payments/api/?list=true").await;
    assert_eq!(
        envs.data()["keys"],
        json!(["development/", "production/", "staging/"])
    );
    let names = kv
        .call("LIST", "secret/metadata/payments/api/production/", None)
        .await;
    assert_eq!(names.data()["keys"], json!(["API_KEY", "db"]));
    for empty in [
        "secret/metadata/billing/",
        "secret/metadata/payments/api/staging",
        "secret/metadata/nothing-here",
    ] {
        let reply = kv.call("LIST", empty, None).await;
        assert_eq!(reply.status, 404, "{empty}");
        assert_eq!(reply.body, json!({"errors": []}), "{empty}");
    }
    assert_eq!(
        kv.get("secret/metadata/payments?list=maybe").await.status,
        400
    );
}

async fn a_key_of_the_wrong_depth_is_refused_with_a_clear_400(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    for path in [
        "secret/data/payments/api/db",
        "secret/data/payments/api/production/db/extra",
    ] {
        let reply = kv.post(path, json!({"data": {"a": "b"}})).await;
        assert_eq!(reply.status, 400, "{path}");
        assert!(
            reply.errors()[0].contains("APP/PROJECT/ENV/NAME"),
            "{:?}",
            reply.errors()
        );
    }
    let nowhere = kv
        .post(
            "secret/data/billing/api/production/KEY",
            json!({"data": {"a": "b"}}),
        )
        .await;
    assert_eq!(nowhere.status, 400);
    assert!(
        nowhere.errors()[0].contains("strongroom apps create billing"),
        "{:?}",
        nowhere.errors()
    );
    let no_data = kv.post(DB, json!({"options": {}})).await;
    assert_eq!(no_data.errors(), ["no data provided"]);
    let bad_json = kv
        .call_with("POST", DB, Some(json!("x")), Some("application/json"))
        .await;
    assert_eq!(bad_json.status, 400);
}

async fn check_and_set_lands_only_on_the_latest_version(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    let create = |cas: Value| json!({"data": {"v": "1"}, "options": {"cas": cas}});
    assert_eq!(kv.post(DB, create(json!(0))).await.status, 200);
    let again = kv.post(DB, create(json!(0))).await;
    assert_eq!(again.status, 400);
    assert!(again.errors()[0].starts_with("check-and-set parameter did not match"));
    assert_eq!(kv.post(DB, create(json!("1"))).await.data()["version"], 2);
    let stale = kv.post(DB, create(json!(1))).await;
    assert_eq!(stale.status, 400);
    assert_eq!(kv.get(DB).await.data()["metadata"]["version"], 2);
    let garbled = kv.post(DB, create(json!("x"))).await;
    assert_eq!(garbled.errors(), ["error parsing check-and-set parameter"]);
}

async fn a_secret_that_requires_check_and_set_refuses_writes_without_it(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    let set = kv.post(DB_META, json!({"cas_required": true})).await;
    assert_eq!(set.status, 204, "{:?}", set.body);
    let without = kv.post(DB, json!({"data": {"a": "b"}})).await;
    assert_eq!(without.status, 400);
    assert!(without.errors()[0].starts_with("check-and-set parameter required"));
    // The native API holds the same rule.
    expect_code(
        alice
            .client
            .put_secret("payments/api/production/db", &value("x"))
            .await,
        "check_and_set_required",
    );
    let with = kv
        .post(DB, json!({"data": {"a": "b"}, "options": {"cas": 0}}))
        .await;
    assert_eq!(with.status, 200);
    let mut native = value("y");
    native.expected_version = Some(1);
    ok(alice
        .client
        .put_secret("payments/api/production/db", &native)
        .await);
    native.expected_version = Some(1);
    expect_code(
        alice
            .client
            .put_secret("payments/api/production/db", &native)
            .await,
        "version_conflict",
    );
}

async fn a_deleted_version_reads_as_a_404_with_its_metadata_until_undeleted(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"v": "1"}})).await;
    kv.post(DB, json!({"data": {"v": "2"}})).await;
    assert_eq!(kv.call("DELETE", DB, None).await.status, 204);
    let read = kv.get(DB).await;
    assert_eq!(read.status, 404);
    assert_eq!(read.data()["data"], Value::Null);
    assert_eq!(read.data()["metadata"]["version"], 2);
    assert_ne!(read.data()["metadata"]["deletion_time"], "");
    // Older versions stay readable; the native API refuses the deleted one by name.
    assert_eq!(
        kv.get(&format!("{DB}?version=1")).await.data()["data"],
        json!({"v": "1"})
    );
    expect_code(
        alice
            .client
            .reveal("payments/api/production/db", None)
            .await,
        "version_deleted",
    );
    let history = ok(alice.client.versions("payments/api/production/db").await);
    assert!(history[0].deleted_at.is_some() && history[1].deleted_at.is_none());
    let undelete = kv
        .post(
            "secret/undelete/payments/api/production/db",
            json!({"versions": ["2"]}),
        )
        .await;
    assert_eq!(undelete.status, 204);
    assert_eq!(kv.get(DB).await.data()["data"], json!({"v": "2"}));
}

async fn a_destroyed_version_loses_its_value_for_good(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"marker": "destroy-me-7f3a"}}))
        .await;
    kv.post(DB, json!({"data": {"v": "2"}})).await;
    let destroyed = kv
        .call(
            "PUT",
            "secret/destroy/payments/api/production/db",
            Some(json!({"versions": [1]})),
        )
        .await;
    assert_eq!(destroyed.status, 204);
    let read = kv.get(&format!("{DB}?version=1")).await;
    assert_eq!(read.status, 404);
    assert_eq!(read.data()["metadata"]["destroyed"], true);
    kv.post(
        "secret/undelete/payments/api/production/db",
        json!({"versions": [1]}),
    )
    .await;
    assert_eq!(kv.get(&format!("{DB}?version=1")).await.status, 404);
    expect_code(
        alice
            .client
            .reveal("payments/api/production/db", Some(1))
            .await,
        "version_destroyed",
    );
    let meta = kv.get(DB_META).await;
    assert_eq!(meta.data()["versions"]["1"]["destroyed"], true);
    assert_eq!(meta.data()["versions"]["2"]["destroyed"], false);
    // The ciphertext is gone, not only hidden.
    let sizes = app
        .query_column(
            "SELECT CAST(LENGTH(ciphertext) AS TEXT) FROM secret_versions ORDER BY version",
        )
        .await;
    assert_eq!(sizes[0], "0");
    assert_ne!(sizes[1], "0");
}

async fn per_version_changes_work_through_the_native_api_and_history(app: TestApp) {
    let (alice, _kv) = alice(&app).await;
    let path = "payments/api/production/db";
    for v in ["1", "2", "3"] {
        ok(alice.client.put_secret(path, &value(v)).await);
    }
    let changed = ok(alice
        .client
        .change_versions(path, "delete", &[1, 2, 9])
        .await);
    assert_eq!(changed.changed, vec![1, 2]);
    let again = ok(alice.client.change_versions(path, "delete", &[1]).await);
    assert!(again.changed.is_empty());
    ok(alice.client.change_versions(path, "undelete", &[2]).await);
    ok(alice.client.change_versions(path, "destroy", &[3]).await);
    let history = ok(alice.client.versions(path).await);
    let states: Vec<(i64, bool, bool)> = history
        .iter()
        .map(|v| (v.version, v.deleted_at.is_some(), v.destroyed_at.is_some()))
        .collect();
    assert_eq!(
        states,
        [(3, false, true), (2, false, false), (1, true, false)]
    );
    assert_eq!(
        ok(alice.client.reveal(path, Some(2)).await).value.expose(),
        "2"
    );
}

async fn settings_round_trip_and_may_precede_the_first_version(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    let eso = "secret/metadata/payments/api/production/PUSHED";
    let set = kv
        .post(
            eso,
            json!({"custom_metadata": {"managed-by": "external-secrets"}, "max_versions": 3,
                   "delete_version_after": "3h25m19s"}),
        )
        .await;
    assert_eq!(set.status, 204, "{:?}", set.body);
    let meta = kv.get(eso).await;
    assert_eq!(meta.status, 200);
    assert_eq!(meta.data()["current_version"], 0);
    assert_eq!(meta.data()["max_versions"], 3);
    assert_eq!(meta.data()["delete_version_after"], "3h25m19s");
    assert_eq!(
        meta.data()["custom_metadata"],
        json!({"managed-by": "external-secrets"})
    );
    assert_eq!(
        keys(meta.data()),
        [
            "cas_required",
            "created_time",
            "current_version",
            "custom_metadata",
            "delete_version_after",
            "max_versions",
            "oldest_version",
            "updated_time",
            "versions"
        ]
    );
    // Listed, but with no value to read.
    let names = kv
        .call("LIST", "secret/metadata/payments/api/production", None)
        .await;
    assert_eq!(names.data()["keys"], json!(["PUSHED"]));
    assert_eq!(
        kv.get("secret/data/payments/api/production/PUSHED")
            .await
            .body,
        json!({"errors": []})
    );
    let bad = kv
        .post(eso, json!({"custom_metadata": {"k": "v".repeat(600)}}))
        .await;
    assert_eq!(bad.status, 400);
    assert!(bad.errors()[0].starts_with("custom_metadata validation failed"));
}

async fn max_versions_keeps_only_the_newest_versions(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    kv.post(DB_META, json!({"max_versions": 2})).await;
    for v in 1..=4 {
        kv.post(DB, json!({"data": {"v": v}})).await;
    }
    let meta = kv.get(DB_META).await;
    assert_eq!(keys(&meta.data()["versions"]), ["3", "4"]);
    assert_eq!(meta.data()["oldest_version"], 3);
    assert_eq!(meta.data()["current_version"], 4);
    assert_eq!(kv.get(&format!("{DB}?version=1")).await.status, 404);
}

async fn delete_version_after_schedules_each_new_versions_deletion(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    kv.post(DB_META, json!({"delete_version_after": "1s"}))
        .await;
    let written = kv.post(DB, json!({"data": {"v": "1"}})).await;
    assert_ne!(written.data()["deletion_time"], "");
    assert_eq!(kv.get(DB).await.status, 200, "not yet deleted");
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    let later = kv.get(DB).await;
    assert_eq!(later.status, 404);
    assert_eq!(later.data()["metadata"]["version"], 1);
}

async fn deleting_metadata_purges_every_version_and_the_settings(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB_META, json!({"max_versions": 4})).await;
    kv.post(DB, json!({"data": {"marker": "purge-me-41c2"}}))
        .await;
    assert_eq!(kv.call("DELETE", DB_META, None).await.status, 204);
    assert_eq!(kv.get(DB_META).await.status, 404);
    assert_eq!(kv.get(DB).await.status, 404);
    expect_code(
        alice.client.secret("payments/api/production/db").await,
        "not_found",
    );
    assert!(ok(alice.client.trash().await).is_empty());
    // Deleting what is not there is not an error, as in Vault.
    assert_eq!(kv.call("DELETE", DB_META, None).await.status, 204);
    let audit = app.audit_trail(&alice.signup.session.vault_id).await;
    assert!(audit.iter().any(|(who, action, target)| who == "alice"
        && action == "secret.purge"
        && target == "payments/api/production/db"));
}

async fn patch_merges_into_the_latest_version_and_needs_the_merge_patch_type(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"user": "u", "pass": "p", "gone": "x"}}))
        .await;
    let plain = kv
        .call("PATCH", DB, Some(json!({"data": {"pass": "q"}})))
        .await;
    assert_eq!(plain.status, 415);
    let patched = kv
        .call_with(
            "PATCH",
            DB,
            Some(json!({"data": {"pass": "q", "gone": null}})),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(patched.status, 200, "{:?}", patched.body);
    assert_eq!(patched.data()["version"], 2);
    assert_eq!(
        kv.get(DB).await.data()["data"],
        json!({"user": "u", "pass": "q"})
    );
    let missing = kv
        .call_with(
            "PATCH",
            "secret/data/payments/api/production/NONE",
            Some(json!({"data": {"a": "b"}})),
            Some("application/merge-patch+json"),
        )
        .await;
    assert_eq!(missing.status, 404);
}

async fn a_ci_token_reads_values_but_cannot_write(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"pass": "p"}})).await;
    let token = ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await);
    let ci = VaultHttp::new(&app.url, Some(token.secret.expose()));
    let read = ci.get(DB).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.data()["data"], json!({"pass": "p"}));
    let write = ci.post(DB, json!({"data": {"pass": "mine"}})).await;
    assert_eq!(write.status, 403);
    assert_eq!(write.body, json!({"errors": ["permission denied"]}));
    // Bearer works as well as X-Vault-Token.
    let bearer = reqwest::Client::new()
        .get(format!("{}/v1/{DB}", app.url))
        .bearer_auth(token.secret.expose())
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e:?}"));
    assert_eq!(bearer.status(), 200);
    // The read is in the log as the token's reveal.
    let entries = ok(alice
        .client
        .audit_page(
            &AuditFilter {
                action: Some("secret.reveal".into()),
                actor: Some("deploy".into()),
                ..AuditFilter::default()
            },
            100,
            None,
        )
        .await);
    assert_eq!(entries.items.len(), 2);
    assert!(
        entries
            .items
            .iter()
            .all(|e| e.target == "payments/api/production/db")
    );
}

async fn an_agent_token_never_receives_a_value(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"pass": "p"}})).await;
    let token = ok(alice
        .client
        .create_token(&crate::token_request(
            "helper",
            "agent",
            &["payments/api"],
            &["use"],
        ))
        .await);
    let agent = VaultHttp::new(&app.url, Some(token.secret.expose()));
    let read = agent.get(DB).await;
    assert_eq!(read.status, 403);
    assert_eq!(read.body, json!({"errors": ["permission denied"]}));
    assert!(!read.body.to_string().contains("\"p\""));
}

async fn a_missing_or_unknown_token_gets_403_permission_denied(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"pass": "p"}})).await;
    for token in [
        None,
        Some("srs_not-a-session"),
        Some("sr_not-a-token"),
        Some(""),
    ] {
        let reply = VaultHttp::new(&app.url, token).get(DB).await;
        assert_eq!(reply.status, 403, "{token:?}");
        assert_eq!(reply.body, json!({"errors": ["permission denied"]}));
    }
}

async fn a_namespace_names_the_tokens_own_vault_by_id_or_organization_name(app: TestApp) {
    let alice = app.signup("alice").await;
    let (org, _) = app.organization(&alice, "acme", &[]).await;
    ok(alice.client.switch_vault("acme").await);
    ok(alice.client.create_app("payments").await);
    ok(alice.client.create_project("payments/api").await);
    let kv = VaultHttp::new(&app.url, Some(&alice.token));
    kv.post(DB, json!({"data": {"in": "acme"}})).await;
    for ns in ["acme", "acme/", "/acme", &org.id] {
        let reply = kv.in_namespace(ns).get(DB).await;
        assert_eq!(reply.data()["data"], json!({"in": "acme"}), "{ns}");
    }
    // The path form, and an empty header (which is the root).
    assert_eq!(kv.get(&format!("acme/{DB}")).await.status, 200);
    let preflight = kv
        .get("sys/internal/ui/mounts/acme/secret/payments/api")
        .await;
    assert_eq!(preflight.data()["path"], "acme/secret/");
    let header_form = kv
        .in_namespace("acme")
        .get("sys/internal/ui/mounts/secret/payments")
        .await;
    assert_eq!(header_form.data()["path"], "secret/");
    assert_eq!(kv.in_namespace("").get(DB).await.status, 200);
}

async fn another_vaults_namespace_is_refused_exactly_like_a_path_without_access(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"pass": "p"}})).await;
    let mallory = app.user_with_project("mallory", "payments/api").await;
    let token = ok(mallory
        .client
        .create_token(&crate::token_request(
            "probe",
            "ci",
            &["payments/api/staging"],
            &["reveal"],
        ))
        .await);
    let probe = VaultHttp::new(&app.url, Some(token.secret.expose()));
    let no_access = probe.get(DB).await;
    let cross_vault = probe
        .in_namespace(&alice.signup.session.vault_id)
        .get(DB)
        .await;
    let unknown_vault = probe.in_namespace("vlt_doesnotexist").get(DB).await;
    assert_eq!(no_access.status, 403);
    for reply in [&cross_vault, &unknown_vault] {
        assert_eq!(reply.status, no_access.status);
        assert_eq!(reply.body, no_access.body);
    }
    let session = VaultHttp::new(&app.url, Some(&mallory.token));
    let by_name = session.in_namespace("alice").get(DB).await;
    assert_eq!(by_name.body, json!({"errors": ["permission denied"]}));
}

async fn the_preflight_reports_kv_version_2_for_secret_and_403_elsewhere(app: TestApp) {
    let (_alice, kv) = alice(&app).await;
    for asked in ["secret", "secret/payments/api/production/db"] {
        let reply = kv.get(&format!("sys/internal/ui/mounts/{asked}")).await;
        assert_eq!(reply.status, 200);
        assert_eq!(reply.data()["path"], "secret/");
        assert_eq!(reply.data()["type"], "kv");
        assert_eq!(reply.data()["options"]["version"], "2");
    }
    let in_path = kv.get("sys/internal/ui/mounts/acme/secret").await;
    assert_eq!(in_path.status, 403, "alice's vault is not named acme");
    let other = kv.get("sys/internal/ui/mounts/kv/app").await;
    assert_eq!(other.status, 403);
    assert!(other.errors()[0].starts_with("preflight capability check returned 403"));
    let anonymous = VaultHttp::new(&app.url, None)
        .get("sys/internal/ui/mounts/secret")
        .await;
    assert_eq!(anonymous.status, 403);
}

async fn health_seal_status_and_leader_answer_without_a_token(app: TestApp) {
    let anyone = VaultHttp::new(&app.url, None);
    let health = anyone.get("sys/health").await;
    assert_eq!(health.status, 200);
    assert_eq!(health.body["initialized"], true);
    assert_eq!(health.body["sealed"], false);
    assert_eq!(health.body["performance_standby"], false);
    assert_eq!(anyone.get("sys/health?activecode=299").await.status, 299);
    let seal = anyone.get("sys/seal-status").await;
    assert_eq!(seal.body["sealed"], false);
    assert_eq!(seal.body["type"], "shamir");
    assert_eq!(anyone.get("sys/leader").await.body["ha_enabled"], false);
    assert_eq!(anyone.get("sys/init").await.body["initialized"], true);
}

async fn a_token_looks_itself_up_renews_and_revokes_itself(app: TestApp) {
    let (alice, _kv) = alice(&app).await;
    let token = ok(alice
        .client
        .create_token(&crate::token_request(
            "deploy",
            "ci",
            &["payments/api"],
            &["reveal"],
        ))
        .await);
    let ci = VaultHttp::new(&app.url, Some(token.secret.expose()));
    let lookup = ci.get("auth/token/lookup-self").await;
    assert_eq!(lookup.status, 200);
    assert_eq!(lookup.data()["type"], "service");
    assert_eq!(lookup.data()["ttl"], 0);
    assert_eq!(lookup.data()["expire_time"], Value::Null);
    assert_eq!(lookup.data()["display_name"], "token-deploy");
    for field in [
        "accessor",
        "creation_time",
        "creation_ttl",
        "entity_id",
        "explicit_max_ttl",
        "id",
        "num_uses",
        "orphan",
        "path",
        "policies",
    ] {
        assert!(!lookup.data()[field].is_null(), "{field}");
    }
    let renew = ci
        .call(
            "PUT",
            "auth/token/renew-self",
            Some(json!({"increment": 3600})),
        )
        .await;
    assert_eq!(renew.status, 200);
    assert_eq!(renew.body["auth"]["renewable"], false);
    assert_eq!(
        ci.call("PUT", "auth/token/revoke-self", None).await.status,
        204
    );
    assert_eq!(ci.get("auth/token/lookup-self").await.status, 403);
    let session = VaultHttp::new(&app.url, Some(&alice.token));
    assert_eq!(
        session.get("auth/token/lookup-self").await.data()["display_name"],
        "member-alice"
    );
}

async fn kv_changes_are_audited_as_the_native_actions(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"v": "1"}})).await;
    kv.post(DB, json!({"data": {"v": "2"}})).await;
    kv.post(
        "secret/delete/payments/api/production/db",
        json!({"versions": [1]}),
    )
    .await;
    kv.post(
        "secret/destroy/payments/api/production/db",
        json!({"versions": [1]}),
    )
    .await;
    kv.post(DB_META, json!({"max_versions": 5})).await;
    // Reads, LIST included, are info entries, so they stay out of this trail.
    kv.call("LIST", "secret/metadata/payments/api/production", None)
        .await;
    kv.get(DB_META).await;
    let trail: Vec<(String, String)> = app
        .audit_trail(&alice.signup.session.vault_id)
        .await
        .into_iter()
        .filter(|(_, action, _)| action.starts_with("secret."))
        .map(|(_, action, target)| (action, target))
        .collect();
    let db = "payments/api/production/db";
    assert_eq!(
        trail,
        [
            ("secret.write".to_owned(), db.to_owned()),
            ("secret.write".to_owned(), db.to_owned()),
            (
                "secret.delete_version".to_owned(),
                format!("{db} (version 1)")
            ),
            (
                "secret.destroy_version".to_owned(),
                format!("{db} (version 1)")
            ),
            ("secret.settings".to_owned(), db.to_owned()),
        ]
    );
}

/// Alice's machine `deployer` with an AppRole secret id: (role id, secret id, its id).
async fn approle_machine(alice: &TestUser) -> (String, String, String) {
    let issued = crate::machine_with_approle(alice, "payments/api").await;
    (
        issued.role_id,
        issued.secret_id.expose().to_owned(),
        issued.secret_id_accessor,
    )
}

async fn login(app: &TestApp, role_id: &str, secret_id: &str) -> strongroom_testkit::VaultReply {
    VaultHttp::new(&app.url, None)
        .post(
            "auth/approle/login",
            json!({"role_id": role_id, "secret_id": secret_id}),
        )
        .await
}

async fn an_approle_login_acts_as_the_machine_with_its_access_and_identity(app: TestApp) {
    let (alice, kv) = alice(&app).await;
    kv.post(DB, json!({"data": {"pass": "p"}})).await;
    let (role_id, secret_id, _) = approle_machine(&alice).await;
    let reply = login(&app, &role_id, &secret_id).await;
    assert_eq!(reply.status, 200, "{:?}", reply.body);
    let auth = &reply.body["auth"];
    for field in [
        "client_token",
        "accessor",
        "token_policies",
        "entity_id",
        "token_type",
        "orphan",
    ] {
        assert!(!auth[field].is_null(), "{field}");
    }
    assert_eq!(auth["metadata"]["role_name"], "deployer");
    assert_eq!(auth["lease_duration"], 3600);
    let token = auth["client_token"].as_str().unwrap_or_default().to_owned();
    assert!(token.starts_with("srm_"));
    let machine = VaultHttp::new(&app.url, Some(&token));
    assert_eq!(machine.get(DB).await.data()["data"], json!({"pass": "p"}));
    // Only what the machine's attachment opens, and never a write.
    assert_eq!(
        machine
            .post(DB, json!({"data": {"pass": "x"}}))
            .await
            .status,
        403
    );
    let lookup = machine.get("auth/token/lookup-self").await;
    assert_eq!(lookup.data()["display_name"], "approle-deployer");
    assert!(lookup.data()["ttl"].as_i64().unwrap_or(0) > 3500);
    assert!(lookup.data()["expire_time"].is_string());
    // The native API takes the token too, as the machine.
    let whoami = reqwest::Client::new()
        .get(format!("{}/api/v1/machine", app.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(whoami.status(), 200);
    // The log names the machine, for the login and the read.
    let entries = ok(alice
        .client
        .audit_page(
            &AuditFilter {
                actor: Some("deployer".into()),
                ..AuditFilter::default()
            },
            100,
            None,
        )
        .await);
    let actions: Vec<&str> = entries.items.iter().map(|e| e.action.as_str()).collect();
    assert!(actions.contains(&"machine.approle_login"), "{actions:?}");
    assert!(actions.contains(&"secret.reveal"), "{actions:?}");
    assert!(entries.items.iter().all(|e| e.actor_kind == "machine"));
}

async fn a_wrong_revoked_or_disabled_approle_cannot_log_in(app: TestApp) {
    let (alice, _kv) = alice(&app).await;
    let (role_id, secret_id, accessor) = approle_machine(&alice).await;
    let refused = json!({"errors": ["invalid role or secret ID"]});
    for (role, secret) in [
        (role_id.as_str(), "srr_wrong"),
        ("role_wrong", secret_id.as_str()),
        ("", secret_id.as_str()),
    ] {
        let reply = login(&app, role, secret).await;
        assert_eq!(reply.status, 400);
        if !role.is_empty() {
            assert_eq!(reply.body, refused);
        }
    }
    let token = login(&app, &role_id, &secret_id).await.body["auth"]["client_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let machine = VaultHttp::new(&app.url, Some(&token));
    assert_eq!(machine.get("auth/token/lookup-self").await.status, 200);
    ok(alice.client.set_machine_enabled("deployer", false).await);
    assert_eq!(login(&app, &role_id, &secret_id).await.body, refused);
    assert_eq!(machine.get("auth/token/lookup-self").await.status, 403);
    ok(alice.client.set_machine_enabled("deployer", true).await);
    assert_eq!(machine.get("auth/token/lookup-self").await.status, 200);
    // Revoking the secret id ends it and the logins it made.
    ok(alice.client.revoke_approle("deployer", &accessor).await);
    assert_eq!(login(&app, &role_id, &secret_id).await.body, refused);
    assert_eq!(machine.get("auth/token/lookup-self").await.status, 403);
    let listed = ok(alice.client.approle("deployer").await);
    assert_eq!(listed.role_id.as_deref(), Some(role_id.as_str()));
    assert!(listed.secret_ids[0].revoked_at.is_some());
    // Logins with a real but unusable secret id are in the machine's vault's log.
    let refused_logins = ok(alice
        .client
        .audit_page(
            &AuditFilter {
                action: Some("machine.approle_login".into()),
                outcome: Some("denied".into()),
                ..AuditFilter::default()
            },
            100,
            None,
        )
        .await);
    let details: Vec<&str> = refused_logins
        .items
        .iter()
        .map(|e| e.detail.as_str())
        .collect();
    assert!(
        details.contains(&"the secret id was revoked"),
        "{details:?}"
    );
    assert!(details.contains(&"the machine is disabled"), "{details:?}");
    assert!(
        details.contains(&"a known secret id with the wrong role id"),
        "{details:?}"
    );
}

async fn an_approle_login_token_revokes_itself_and_a_namespace_must_match(app: TestApp) {
    let (alice, _kv) = alice(&app).await;
    let (role_id, secret_id, _) = approle_machine(&alice).await;
    let elsewhere = VaultHttp::new(&app.url, None)
        .in_namespace("vault_aaaaaaaaaaaaaaaaaaaaaaaaaa")
        .post(
            "auth/approle/login",
            json!({"role_id": role_id, "secret_id": secret_id}),
        )
        .await;
    assert_eq!(elsewhere.status, 400);
    let own = VaultHttp::new(&app.url, None)
        .in_namespace(&alice.signup.session.vault_id)
        .post(
            "auth/approle/login",
            json!({"role_id": role_id, "secret_id": secret_id}),
        )
        .await;
    let token = own.body["auth"]["client_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let machine = VaultHttp::new(&app.url, Some(&token));
    assert_eq!(
        machine
            .call("PUT", "auth/token/revoke-self", None)
            .await
            .status,
        204
    );
    assert_eq!(machine.get("auth/token/lookup-self").await.status, 403);
    // Only hashes are stored.
    assert!(!app.database_contains(&secret_id).await);
    assert!(!app.database_contains(&token).await);
}

crate::on_both_backends!(
    a_kv_write_of_an_object_reads_back_as_that_object,
    a_kv_value_object_is_stored_as_a_plain_value_and_plain_values_read_as_value,
    every_answer_carries_the_envelope_and_the_exact_json_content_type,
    listing_shows_folders_down_to_secret_names_and_an_empty_folder_is_a_404,
    a_key_of_the_wrong_depth_is_refused_with_a_clear_400,
    check_and_set_lands_only_on_the_latest_version,
    a_secret_that_requires_check_and_set_refuses_writes_without_it,
    a_deleted_version_reads_as_a_404_with_its_metadata_until_undeleted,
    a_destroyed_version_loses_its_value_for_good,
    per_version_changes_work_through_the_native_api_and_history,
    settings_round_trip_and_may_precede_the_first_version,
    max_versions_keeps_only_the_newest_versions,
    delete_version_after_schedules_each_new_versions_deletion,
    deleting_metadata_purges_every_version_and_the_settings,
    patch_merges_into_the_latest_version_and_needs_the_merge_patch_type,
    a_ci_token_reads_values_but_cannot_write,
    an_agent_token_never_receives_a_value,
    a_missing_or_unknown_token_gets_403_permission_denied,
    a_namespace_names_the_tokens_own_vault_by_id_or_organization_name,
    another_vaults_namespace_is_refused_exactly_like_a_path_without_access,
    the_preflight_reports_kv_version_2_for_secret_and_403_elsewhere,
    health_seal_status_and_leader_answer_without_a_token,
    a_token_looks_itself_up_renews_and_revokes_itself,
    kv_changes_are_audited_as_the_native_actions,
    an_approle_login_acts_as_the_machine_with_its_access_and_identity,
    a_wrong_revoked_or_disabled_approle_cannot_log_in,
    an_approle_login_token_revokes_itself_and_a_namespace_must_match,
);
