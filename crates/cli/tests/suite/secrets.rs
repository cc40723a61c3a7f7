//! Applications, projects, environments and secrets: versions, rollback, trash, names,
//! pagination and import.

use crate::{expect_code, ok, value};
use std::collections::BTreeMap;
use strongroom_proto::Sensitive;
use strongroom_testkit::TestApp;

const KEY: &str = "payments/api/production/STRIPE_KEY";

async fn a_new_project_has_development_staging_and_production(app: TestApp) {
    let alice = app.signup("alice").await;
    ok(alice.client.create_app("payments").await);
    let created = ok(alice.client.create_project("payments/api").await);
    let names: Vec<&str> = created
        .environments
        .iter()
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(names, ["development", "staging", "production"]);
    let listed: Vec<String> = ok(alice.client.envs("payments/api").await)
        .into_iter()
        .map(|e| e.path)
        .collect();
    assert_eq!(
        listed,
        [
            "payments/api/development",
            "payments/api/production",
            "payments/api/staging"
        ]
    );
    assert_eq!(ok(alice.client.projects("payments").await).len(), 1);
}

async fn environments_can_be_added_once(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice.client.create_env("payments/api/qa").await);
    expect_code(
        alice.client.create_env("payments/api/qa").await,
        "already_exists",
    );
    expect_code(alice.client.create_app("payments").await, "already_exists");
    expect_code(
        alice.client.create_project("payments/api").await,
        "already_exists",
    );
    expect_code(
        alice.client.create_env("payments/nope/qa").await,
        "not_found",
    );
    expect_code(alice.client.create_project("nope/api").await, "not_found");
}

async fn every_write_makes_a_new_version_and_any_version_can_be_read(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let first = ok(alice.client.put_secret(KEY, &value("sk_1")).await);
    assert_eq!((first.version, first.created), (1, true));
    let second = ok(alice.client.put_secret(KEY, &value("sk_2")).await);
    assert_eq!((second.version, second.created), (2, false));
    assert_eq!(
        ok(alice.client.reveal(KEY, None).await).value.expose(),
        "sk_2"
    );
    assert_eq!(
        ok(alice.client.reveal(KEY, Some(1)).await).value.expose(),
        "sk_1"
    );
    let missing = expect_code(alice.client.reveal(KEY, Some(3)).await, "not_found");
    assert!(missing.to_string().contains("latest is 2"), "{missing}");
    expect_code(alice.client.reveal(KEY, Some(0)).await, "invalid_value");
    expect_code(alice.client.reveal(KEY, Some(-5)).await, "invalid_value");
    let versions: Vec<i64> = ok(alice.client.versions(KEY).await)
        .iter()
        .map(|v| v.version)
        .collect();
    assert_eq!(versions, [2, 1]);
}

async fn metadata_is_kept_until_changed(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let mut first = value("sk_1");
    first.secret_type = Some("api_key".into());
    first.note = Some("rotated monthly\nby finance".into());
    first.tags = Some(vec!["team:payments".into(), "pci".into()]);
    ok(alice.client.put_secret(KEY, &first).await);
    ok(alice.client.put_secret(KEY, &value("sk_2")).await);
    let meta = ok(alice.client.secret(KEY).await);
    assert_eq!(meta.secret_type, "api_key");
    assert_eq!(meta.note, "rotated monthly\nby finance");
    assert_eq!(meta.tags, ["pci", "team:payments"]);
    assert_eq!(meta.version, 2);
    let mut bad = value("x");
    bad.secret_type = Some("nuclear_codes".into());
    expect_code(alice.client.put_secret(KEY, &bad).await, "invalid_value");
    let mut bad_note = value("x");
    bad_note.note = Some("bell\u{7}".into());
    expect_code(
        alice.client.put_secret(KEY, &bad_note).await,
        "invalid_value",
    );
    expect_code(
        alice
            .client
            .put_secret(KEY, &value(&"v".repeat(64 * 1024 + 1)))
            .await,
        "invalid_value",
    );
    assert_eq!(
        ok(alice.client.secret(KEY).await).version,
        2,
        "refused writes wrote nothing"
    );
}

async fn rollback_makes_a_new_version_equal_to_an_old_one(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let mut first = value("original");
    first.note = Some("v1 note".into());
    ok(alice.client.put_secret(KEY, &first).await);
    let mut second = value("mistake");
    second.note = Some("v2 note".into());
    ok(alice.client.put_secret(KEY, &second).await);
    let rolled = ok(alice.client.rollback(KEY, 1).await);
    assert_eq!(rolled.version, 3);
    let now = ok(alice.client.reveal(KEY, None).await);
    assert_eq!((now.version, now.value.expose()), (3, "original"));
    assert_eq!(ok(alice.client.secret(KEY).await).note, "v1 note");
    let history = ok(alice.client.versions(KEY).await);
    assert_eq!(history[0].rolled_back_from, Some(1));
    assert_eq!(history[0].created_by.as_deref(), Some("alice"));
    expect_code(alice.client.rollback(KEY, 9).await, "not_found");
}

