//! The differential test: the same KV requests go to Strongroom and to a real OpenBao
//! (`bao server -dev`, started here), and the answers must agree in status code and in
//! the shape of their JSON — every key path, ignoring values such as ids and times.

use serde_json::{Value, json};
use std::collections::BTreeSet;
use strongroom_testkit::{TestApp, VaultHttp, VaultReply, kv_clients};
use tokio::process::{Child, Command};

/// A throwaway OpenBao dev server (in memory, KV v2 at `secret/`, root token `root`).
struct OpenBao {
    url: String,
    _process: Child,
}

impl OpenBao {
    async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap_or_else(|e| panic!("free port: {e}"));
        let process = Command::new(kv_clients().bao)
            .env_clear()
            .env("HOME", std::env::temp_dir())
            .args([
                "server",
                "-dev",
                "-dev-root-token-id=root",
                &format!("-dev-listen-address=127.0.0.1:{port}"),
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| panic!("bao server -dev: {e}"));
        let url = format!("http://127.0.0.1:{port}");
        let probe = VaultHttp::new(&url, None);
        for _ in 0..200 {
            let up = reqwest::get(format!("{url}/v1/sys/health"))
                .await
                .is_ok_and(|r| r.status().is_success());
            if up {
                // The dev server mounts KV v2 just after it starts answering.
                let mount = VaultHttp::new(&url, Some("root"))
                    .get("sys/internal/ui/mounts/secret")
                    .await;
                if mount.status == 200 {
                    drop(probe);
                    return Self {
                        url,
                        _process: process,
                    };
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("bao server -dev did not come up within 20 s");
    }
}

/// Every key path of a JSON value: `data.metadata.version`, `data.keys[]`, ...
fn shape(value: &Value, prefix: &str, out: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let path = format!("{prefix}.{k}");
                out.insert(path.clone());
                shape(v, &path, out);
            }
        }
        Value::Array(items) => {
            for item in items {
                shape(item, &format!("{prefix}[]"), out);
            }
        }
        _ => {}
    }
}

fn shape_of(reply: &VaultReply) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    shape(&reply.body, "", &mut out);
    out
}

/// Keys one side has on purpose, with why.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        ".performance_standby",
        "sys/health: vaultrs cannot parse a health answer without it (OpenBao omits it)",
    ),
    (
        ".data.current_metadata_version",
        "OpenBao-only: Strongroom does not version metadata",
    ),
    (
        ".data.metadata_cas_required",
        "OpenBao-only: Strongroom has no check-and-set on metadata",
    ),
];

fn known(path: &str) -> bool {
    KNOWN_DIFFERENCES.iter().any(|(p, _)| *p == path)
}

/// One request, sent alike to both servers.
struct Step {
    method: &'static str,
    path: &'static str,
    body: Option<Value>,
    content_type: Option<&'static str>,
    /// Whether the request carries the side's good token (else a bogus one).
    authenticated: bool,
}

fn step(method: &'static str, path: &'static str, body: Option<Value>) -> Step {
    Step {
        method,
        path,
        body,
        content_type: None,
        authenticated: true,
    }
}

const K: &str = "secret/data/payments/api/production/db";
const M: &str = "secret/metadata/payments/api/production/db";

