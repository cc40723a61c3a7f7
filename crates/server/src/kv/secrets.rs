//! The `secret` mount: `data/` (read, write, patch, delete latest), `metadata/` (read,
//! list, settings, purge), `delete/`, `undelete/`, `destroy/` and `config`. Each call
//! asks the decision function for the same action the native API does and calls the
//! same store method.

use super::wire::{self, KvResponse};
use super::{Identity, KvRequest, Op, parse_bool};
use crate::state::AppState;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use strongroom_core::access::Verb;
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::kv::{
    self, CustomMetadata, KvLocation, format_duration, parse_cas, parse_duration, parse_location,
    parse_versions, value_from_kv, value_to_kv,
};
use strongroom_core::names::SecretPath;
use strongroom_core::secret::SecretValue;
use strongroom_core::{Error, ErrorCode};
use strongroom_store::{
    PageRequest, SecretInput, SecretOverview, SettingsUpdate, VersionChange, VersionSelection,
    VersionState,
};

/// Routes a request under `secret/`.
pub async fn handle(state: &AppState, identity: &Identity, request: &KvRequest) -> Response {
    let section = request.segments.get(1).map(String::as_str).unwrap_or("");
    let key = request.segments.get(2..).unwrap_or_default().join("/");
    let (action, answer) = match (section, request.op) {
        ("data", Op::Read) => ("secret.reveal", read(state, identity, request, &key).await),
        ("data", Op::Write) => ("secret.write", write(state, identity, request, &key).await),
        ("data", Op::Patch) => ("secret.write", patch(state, identity, request, &key).await),
        ("data", Op::Delete) => (
            "secret.delete_version",
            change(state, identity, request, &key, VersionChange::Delete, true).await,
        ),
        ("metadata", Op::Read) => ("secret.read", metadata(state, identity, &key).await),
        ("metadata", Op::List) => ("secret.list", list(state, identity, &key).await),
        ("metadata", Op::Write) => (
            "secret.settings",
            settings(state, identity, request, &key, false).await,
        ),
        ("metadata", Op::Patch) => (
            "secret.settings",
            settings(state, identity, request, &key, true).await,
        ),
        ("metadata", Op::Delete) => ("secret.purge", purge(state, identity, request, &key).await),
        ("delete", Op::Write) => (
            "secret.delete_version",
            change(state, identity, request, &key, VersionChange::Delete, false).await,
        ),
        ("undelete", Op::Write) => (
            "secret.undelete_version",
            change(
                state,
                identity,
                request,
                &key,
                VersionChange::Undelete,
                false,
            )
            .await,
        ),
        ("destroy", Op::Write) => (
            "secret.destroy_version",
            change(
                state,
                identity,
                request,
                &key,
                VersionChange::Destroy,
                false,
            )
            .await,
        ),
        ("config", Op::Read) if key.is_empty() => ("kv.config", Ok(config())),
        ("config", Op::Write) if key.is_empty() => (
            "kv.config",
            Err(Error::new(
                ErrorCode::InvalidRequest,
                "Strongroom keeps KV settings per secret: write them to secret/metadata/KEY",
            )),
        ),
        ("data" | "metadata" | "delete" | "undelete" | "destroy" | "config", _) => (
            "kv.request",
            Err(Error::new(
                ErrorCode::MethodNotAllowed,
                "unsupported operation",
            )),
        ),
        _ => (
            "kv.request",
            Ok(KvResponse::errors(
                StatusCode::NOT_FOUND,
                &[
                    "Invalid path for a versioned K/V secrets engine. See the API docs for the \
                   appropriate API endpoints to use. If using the Vault CLI, use 'vault kv get' \
                   for this operation.",
                ],
            )),
        ),
    };
    answer
        .unwrap_or_else(wire::from_error)
        .into_response(action, &key)
}

fn secret_at(key: &str) -> Result<SecretPath, Error> {
    parse_location(key)?.secret(key)
}

/// The decision for `verb` on `path`, asked before anything is looked up. As in Vault, a
/// path the caller's access does not cover is a 403 whether or not anything is there
/// (the native API's "not found" for out-of-scope paths would be a 404 here).
fn covered(authz: &Authorized, verb: Verb, path: &SecretPath) -> Result<(), Error> {
    authz.permit_path(verb, path).map_err(refused)
}

fn refused(e: Error) -> Error {
    match e.code() {
        ErrorCode::NotFound => Error::new(
            ErrorCode::PermissionDenied,
            format!(
                "permission denied: outside this identity's access ({})",
                e.message()
            ),
        ),
        _ => e,
    }
}

