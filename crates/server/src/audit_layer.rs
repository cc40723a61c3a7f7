//! The audit layer: every API request that an identity makes in a vault leaves an entry.
//! Changes are recorded by the store in the transaction that makes them (the request's
//! [`RecordedMark`] then says so); everything else — reads, listings, refusals, failures
//! — is recorded here, through the store's journal, before the answer leaves. If that
//! record cannot be written the client gets an error instead of the answer, so nothing
//! is ever read without a trace.
//!
//! Each route's action name comes from [`ROUTE_ACTIONS`]; a test holds that table to the
//! route table, so a new route cannot go unaudited.

use crate::error::{ApiError, FailedWith, RecordedRefusal};
use crate::extract::ClientMeta;
use crate::runtime_auth::RuntimeCaller;
use crate::state::AppState;
use axum::extract::{FromRequestParts, MatchedPath, Path, Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::sync::{Arc, Mutex, PoisonError};
use strongroom_core::audit::{ActorKind, Outcome, Severity};
use strongroom_core::authz::Principal;
use strongroom_core::ids::VaultId;
use strongroom_core::{Error, ErrorCode};
use strongroom_store::{AuditActor, AuditEntry, RecordedMark};

/// Who a request acts as, filled in once an extractor has authenticated it.
#[derive(Clone, Default)]
pub struct AuditScope(Arc<Mutex<Option<(VaultId, AuditActor)>>>);

impl AuditScope {
    /// Names the vault and actor the request's entry belongs to.
    pub fn set(&self, vault: VaultId, actor: AuditActor) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some((vault, actor));
    }

    fn get(&self) -> Option<(VaultId, AuditActor)> {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// The action each API route records, by method and path (below `/api/v1`).
pub const ROUTE_ACTIONS: &[(&str, &str, &str)] = &[
    ("GET", "/access-roles", "access_role.list"),
    ("POST", "/access-roles", "access_role.create"),
    ("GET", "/access-roles/{role}", "access_role.read"),
    ("PUT", "/access-roles/{role}", "access_role.edit"),
    ("DELETE", "/access-roles/{role}", "access_role.delete"),
    (
        "POST",
        "/access-roles/{role}/preview",
        "access_role.preview",
    ),
    (
        "PUT",
        "/members/{username}/access-role",
        "member.assign_access_role",
    ),
    ("GET", "/ip-allowlist", "allowlist.list"),
    ("POST", "/ip-allowlist", "allowlist.add"),
    ("DELETE", "/ip-allowlist", "allowlist.remove"),
    ("POST", "/auth/signup", "account.signup"),
    ("POST", "/auth/login", "session.sign_in"),
    ("POST", "/auth/logout", "session.sign_out"),
    ("GET", "/auth/whoami", "account.read"),
    ("POST", "/auth/step-up", "session.step_up"),
    ("POST", "/auth/password", "account.change_password"),
    ("POST", "/use", "secret.use"),
    ("GET", "/check", "access.check"),
    ("POST", "/auth/email/verify", "account.verify_email"),
    ("POST", "/auth/email/resend", "account.resend_code"),
    ("PUT", "/auth/email", "account.change_email"),
    ("POST", "/invites", "member.invite"),
    ("GET", "/invites", "member.list_invites"),
    ("DELETE", "/invites/{id}", "member.invite_revoke"),
    ("GET", "/account/invites", "account.list_invites"),
    ("POST", "/account/invites/{id}/accept", "member.join"),
    (
        "POST",
        "/account/invites/{id}/decline",
        "member.invite_decline",
    ),
    ("POST", "/links", "member.link_create"),
    ("GET", "/links", "member.list_links"),
    ("DELETE", "/links/{id}", "member.link_revoke"),
    ("POST", "/links/join", "member.join"),
    ("POST", "/machines", "machine.register"),
    ("GET", "/machines", "machine.list"),
    ("GET", "/machines/{machine}", "machine.read"),
    ("POST", "/machines/{machine}/attachments", "machine.attach"),
    (
        "DELETE",
        "/machines/{machine}/attachments/{app}/{project}",
        "machine.detach",
    ),
    ("POST", "/machines/{machine}/grants", "machine.grant"),
    (
        "DELETE",
        "/machines/{machine}/grants/{app}/{project}/{env}/{name}",
        "machine.revoke",
    ),
    ("GET", "/machine", "machine.whoami"),
    (
        "POST",
        "/machines/{machine}/approle",
        "machine.approle_issue",
    ),
    ("GET", "/machines/{machine}/approle", "machine.approle_list"),
    (
        "DELETE",
        "/machines/{machine}/approle/{id}",
        "machine.approle_revoke",
    ),
    ("POST", "/machines/{machine}/disable", "machine.disable"),
    ("POST", "/machines/{machine}/enable", "machine.enable"),
    ("DELETE", "/machines/{machine}", "machine.remove"),
    ("GET", "/members", "member.list"),
    ("POST", "/members/{username}/suspend", "member.suspend"),
    ("POST", "/members/{username}/unsuspend", "member.unsuspend"),
    ("DELETE", "/members/{username}", "member.remove"),
    ("PUT", "/members/{username}/role", "member.assign_role"),
    ("POST", "/policies", "policy.create"),
    ("GET", "/policies", "policy.list"),
    ("GET", "/policies/{policy}", "policy.read"),
    ("DELETE", "/policies/{policy}", "policy.delete"),
    ("GET", "/roles", "vault_role.list"),
    ("POST", "/roles", "vault_role.create"),
    ("GET", "/roles/{name}", "vault_role.read"),
    ("PUT", "/roles/{name}", "vault_role.edit"),
    ("DELETE", "/roles/{name}", "vault_role.delete"),
    ("POST", "/roles/{name}/preview", "vault_role.preview"),
    (
        "GET",
        "/apps/{app}/projects/{project}/envs/{env}/secrets",
        "secret.list",
    ),
    (
        "GET",
        "/apps/{app}/projects/{project}/envs/{env}/values",
        "secret.reveal",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs/{env}/import",
        "secret.import",
    ),
    (
        "GET",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}",
        "secret.read",
    ),
    (
        "PUT",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}",
        "secret.write",
    ),
    (
        "GET",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/value",
        "secret.reveal",
    ),
    (
        "GET",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions",
        "secret.history",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/rollback",
        "secret.rollback",
    ),
    (
        "DELETE",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}",
        "secret.delete",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/restore",
        "secret.restore",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/purge",
        "secret.purge",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions/delete",
        "secret.delete_version",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions/undelete",
        "secret.undelete_version",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/versions/destroy",
        "secret.destroy_version",
    ),
    ("GET", "/trash", "secret.list_trash"),
    (
        "PUT",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/use",
        "secret.use_destination",
    ),
    (
        "DELETE",
        "/apps/{app}/projects/{project}/envs/{env}/secrets/{name}/use",
        "secret.clear_use",
    ),
    ("GET", "/auth/sessions", "session.list"),
    ("DELETE", "/auth/sessions/{id}", "session.revoke"),
    ("GET", "/apps", "application.list"),
    ("POST", "/apps", "application.create"),
    ("GET", "/apps/{app}/projects", "project.list"),
    ("POST", "/apps/{app}/projects", "project.create"),
    (
        "GET",
        "/apps/{app}/projects/{project}/envs",
        "environment.list",
    ),
    (
        "POST",
        "/apps/{app}/projects/{project}/envs",
        "environment.create",
    ),
    ("POST", "/tokens", "token.create"),
    ("GET", "/tokens", "token.list"),
    ("DELETE", "/tokens/{token}", "token.revoke"),
    ("POST", "/auth/totp", "account.totp_enrol"),
    ("POST", "/auth/totp/confirm", "account.totp_confirm"),
    ("DELETE", "/auth/totp", "account.totp_disable"),
    ("POST", "/auth/recovery-codes", "account.recovery_codes"),
    ("GET", "/vaults", "vault.list"),
    ("PUT", "/session/vault", "session.switch_vault"),
    ("POST", "/organizations", "organization.create"),
    ("POST", "/vault/convert", "organization.convert"),
    ("POST", "/vault/transfer", "organization.transfer"),
    ("POST", "/vault/leave", "member.leave"),
    ("DELETE", "/vault", "organization.delete"),
    ("POST", "/vaults/{vault}/restore", "organization.restore"),
    ("GET", "/audit", "audit.list"),
    ("GET", "/audit/verify", "audit.verify"),
    ("POST", "/alerts", "alert.create"),
    ("GET", "/alerts", "alert.list"),
    ("DELETE", "/alerts/{name}", "alert.delete"),
    ("POST", "/alerts/{name}/test", "alert.test"),
    ("GET", "/openapi.json", "api.describe"),
];

