//! `sys/` as Vault's clients probe it: health, seal status, leader and init answer
//! anyone (a running Strongroom is initialized, unsealed and active); the mount
//! preflight the CLI and vault-agent send before every KV call needs a token.

use super::wire::{self, KvResponse};
use super::{Identity, KvRequest, Op};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::json;
use strongroom_core::kv::MOUNT;
use strongroom_core::{Error, ErrorCode};

const VERSION: &str = concat!("strongroom-", env!("CARGO_PKG_VERSION"));

fn now_secs() -> i64 {
    strongroom_store::now_ms() / 1000
}

/// `sys/health`: always the active node. `activecode` is honoured (vault-agent asks
/// for 299).
fn health(request: &KvRequest) -> Response {
    let status = request
        .query
        .get("activecode")
        .and_then(|c| c.parse::<u16>().ok())
        .and_then(|c| StatusCode::from_u16(c).ok())
        .unwrap_or(StatusCode::OK);
    let body = json!({
        "initialized": true,
        "sealed": false,
        "standby": false,
        "performance_standby": false,
        "replication_performance_mode": "disabled",
        "replication_dr_mode": "disabled",
        "server_time_utc": now_secs(),
        "version": VERSION,
        "cluster_name": "strongroom",
        "cluster_id": "strongroom",
    });
    if request.op == Op::Head {
        return KvResponse::no_body(status).into_response("kv.health", "");
    }
    KvResponse::bare(status, body).into_response("kv.health", "")
}

/// The status endpoints, which need no token; `None` for everything else.
pub fn unauthenticated(request: &KvRequest) -> Option<Response> {
    let path: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let read = matches!(request.op, Op::Read | Op::Head);
    Some(match path.as_slice() {
        ["sys", "health"] if read => health(request),
        ["sys", "seal-status"] if read => KvResponse::bare(
            StatusCode::OK,
            json!({
                "type": "shamir", "initialized": true, "sealed": false, "t": 1, "n": 1,
                "progress": 0, "nonce": "", "version": VERSION, "commit_date": "",
                "migration": false, "recovery_seal": false, "storage_type": "strongroom",
                "cluster_name": "strongroom", "cluster_id": "strongroom",
            }),
        )
        .into_response("kv.seal_status", ""),
        ["sys", "leader"] if read => KvResponse::bare(StatusCode::OK, json!({"ha_enabled": false}))
            .into_response("kv.leader", ""),
        ["sys", "init"] if read => KvResponse::bare(StatusCode::OK, json!({"initialized": true}))
            .into_response("kv.init", ""),
        _ => return None,
    })
}

/// The mount preflight (`sys/internal/ui/mounts/PATH`, and its older name
/// `sys/mounts-all/PATH`): the `secret` mount is KV version 2, given as the string
/// `"2"` the CLI expects. A path outside it gets the 403 that keeps clients from
/// falling back to KV v1.
pub async fn authenticated(
    state: &AppState,
    identity: &Identity,
    namespace: &[String],
    request: &KvRequest,
) -> Response {
    let path: Vec<&str> = request.segments.iter().map(String::as_str).collect();
    let asked: &[&str] = match path.as_slice() {
        ["sys", "internal", "ui", "mounts", rest @ ..] | ["sys", "mounts-all", rest @ ..]
            if request.op == Op::Read =>
        {
            rest
        }
        _ => {
            return wire::from_error(Error::new(
                ErrorCode::RouteNotFound,
                "Strongroom answers sys/health, sys/seal-status, sys/leader, sys/init and the \
                 mount preflight",
            ))
            .into_response("kv.sys", &request.segments.join("/"));
        }
    };
    // The asked path may itself start with a namespace (`acme/secret/...`); the answer's
    // `path` keeps it, since clients build their next URL from it.
    let (in_path, asked) = match asked {
        [ns, MOUNT, ..] => (Some(*ns), &asked[1..]),
        _ => (None, asked),
    };
    if let Some(ns) = in_path {
        let mut full = namespace.to_vec();
        full.push(ns.to_owned());
        if let Err(e) = super::check_namespace(state, identity, &full).await {
            return wire::from_error(e).into_response("kv.preflight", &full.join("/"));
        }
    }
    let prefix: String = request
        .path_namespace
        .iter()
        .map(String::as_str)
        .chain(in_path)
        .map(|s| format!("{s}/"))
        .collect();
    if asked.first() != Some(&MOUNT) {
        let shown = format!("{prefix}{}/", asked.join("/"));
        let message = format!(
            "preflight capability check returned 403, please ensure client's policies grant \
             access to path \"{shown}\""
        );
        return KvResponse::errors(StatusCode::FORBIDDEN, &[&message])
            .failing(Error::new(
                ErrorCode::PermissionDenied,
                "permission denied: Strongroom's only KV mount is 'secret'",
            ))
            .into_response("kv.preflight", &shown);
    }
    KvResponse::data(json!({
        "path": format!("{prefix}{MOUNT}/"),
        "type": "kv",
        "description": "Strongroom secrets: APP/PROJECT/ENV/NAME",
        "accessor": "kv_strongroom",
        "uuid": "strongroom-kv",
        "local": false,
        "seal_wrap": false,
        "external_entropy_access": false,
        "plugin_version": "",
        "running_plugin_version": VERSION,
        "running_sha256": "",
        "deprecation_status": "supported",
        "options": {"version": "2"},
        "config": {"default_lease_ttl": 0, "force_no_cache": false, "max_lease_ttl": 0},
    }))
    .into_response("kv.preflight", MOUNT)
}