fn custom_json(custom: Option<&CustomMetadata>) -> Value {
    custom.map_or(Value::Null, |c| json!(c.pairs()))
}

fn version_metadata(
    created_at: i64,
    deletion_at: Option<i64>,
    destroyed: bool,
    version: i64,
    custom: Option<&CustomMetadata>,
) -> Value {
    json!({
        "created_time": wire::time(created_at),
        "custom_metadata": custom_json(custom),
        "deletion_time": wire::time_or_empty(deletion_at),
        "destroyed": destroyed,
        "version": version,
    })
}

/// `GET data/KEY[?version=N]`: the value as a KV object. A deleted or destroyed version
/// is a 404 that still carries its metadata, as Vault answers.
async fn read(
    state: &AppState,
    identity: &Identity,
    request: &KvRequest,
    key: &str,
) -> Result<KvResponse, Error> {
    let path = secret_at(key)?;
    let version = match request.query.get("version").map(|v| v.parse::<i64>()) {
        None => None,
        Some(Ok(0)) => None,
        Some(Ok(v)) if v > 0 => Some(v),
        Some(_) => {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "version must be a positive integer",
            ));
        }
    };
    let authz = identity.decide(Action::RevealSecret)?;
    covered(&authz, Verb::Reveal, &path)?;
    match state
        .store
        .reveal_secret(&authz, &path, version, &request.meta.origin())
        .await
    {
        Ok(revealed) => Ok(KvResponse::data(json!({
            "data": value_to_kv(revealed.value.expose()),
            "metadata": version_metadata(
                revealed.created_at,
                revealed.deletion_at,
                false,
                revealed.version,
                revealed.custom_metadata.as_ref(),
            ),
        }))),
        Err(e)
            if matches!(
                e.code(),
                ErrorCode::VersionDeleted | ErrorCode::VersionDestroyed
            ) =>
        {
            let read = identity.decide(Action::ReadSecretMetadata)?;
            let overview = state.store.secret_overview(&read, &path).await?;
            let wanted = version.unwrap_or(overview.latest_version);
            let Some(v) = overview.versions.iter().find(|v| v.version == wanted) else {
                return Err(e);
            };
            Ok(wire::envelope(
                Some(json!({
                    "data": null,
                    "metadata": version_metadata(
                        v.created_at,
                        v.deletion_at,
                        v.destroyed_at.is_some(),
                        v.version,
                        overview.settings.custom_metadata.as_ref(),
                    ),
                })),
                None,
                StatusCode::NOT_FOUND,
            )
            .failing(e))
        }
        Err(e) => Err(e),
    }
}

/// A write into an environment that does not exist: Vault has no such case, so its
/// clients would show a bare 404; say what to create instead. (Paths outside the
/// caller's access were refused before anything was looked up.)
fn missing_environment(e: Error, path: &SecretPath) -> Error {
    if e.code() != ErrorCode::NotFound {
        return e;
    }
    let env = &path.environment;
    Error::new(
        ErrorCode::InvalidPath,
        format!(
            "there is no environment '{env}' in this vault: create it first \
             (`strongroom apps create {}`, `strongroom projects create {}`, or \
             `strongroom envs create {env}`)",
            env.project.application, env.project
        ),
    )
}

fn no_data() -> Error {
    Error::new(ErrorCode::InvalidValue, "no data provided")
}

/// Writes `data` as a new version, with check-and-set from `options.cas`.
async fn write_object(
    state: &AppState,
    identity: &Identity,
    request: &KvRequest,
    path: &SecretPath,
    data: &Map<String, Value>,
    cas: Option<i64>,
) -> Result<KvResponse, Error> {
    let input = SecretInput {
        value: SecretValue::new(value_from_kv(data))?,
        secret_type: None,
        note: None,
        tags: None,
        expected_version: cas,
    };
    let authz = identity.decide(Action::WriteSecret)?;
    covered(&authz, Verb::Write, path)?;
    let written = state
        .store
        .write_secret(&authz, path, &input, &request.meta.origin())
        .await
        .map_err(|e| missing_environment(e, path))?;
    Ok(KvResponse::data(version_metadata(
        written.created_at,
        written.deletion_at,
        false,
        written.version,
        written.custom_metadata.as_ref(),
    )))
}

fn options_cas(body: &Map<String, Value>) -> Result<Option<i64>, Error> {
    parse_cas(
        body.get("options")
            .and_then(Value::as_object)
            .and_then(|o| o.get("cas")),
    )
}