async fn delete_moves_to_the_trash_and_restore_brings_it_back(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice.client.put_secret(KEY, &value("sk_1")).await);
    ok(alice.client.delete_secret(KEY).await);
    expect_code(alice.client.reveal(KEY, None).await, "not_found");
    expect_code(alice.client.secret(KEY).await, "not_found");
    assert!(ok(alice.client.secrets("payments/api/production").await).is_empty());
    let trash = ok(alice.client.trash().await);
    assert_eq!(trash.len(), 1);
    assert_eq!(trash[0].path, KEY);
    assert_eq!(trash[0].deleted_by.as_deref(), Some("alice"));
    expect_code(
        alice.client.put_secret(KEY, &value("sk_2")).await,
        "secret_in_trash",
    );
    expect_code(alice.client.delete_secret(KEY).await, "not_found");
    ok(alice.client.restore_secret(KEY).await);
    assert_eq!(
        ok(alice.client.reveal(KEY, None).await).value.expose(),
        "sk_1"
    );
    assert!(ok(alice.client.trash().await).is_empty());
    expect_code(alice.client.restore_secret(KEY).await, "not_found");
}

async fn purge_destroys_a_trashed_secret_for_good(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice.client.put_secret(KEY, &value("sk_1")).await);
    ok(alice.client.put_secret(KEY, &value("sk_2")).await);
    expect_code(alice.client.purge_secret(KEY).await, "conflict");
    ok(alice.client.delete_secret(KEY).await);
    ok(alice.client.purge_secret(KEY).await);
    assert!(ok(alice.client.trash().await).is_empty());
    expect_code(alice.client.restore_secret(KEY).await, "not_found");
    let again = ok(alice.client.put_secret(KEY, &value("fresh")).await);
    assert_eq!((again.version, again.created), (1, true));
    assert_eq!(ok(alice.client.versions(KEY).await).len(), 1);
}

async fn names_with_path_tricks_are_refused_with_invalid_name(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    for bad in [
        "..",
        "Upper",
        "has space",
        "x\u{1}y",
        "-dash",
        &"a".repeat(65),
        ".hidden",
    ] {
        expect_code(alice.client.create_app(bad).await, "invalid_name");
    }
    for bad in ["A..B", "bad/name", "NUL\u{0}X", &"K".repeat(129)] {
        let path = format!("payments/api/production/{bad}");
        let result = alice.client.put_secret(&path, &value("x")).await;
        assert!(result.is_err(), "{bad:?} was accepted");
    }
    expect_code(
        alice
            .client
            .put_secret("payments/api/production/A..B", &value("x"))
            .await,
        "invalid_name",
    );
    assert!(ok(alice.client.secrets("payments/api/production").await).is_empty());
}