fn script() -> Vec<Step> {
    let patch = |body: Value, content_type: Option<&'static str>| Step {
        method: "PATCH",
        path: K,
        body: Some(body),
        content_type,
        authenticated: true,
    };
    vec![
        step("GET", "sys/health", None),
        step("GET", "sys/seal-status", None),
        step("GET", "sys/leader", None),
        step("GET", "sys/internal/ui/mounts/secret", None),
        step("GET", "sys/internal/ui/mounts/nomount/foo", None),
        step("GET", "auth/token/lookup-self", None),
        step("GET", "secret/config", None),
        step("GET", K, None),
        step(
            "POST",
            K,
            Some(json!({"data": {"user": "app", "pass": "p1"}})),
        ),
        step("GET", K, None),
        step(
            "PUT",
            K,
            Some(json!({"data": {"user": "app", "pass": "p2"}, "options": {"cas": 1}})),
        ),
        step(
            "POST",
            K,
            Some(json!({"data": {"pass": "p3"}, "options": {"cas": 1}})),
        ),
        step("POST", K, Some(json!({"options": {}}))),
        step(
            "GET",
            "secret/data/payments/api/production/db?version=1",
            None,
        ),
        step(
            "GET",
            "secret/data/payments/api/production/db?version=9",
            None,
        ),
        step("LIST", "secret/metadata/payments/api/production", None),
        step(
            "GET",
            "secret/metadata/payments/api/production?list=true",
            None,
        ),
        step("LIST", "secret/metadata/payments/api/staging", None),
        step("GET", M, None),
        step(
            "POST",
            M,
            Some(json!({"max_versions": 5, "custom_metadata": {"owner": "payments"}})),
        ),
        step("GET", M, None),
        patch(json!({"data": {"extra": "x"}}), None),
        patch(
            json!({"data": {"extra": "x"}}),
            Some("application/merge-patch+json"),
        ),
        step("DELETE", K, None),
        step("GET", K, None),
        step(
            "PUT",
            "secret/undelete/payments/api/production/db",
            Some(json!({"versions": ["3"]})),
        ),
        step(
            "POST",
            "secret/destroy/payments/api/production/db",
            Some(json!({"versions": [1]})),
        ),
        step(
            "GET",
            "secret/data/payments/api/production/db?version=1",
            None,
        ),
        step(
            "POST",
            "secret/delete/payments/api/production/db",
            Some(json!({"versions": []})),
        ),
        step("GET", M, None),
        step("GET", "secret/data/payments/api/production/missing", None),
        step(
            "GET",
            "secret/metadata/payments/api/production/missing",
            None,
        ),
        step(
            "POST",
            "secret/metadata/payments/api/production/pushed",
            Some(json!({"custom_metadata": {"managed-by": "external-secrets"}})),
        ),
        step(
            "GET",
            "secret/metadata/payments/api/production/pushed",
            None,
        ),
        step("GET", "secret/data/payments/api/production/pushed", None),
        step("DELETE", M, None),
        step("GET", M, None),
        step("DELETE", M, None),
        Step {
            authenticated: false,
            ..step("GET", K, None)
        },
        Step {
            authenticated: false,
            ..step("GET", "auth/token/lookup-self", None)
        },
    ]
}

async fn strongroom_and_openbao_answer_the_same_requests_alike(app: TestApp) {
    let bao = OpenBao::start().await;
    let alice = app.user_with_project("alice", "payments/api").await;
    let sides = [
        (
            "strongroom",
            VaultHttp::new(&app.url, Some(&alice.token)),
            VaultHttp::new(&app.url, Some("srs_bogus")),
        ),
        (
            "openbao",
            VaultHttp::new(&bao.url, Some("root")),
            VaultHttp::new(&bao.url, Some("bogus")),
        ),
    ];
    let mut mismatches = Vec::new();
    for (n, step) in script().iter().enumerate() {
        let mut replies = Vec::new();
        for (_, good, bogus) in &sides {
            let client = if step.authenticated { good } else { bogus };
            replies.push(
                client
                    .call_with(step.method, step.path, step.body.clone(), step.content_type)
                    .await,
            );
        }
        let (ours, theirs) = (&replies[0], &replies[1]);
        let what = format!("#{n} {} {}", step.method, step.path);
        if ours.status != theirs.status {
            mismatches.push(format!(
                "{what}: status {} vs OpenBao's {}\n  ours: {}\n  theirs: {}",
                ours.status, theirs.status, ours.body, theirs.body
            ));
            continue;
        }
        if (ours.body.is_null()) != (theirs.body.is_null()) {
            mismatches.push(format!("{what}: body {} vs {}", ours.body, theirs.body));
            continue;
        }
        let (a, b) = (shape_of(ours), shape_of(theirs));
        let only_ours: Vec<_> = a.difference(&b).filter(|p| !known(p)).collect();
        let only_theirs: Vec<_> = b.difference(&a).filter(|p| !known(p)).collect();
        if !only_ours.is_empty() || !only_theirs.is_empty() {
            mismatches.push(format!(
                "{what}: keys only in Strongroom's answer {only_ours:?}, only in OpenBao's {only_theirs:?}"
            ));
        }
        if ours.body.get("request_id").is_some() {
            assert_eq!(
                ours.content_type.as_deref(),
                Some("application/json"),
                "{what}"
            );
        }
    }
    assert!(
        mismatches.is_empty(),
        "{} of {} requests differ:\n{}",
        mismatches.len(),
        script().len(),
        mismatches.join("\n")
    );
}

crate::on_both_backends!(strongroom_and_openbao_answer_the_same_requests_alike);