/// `POST|PUT data/KEY`: `{"data": {...}, "options": {"cas": N}}`.
async fn write(
    state: &AppState,
    identity: &Identity,
    request: &KvRequest,
    key: &str,
) -> Result<KvResponse, Error> {
    let path = secret_at(key)?;
    let body = match request.json() {
        Ok(body) => body,
        Err(answer) => return Ok(answer),
    };
    let data = body
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(no_data)?;
    let cas = options_cas(&body)?;
    write_object(state, identity, request, &path, data, cas).await
}

fn merge_patch_only(request: &KvRequest) -> Option<KvResponse> {
    let given = request.content_type.clone().unwrap_or_default();
    if given.split(';').next().map(str::trim) == Some("application/merge-patch+json") {
        return None;
    }
    let message =
        format!("PATCH requires Content-Type of application/merge-patch+json, provided {given}");
    Some(
        KvResponse::errors(StatusCode::UNSUPPORTED_MEDIA_TYPE, &[&message])
            .failing(Error::new(ErrorCode::UnsupportedMediaType, message.clone())),
    )
}

/// RFC 7396: `null` removes a key, objects merge, anything else replaces.
fn merge(target: &mut Map<String, Value>, patch: &Map<String, Value>) {
    for (k, v) in patch {
        match v {
            Value::Null => {
                target.remove(k);
            }
            Value::Object(inner) => {
                let slot = target
                    .entry(k.clone())
                    .or_insert_with(|| Value::Object(Map::new()));
                if !slot.is_object() {
                    *slot = Value::Object(Map::new());
                }
                if let Value::Object(t) = slot {
                    merge(t, inner);
                }
            }
            other => {
                target.insert(k.clone(), other.clone());
            }
        }
    }
}

/// `PATCH data/KEY`: merges into the latest version and writes the result as a new
/// version, checked against the version read.
async fn patch(
    state: &AppState,
    identity: &Identity,
    request: &KvRequest,
    key: &str,
) -> Result<KvResponse, Error> {
    if let Some(refused) = merge_patch_only(request) {
        return Ok(refused);
    }
    let path = secret_at(key)?;
    let body = match request.json() {
        Ok(body) => body,
        Err(answer) => return Ok(answer),
    };
    let patch = body
        .get("data")
        .and_then(Value::as_object)
        .ok_or_else(no_data)?;
    let cas = options_cas(&body)?;
    let reveal = identity.decide(Action::RevealSecret)?;
    covered(&reveal, Verb::Reveal, &path)?;
    let current = state
        .store
        .reveal_secret(&reveal, &path, None, &request.meta.origin())
        .await
        .map_err(|e| match e.code() {
            ErrorCode::VersionDeleted | ErrorCode::VersionDestroyed => {
                Error::not_found(&format!("secret '{path}'"))
            }
            _ => e,
        })?;
    if let Some(expected) = cas {
        kv::check_and_set(Some(expected), current.version, false)?;
    }
    let mut data = value_to_kv(current.value.expose());
    merge(&mut data, patch);
    write_object(
        state,
        identity,
        request,
        &path,
        &data,
        Some(current.version),
    )
    .await
}

/// `DELETE data/KEY` (the latest version), or `delete|undelete|destroy/KEY` with
/// `{"versions": [...]}`. A missing secret or version is a no-op, as in Vault.
async fn change(
    state: &AppState,
    identity: &Identity,
    request: &KvRequest,
    key: &str,
    change: VersionChange,
    latest: bool,
) -> Result<KvResponse, Error> {
    let path = secret_at(key)?;
    let selection = if latest {
        VersionSelection::Latest
    } else {
        let body = match request.json() {
            Ok(body) => body,
            Err(answer) => return Ok(answer),
        };
        VersionSelection::These(parse_versions(body.get("versions"))?)
    };
    let action = match change {
        VersionChange::Delete | VersionChange::Undelete => Action::DeleteSecret,
        VersionChange::Destroy => Action::PurgeSecret,
    };
    let authz = identity.decide(action)?;
    covered(&authz, Verb::Delete, &path)?;
    match state
        .store
        .change_versions(&authz, &path, &selection, change, &request.meta.origin())
        .await
    {
        Ok(_) => Ok(KvResponse::no_content()),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(KvResponse::no_content()),
        Err(e) => Err(e),
    }
}

fn versions_json(versions: &[VersionState]) -> Value {
    let mut out = Map::new();
    for v in versions {
        out.insert(
            v.version.to_string(),
            json!({
                "created_time": wire::time(v.created_at),
                "deletion_time": wire::time_or_empty(v.deletion_at),
                "destroyed": v.destroyed_at.is_some(),
            }),
        );
    }
    Value::Object(out)
}