async fn lists_are_paginated_with_opaque_cursors(app: TestApp) {
    let alice = app.signup("alice").await;
    for name in ["a1", "a2", "a3", "a4", "a5"] {
        ok(alice.client.create_app(name).await);
    }
    assert_eq!(ok(alice.client.apps().await).len(), 5);
    let http = reqwest::Client::new();
    let get = |query: String| {
        http.get(format!("{}/api/v1/apps?{query}", app.url))
            .bearer_auth(&alice.token)
            .send()
    };
    let first: serde_json::Value = ok_json(get("limit=2".into()).await).await;
    let names = |page: &serde_json::Value| -> Vec<String> {
        page["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["name"].as_str().map(str::to_owned))
            .collect()
    };
    assert_eq!(names(&first), ["a1", "a2"]);
    let cursor = first["next_cursor"].as_str().unwrap_or_default().to_owned();
    let second: serde_json::Value = ok_json(get(format!("limit=2&cursor={cursor}")).await).await;
    assert_eq!(names(&second), ["a3", "a4"]);
    let third_cursor = second["next_cursor"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let third: serde_json::Value =
        ok_json(get(format!("limit=2&cursor={third_cursor}")).await).await;
    assert_eq!(names(&third), ["a5"]);
    assert!(third["next_cursor"].is_null());

    for bad in [
        format!("limit=2&cursor={cursor}x"),
        "cursor=%21%21".into(),
        "limit=0".into(),
        "limit=5000".into(),
        "limit=-1".into(),
    ] {
        let response = get(bad.clone()).await.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status(), 400, "{bad}");
        let body: serde_json::Value = response.json().await.unwrap_or_default();
        assert!(body["error"]["code"].is_string(), "{bad}: {body}");
    }
    // A cursor from another list is refused, not reinterpreted.
    ok(alice.client.create_project("a1/p1").await);
    let projects = http
        .get(format!(
            "{}/api/v1/apps/a1/projects?cursor={cursor}",
            app.url
        ))
        .bearer_auth(&alice.token)
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let body: serde_json::Value = projects.json().await.unwrap_or_default();
    assert_eq!(body["error"]["code"], "invalid_cursor");
}

async fn ok_json(response: reqwest::Result<reqwest::Response>) -> serde_json::Value {
    let response = response.unwrap_or_else(|e| panic!("{e}"));
    assert!(response.status().is_success(), "{}", response.status());
    response.json().await.unwrap_or_else(|e| panic!("{e}"))
}

async fn import_writes_one_version_per_changed_key(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let env = "payments/api/staging";
    let batch = |pairs: &[(&str, &str)]| -> BTreeMap<String, Sensitive> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Sensitive::new(*v)))
            .collect()
    };
    let first = ok(alice
        .client
        .import(env, batch(&[("A", "1"), ("B", "2")]))
        .await);
    assert_eq!(
        (
            first.created.len(),
            first.updated.len(),
            first.unchanged.len()
        ),
        (2, 0, 0)
    );
    let second = ok(alice
        .client
        .import(env, batch(&[("A", "1"), ("B", "3"), ("C", "4")]))
        .await);
    assert_eq!(second.created, ["C"]);
    assert_eq!(second.updated, ["B"]);
    assert_eq!(second.unchanged, ["A"]);
    let versions: BTreeMap<String, i64> = ok(alice.client.secrets(env).await)
        .into_iter()
        .map(|s| (s.name, s.version))
        .collect();
    assert_eq!(
        versions,
        BTreeMap::from([("A".into(), 1), ("B".into(), 2), ("C".into(), 1)])
    );
    // One bad key refuses the whole import: nothing is written.
    expect_code(
        alice
            .client
            .import(env, batch(&[("D", "5"), ("bad name", "6")]))
            .await,
        "invalid_name",
    );
    ok(alice.client.delete_secret("payments/api/staging/A").await);
    expect_code(
        alice
            .client
            .import(env, batch(&[("E", "7"), ("A", "8")]))
            .await,
        "secret_in_trash",
    );
    let names: Vec<String> = ok(alice.client.secrets(env).await)
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["B", "C"]);
}

async fn environment_values_are_the_latest_live_values(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    ok(alice
        .client
        .put_secret("payments/api/development/A", &value("a1"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/development/A", &value("a2"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/development/B", &value("b1"))
        .await);
    ok(alice
        .client
        .put_secret("payments/api/development/GONE", &value("g"))
        .await);
    ok(alice
        .client
        .delete_secret("payments/api/development/GONE")
        .await);
    ok(alice
        .client
        .put_secret("payments/api/production/A", &value("prod"))
        .await);
    let values = ok(alice
        .client
        .environment_values("payments/api/development")
        .await);
    let got: Vec<(String, String)> = values
        .secrets
        .iter()
        .map(|s| (s.name.clone(), s.value.expose().to_owned()))
        .collect();
    assert_eq!(got, [("A".into(), "a2".into()), ("B".into(), "b1".into())]);
    expect_code(
        alice
            .client
            .environment_values("payments/api/nowhere")
            .await,
        "not_found",
    );
}

async fn concurrent_writes_to_one_secret_get_distinct_versions(app: TestApp) {
    let alice = app.user_with_project("alice", "payments/api").await;
    let mut tasks = Vec::new();
    for i in 0..12 {
        let client = alice.client.clone();
        tasks.push(tokio::spawn(async move {
            client.put_secret(KEY, &value(&format!("v{i}"))).await
        }));
    }
    let mut versions = Vec::new();
    for task in tasks {
        versions.push(ok(task.await.unwrap_or_else(|e| panic!("{e}"))).version);
    }
    versions.sort_unstable();
    assert_eq!(versions, (1..=12).collect::<Vec<i64>>());
    assert_eq!(ok(alice.client.versions(KEY).await).len(), 12);
}

crate::on_both_backends!(
    a_new_project_has_development_staging_and_production,
    environments_can_be_added_once,
    every_write_makes_a_new_version_and_any_version_can_be_read,
    metadata_is_kept_until_changed,
    rollback_makes_a_new_version_equal_to_an_old_one,
    delete_moves_to_the_trash_and_restore_brings_it_back,
    purge_destroys_a_trashed_secret_for_good,
    names_with_path_tricks_are_refused_with_invalid_name,
    lists_are_paginated_with_opaque_cursors,
    import_writes_one_version_per_changed_key,
    environment_values_are_the_latest_live_values,
    concurrent_writes_to_one_secret_get_distinct_versions,
);