/// The action a route records: the table's name for it, or the route itself for a route
/// the table misses (which a test refuses).
fn action_of(method: &Method, matched: &str) -> String {
    let (table, path) = match matched.strip_prefix("/api/v1") {
        Some(path) => (ROUTE_ACTIONS, path),
        None => (crate::web::ROUTE_ACTIONS, matched),
    };
    table
        .iter()
        .find(|(m, p, _)| *m == method.as_str() && *p == path)
        .map_or_else(
            || format!("{method} {path}"),
            |(_, _, action)| (*action).to_owned(),
        )
}

/// The actor a machine or token is recorded as.
fn runtime_actor(caller: &RuntimeCaller) -> Option<(VaultId, AuditActor)> {
    let (vault, kind, id) = match &caller.principal {
        Principal::Machine(m) => (m.vault_id.clone(), ActorKind::Machine, m.id.to_string()),
        Principal::Token(t) => (
            t.vault_id.clone(),
            ActorKind::from(t.kind),
            t.id.to_string(),
        ),
        Principal::Member(_) => return None,
    };
    Some((
        vault,
        AuditActor {
            kind,
            id,
            name: caller.name.clone(),
        },
    ))
}

/// The middleware, on every matched API route.
pub async fn record_requests(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let scope = AuditScope::default();
    if let Some(runtime) = request.extensions().get::<RuntimeCaller>()
        && let Some((vault, actor)) = runtime_actor(runtime)
    {
        scope.set(vault, actor);
    }
    let mark = RecordedMark::new();
    request.extensions_mut().insert(scope.clone());
    request.extensions_mut().insert(mark.clone());
    let method = request.method().clone();
    let matched = request
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_owned())
        .unwrap_or_default();
    let (mut parts, body) = request.into_parts();
    let target = match Path::<Vec<(String, String)>>::from_request_parts(&mut parts, &()).await {
        Ok(Path(params)) => params
            .into_iter()
            .map(|(_, value)| value)
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => String::new(),
    };
    let request = Request::from_parts(parts, body);
    let mut origin = ClientMeta::of(request.headers(), request.extensions()).origin();
    let response = next.run(request).await;
    if mark.is_set() {
        return response;
    }
    let Some((vault, actor)) = scope.get() else {
        return response;
    };
    let refusal = response.extensions().get::<RecordedRefusal>();
    let failure = response.extensions().get::<FailedWith>();
    if failure.is_none()
        && crate::web::QUIET_ROUTES
            .iter()
            .any(|(m, p)| *m == method.as_str() && *p == matched)
    {
        return response;
    }
    let (outcome, severity, detail) = match failure {
        None => (
            Outcome::Allowed,
            // Reads are routine; Vault's LIST verb is a read too.
            if matches!(method.as_str(), "GET" | "HEAD" | "LIST") {
                Severity::Info
            } else {
                Severity::Notice
            },
            String::new(),
        ),
        Some(failed) => {
            let outcome = Outcome::of_failure(failed.code);
            let severity = if outcome == Outcome::Denied || response.status().is_server_error() {
                Severity::Warning
            } else {
                Severity::Info
            };
            // A body that did not parse is described, not quoted: the parser's message
            // can hold part of the input, and the input can be a secret.
            let detail = match failed.code {
                ErrorCode::InvalidRequest => "the request could not be read".to_owned(),
                _ => failed.message.clone(),
            };
            (outcome, severity, detail)
        }
    };
    let (action, target) = match refusal {
        Some(refusal) => (refusal.action.clone(), refusal.target.clone()),
        None => (action_of(&method, &matched), target),
    };
    origin.recorded = RecordedMark::default();
    let entry = AuditEntry {
        vault: vault.to_string(),
        actor,
        action,
        target,
        outcome,
        severity,
        origin,
        detail,
    };
    match state.store.record_audit(entry).await {
        Ok(()) => response,
        Err(e) => {
            tracing::error!(error = %e, "an audit entry could not be written; the answer is withheld");
            ApiError(Error::internal(format!("audit write failed: {e}"))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn documented_routes() -> BTreeSet<(String, String)> {
        let doc = crate::routes::openapi_document();
        let mut routes = BTreeSet::new();
        for (path, item) in &doc.paths.paths {
            let Some(path) = path.strip_prefix("/api/v1") else {
                continue; // /healthz answers without anyone signed in
            };
            for (method, operation) in [
                ("GET", &item.get),
                ("PUT", &item.put),
                ("POST", &item.post),
                ("DELETE", &item.delete),
                ("PATCH", &item.patch),
            ] {
                if operation.is_some() {
                    routes.insert((method.to_owned(), path.to_owned()));
                }
            }
        }
        routes
    }

    #[test]
    fn every_api_route_names_its_audit_action() {
        let named: BTreeSet<(String, String)> = ROUTE_ACTIONS
            .iter()
            .map(|(m, p, _)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        let missing: Vec<_> = documented_routes().difference(&named).cloned().collect();
        assert!(
            missing.is_empty(),
            "add these to ROUTE_ACTIONS: {missing:?}"
        );
    }

    #[test]
    fn the_action_table_names_no_route_that_does_not_exist() {
        let routes = documented_routes();
        let stale: Vec<_> = ROUTE_ACTIONS
            .iter()
            .filter(|(m, p, _)| !routes.contains(&((*m).to_owned(), (*p).to_owned())))
            .collect();
        assert!(
            stale.is_empty(),
            "remove these from ROUTE_ACTIONS: {stale:?}"
        );
    }

    #[test]
    fn action_names_are_lowercase_family_dot_verb() {
        for (_, _, action) in ROUTE_ACTIONS {
            let (family, verb) = action.split_once('.').unwrap_or_default();
            assert!(
                !family.is_empty()
                    && !verb.is_empty()
                    && action
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c == '.' || c == '_'),
                "{action}"
            );
        }
    }
}