fn metadata_json(o: &SecretOverview) -> Value {
    json!({
        "cas_required": o.settings.cas_required,
        "created_time": wire::time(o.created_at),
        "current_version": o.latest_version,
        "custom_metadata": custom_json(o.settings.custom_metadata.as_ref()),
        "delete_version_after": format_duration(o.settings.delete_version_after_ms),
        "max_versions": o.settings.max_versions,
        // As in Vault: 0 until `max_versions` has dropped a version.
        "oldest_version": o.versions.first().map_or(0, |v| if v.version == 1 { 0 } else { v.version }),
        "updated_time": wire::time(o.updated_at),
        "versions": versions_json(&o.versions),
    })
}

/// `GET metadata/KEY`.
async fn metadata(state: &AppState, identity: &Identity, key: &str) -> Result<KvResponse, Error> {
    let path = secret_at(key)?;
    let authz = identity.decide(Action::ReadSecretMetadata)?;
    covered(&authz, Verb::Read, &path)?;
    let overview = state.store.secret_overview(&authz, &path).await?;
    Ok(KvResponse::data(metadata_json(&overview)))
}

/// Most names one listing gathers (pages of the native lists).
const MAX_LISTED: usize = 100_000;

/// Gathers every page of a native listing.
async fn all_pages<F, Fut, T>(
    mut page: F,
    name: impl Fn(&T) -> String,
) -> Result<Vec<String>, Error>
where
    F: FnMut(PageRequest) -> Fut,
    Fut: std::future::Future<Output = Result<strongroom_store::Page<T>, Error>>,
{
    let mut names = Vec::new();
    let mut after = None;
    loop {
        let got = page(PageRequest { after, limit: 1000 }).await?;
        names.extend(got.items.iter().map(&name));
        match got.next_after {
            Some(next) if names.len() < MAX_LISTED => after = Some(next),
            _ => return Ok(names),
        }
    }
}

/// `LIST metadata/KEY/`: applications, projects and environments are folders (`name/`);
/// an environment lists its secrets, including names that have only settings. An empty
/// or missing folder is a 404 with no errors, as in Vault.
async fn list(state: &AppState, identity: &Identity, key: &str) -> Result<KvResponse, Error> {
    let store = &state.store;
    let folder = |n: &String| format!("{n}/");
    let mut keys = match parse_location(key)? {
        KvLocation::Root => {
            let authz = identity.decide(Action::ReadStructure)?;
            all_pages(
                |p| {
                    let authz = &authz;
                    async move { store.list_applications(authz, &p).await }
                },
                |n| folder(&n.name),
            )
            .await?
        }
        KvLocation::Application(app) => {
            let authz = identity.decide(Action::ReadStructure)?;
            all_pages(
                |p| {
                    let (authz, app) = (&authz, &app);
                    async move { store.list_projects(authz, app, &p).await }
                },
                |n| folder(&n.name),
            )
            .await?
        }
        KvLocation::Project(project) => {
            let authz = identity.decide(Action::ReadStructure)?;
            all_pages(
                |p| {
                    let (authz, project) = (&authz, &project);
                    async move { store.list_environments(authz, project, &p).await }
                },
                |n| folder(&n.name),
            )
            .await?
        }
        KvLocation::Environment(env) => {
            let authz = identity.decide(Action::ReadSecretMetadata)?;
            authz
                .permit_environment(Verb::Read, &env)
                .map_err(refused)?;
            let mut names = all_pages(
                |p| {
                    let (authz, env) = (&authz, &env);
                    async move { store.list_secrets(authz, env, &p).await }
                },
                |m| m.name.to_string(),
            )
            .await?;
            names.extend(
                store
                    .names_with_settings_only(&authz, &env)
                    .await?
                    .into_iter()
                    .map(|n| n.to_string()),
            );
            names
        }
        KvLocation::Secret(_) => Vec::new(),
    };
    keys.sort_unstable();
    keys.dedup();
    if keys.is_empty() {
        return Ok(KvResponse::errors(StatusCode::NOT_FOUND, &[]));
    }
    Ok(KvResponse::data(json!({ "keys": keys })))
}

fn int_field(body: &Map<String, Value>, field: &str) -> Result<Option<i64>, Error> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidValue,
            format!("{field} must be an integer"),
        )
    };
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => n.as_i64().map(Some).ok_or_else(bad),
        Some(Value::String(s)) => s.trim().parse().map(Some).map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

fn bool_field(body: &Map<String, Value>, field: &str) -> Result<Option<bool>, Error> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidValue,
            format!("{field} must be a boolean"),
        )
    };
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) => parse_bool(s).map(Some).ok_or_else(bad),
        Some(Value::Number(n)) => Ok(Some(n.as_i64() != Some(0))),
        Some(_) => Err(bad()),
    }
}

fn duration_field(body: &Map<String, Value>, field: &str) -> Result<Option<i64>, Error> {
    match body.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => parse_duration(s).map(Some),
        Some(Value::Number(n)) => n
            .as_i64()
            .filter(|s| *s >= 0)
            .map(|s| Some(s * 1000))
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidValue,
                    format!("{field} must be a duration"),
                )
            }),
        Some(_) => Err(Error::new(
            ErrorCode::InvalidValue,
            format!("{field} must be a duration"),
        )),
    }
}

/// Custom metadata from a body: a whole map, or (for PATCH) changes to `current`, where
/// `null` removes a key.
fn custom_field(
    body: &Map<String, Value>,
    current: Option<&CustomMetadata>,
) -> Result<Option<CustomMetadata>, Error> {
    let bad = || {
        Error::new(
            ErrorCode::InvalidValue,
            "custom_metadata validation failed: it must map strings to strings",
        )
    };
    let Some(given) = body.get("custom_metadata") else {
        return Ok(None);
    };
    let Value::Object(given) = given else {
        return if given.is_null() {
            Ok(None)
        } else {
            Err(bad())
        };
    };
    let mut pairs: BTreeMap<String, String> =
        current.map(|c| c.pairs().clone()).unwrap_or_default();
    if current.is_none() {
        pairs.clear();
    }
    for (k, v) in given {
        match v {
            Value::String(s) => {
                pairs.insert(k.clone(), s.clone());
            }
            Value::Null if current.is_some() => {
                pairs.remove(k);
            }
            _ => return Err(bad()),
        }
    }
    CustomMetadata::parse(pairs).map(Some).map_err(|e| {
        Error::new(
            ErrorCode::InvalidValue,
            format!(
                "custom_metadata validation failed: {}",
                e.message().trim_start_matches("custom_metadata: ")
            ),
        )
    })
}

/// `POST|PUT metadata/KEY` (fields given replace stored ones) and `PATCH` (custom
/// metadata merges). Settings may be written before the secret's first version.
async fn settings(
    state: &AppState,
    identity: &Identity,
    request: &KvRequest,
    key: &str,
    patching: bool,
) -> Result<KvResponse, Error> {
    if patching && let Some(refused) = merge_patch_only(request) {
        return Ok(refused);
    }
    let path = secret_at(key)?;
    let body = match request.json() {
        Ok(body) => body,
        Err(answer) => return Ok(answer),
    };
    let authz = identity.decide(Action::WriteSecret)?;
    covered(&authz, Verb::Write, &path)?;
    let current = if patching {
        let read = identity.decide(Action::ReadSecretMetadata)?;
        Some(state.store.secret_overview(&read, &path).await?.settings)
    } else {
        None
    };
    let update = SettingsUpdate {
        max_versions: int_field(&body, "max_versions")?
            .map(kv::max_versions)
            .transpose()?,
        cas_required: bool_field(&body, "cas_required")?,
        delete_version_after_ms: duration_field(&body, "delete_version_after")?,
        custom_metadata: custom_field(
            &body,
            current
                .as_ref()
                .map(|c| c.custom_metadata.clone().unwrap_or_default())
                .as_ref(),
        )?,
    };
    state
        .store
        .update_secret_settings(&authz, &path, &update, &request.meta.origin())
        .await
        .map_err(|e| missing_environment(e, &path))?;
    Ok(KvResponse::no_content())
}

/// `DELETE metadata/KEY`: destroys the secret, every version and its settings.
async fn purge(
    state: &AppState,
    identity: &Identity,
    request: &KvRequest,
    key: &str,
) -> Result<KvResponse, Error> {
    let path = secret_at(key)?;
    let authz = identity.decide(Action::PurgeSecret)?;
    covered(&authz, Verb::Delete, &path)?;
    state
        .store
        .purge_secret_now(&authz, &path, &request.meta.origin())
        .await?;
    Ok(KvResponse::no_content())
}

/// `GET config`: the mount's defaults (Strongroom keeps settings per secret).
fn config() -> KvResponse {
    KvResponse::data(json!({
        "cas_required": false,
        "delete_version_after": "0s",
        "max_versions": 0,
    }))
}
