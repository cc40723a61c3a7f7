//! The web dashboard under `/ui`: server-rendered pages (askama, checked at compile time)
//! with htmx served from the binary. Every page is an adapter over the API's own handlers:
//! it calls them with the member's session and renders what they return, so the dashboard
//! has no authorization of its own to drift from the API's.
//!
//! Every route is in [`ROUTE_ACTIONS`], which names the audit action it records.

mod access;
mod account;
mod assets;
mod audit;
mod csrf;
mod forms;
mod organization;
mod page;
mod roles;
mod secrets;
mod session;
mod settings;
mod vaults;
mod workloads;

pub use session::csrf_token;

use crate::state::AppState;
use axum::Router;
use axum::http::{HeaderName, HeaderValue, header};
use axum::response::Redirect;
use axum::routing::{get, post};
use tower_http::set_header::SetResponseHeaderLayer;

/// The action each dashboard route records, by method and full path.
pub const ROUTE_ACTIONS: &[(&str, &str, &str)] = &[
    ("GET", "/ui/signin", "dashboard.sign_in_page"),
    ("POST", "/ui/signin", "session.sign_in"),
    ("GET", "/ui/signup", "dashboard.sign_up_page"),
    ("POST", "/ui/signup", "account.signup"),
    ("POST", "/ui/signout", "session.sign_out"),
    ("GET", "/ui/verify", "account.read"),
    ("POST", "/ui/verify", "account.verify_email"),
    ("POST", "/ui/verify/resend", "account.resend_code"),
    ("GET", "/ui/account", "account.read"),
    ("POST", "/ui/account/totp", "account.totp_enrol"),
    ("POST", "/ui/account/totp/confirm", "account.totp_confirm"),
    (
        "POST",
        "/ui/account/recovery-codes",
        "account.recovery_codes",
    ),
    ("POST", "/ui/account/password", "account.change_password"),
    ("POST", "/ui/account/email", "account.change_email"),
    ("POST", "/ui/account/totp/disable", "account.totp_disable"),
    ("POST", "/ui/account/sessions/{id}/revoke", "session.revoke"),
    ("GET", "/ui/vaults", "vault.list"),
    ("POST", "/ui/vaults/switch", "session.switch_vault"),
    ("GET", "/ui/apps", "application.list"),
    ("POST", "/ui/apps", "application.create"),
    ("GET", "/ui/apps/{app}", "project.list"),
    ("POST", "/ui/apps/{app}", "project.create"),
    ("GET", "/ui/apps/{app}/{project}", "environment.list"),
    ("POST", "/ui/apps/{app}/{project}", "environment.create"),
    ("GET", "/ui/apps/{app}/{project}/{env}", "secret.list"),
    ("POST", "/ui/apps/{app}/{project}/{env}", "secret.write"),
    ("POST", "/ui/import/{app}/{project}/{env}", "secret.import"),
    (
        "GET",
        "/ui/apps/{app}/{project}/{env}/{name}",
        "secret.read",
    ),
    (
        "POST",
        "/ui/apps/{app}/{project}/{env}/{name}",
        "secret.write",
    ),
    (
        "POST",
        "/ui/apps/{app}/{project}/{env}/{name}/reveal",
        "secret.reveal",
    ),
    (
        "GET",
        "/ui/apps/{app}/{project}/{env}/{name}/access",
        "secret.access",
    ),
    ("GET", "/ui/access", "access.explain"),
    (
        "POST",
        "/ui/apps/{app}/{project}/{env}/{name}/rollback",
        "secret.rollback",
    ),
    (
        "POST",
        "/ui/apps/{app}/{project}/{env}/{name}/delete",
        "secret.delete",
    ),
    (
        "POST",
        "/ui/apps/{app}/{project}/{env}/{name}/versions/delete",
        "secret.delete_version",
    ),
    (
        "POST",
        "/ui/apps/{app}/{project}/{env}/{name}/versions/undelete",
        "secret.undelete_version",
    ),
    (
        "POST",
        "/ui/apps/{app}/{project}/{env}/{name}/versions/destroy",
        "secret.destroy_version",
    ),
    ("GET", "/ui/members", "member.list"),
    ("GET", "/ui/members/roster", "member.list"),
    ("GET", "/ui/members/roster/version", "member.roster_version"),
    ("POST", "/ui/members/{username}/role", "member.assign_role"),
    (
        "POST",
        "/ui/members/{username}/access-role",
        "member.assign_access_role",
    ),
    ("POST", "/ui/members/{username}/suspend", "member.suspend"),
    (
        "POST",
        "/ui/members/{username}/unsuspend",
        "member.unsuspend",
    ),
    ("POST", "/ui/members/{username}/remove", "member.remove"),
    ("POST", "/ui/invites", "member.invite"),
    ("POST", "/ui/invites/{id}/revoke", "member.invite_revoke"),
    ("POST", "/ui/links", "member.link_create"),
    ("POST", "/ui/links/{id}/revoke", "member.link_revoke"),
    ("GET", "/ui/invitations", "account.list_invites"),
    ("POST", "/ui/invitations/{id}/accept", "member.join"),
    (
        "POST",
        "/ui/invitations/{id}/decline",
        "member.invite_decline",
    ),
    ("POST", "/ui/invitations/join", "member.join"),
    ("GET", "/ui/organization", "vault.list"),
    ("POST", "/ui/organization/convert", "organization.convert"),
    ("POST", "/ui/organization/create", "organization.create"),
    ("POST", "/ui/organization/leave", "member.leave"),
    ("POST", "/ui/organization/transfer", "organization.transfer"),
    ("POST", "/ui/organization/delete", "organization.delete"),
    ("POST", "/ui/vaults/{vault}/restore", "organization.restore"),
    ("GET", "/ui/billing", "member.list"),
    ("GET", "/ui/roles", "vault_role.list"),
    ("POST", "/ui/roles", "vault_role.create"),
    ("GET", "/ui/roles/{name}", "vault_role.read"),
    ("POST", "/ui/roles/{name}", "vault_role.edit"),
    ("POST", "/ui/roles/{name}/delete", "vault_role.delete"),
    ("POST", "/ui/access-roles", "access_role.create"),
    (
        "POST",
        "/ui/access-roles/{role}/delete",
        "access_role.delete",
    ),
    ("GET", "/ui/access-roles/{role}", "access_role.read"),
    ("POST", "/ui/access-roles/{role}", "access_role.edit"),
    ("GET", "/ui/machines", "machine.list"),
    ("POST", "/ui/machines", "machine.register"),
    ("GET", "/ui/machines/{machine}", "machine.read"),
    ("POST", "/ui/machines/{machine}/attach", "machine.attach"),
    (
        "POST",
        "/ui/machines/{machine}/attachments/{app}/{project}/detach",
        "machine.detach",
    ),
    ("POST", "/ui/machines/{machine}/grant", "machine.grant"),
    (
        "POST",
        "/ui/machines/{machine}/grants/{app}/{project}/{env}/{name}/revoke",
        "machine.revoke",
    ),
    ("POST", "/ui/machines/{machine}/disable", "machine.disable"),
    ("POST", "/ui/machines/{machine}/enable", "machine.enable"),
    ("POST", "/ui/machines/{machine}/remove", "machine.remove"),
    (
        "POST",
        "/ui/machines/{machine}/approle",
        "machine.approle_issue",
    ),
    (
        "POST",
        "/ui/machines/{machine}/approle/{id}/revoke",
        "machine.approle_revoke",
    ),
    ("GET", "/ui/tokens", "token.list"),
    ("POST", "/ui/tokens", "token.create"),
    ("POST", "/ui/tokens/{token}/revoke", "token.revoke"),
    ("GET", "/ui/policies", "policy.list"),
    ("POST", "/ui/policies", "policy.create"),
    ("POST", "/ui/policies/{policy}/delete", "policy.delete"),
    ("GET", "/ui/allowlist", "allowlist.list"),
    ("POST", "/ui/allowlist", "allowlist.add"),
    ("POST", "/ui/allowlist/remove", "allowlist.remove"),
    ("GET", "/ui/alerts", "alert.list"),
    ("POST", "/ui/alerts", "alert.create"),
    ("POST", "/ui/alerts/{name}/delete", "alert.delete"),
    ("POST", "/ui/alerts/{name}/test", "alert.test"),
    ("GET", "/ui/audit", "audit.list"),
    ("GET", "/ui/audit/export", "audit.export"),
    ("GET", "/ui/trash", "secret.list_trash"),
    (
        "POST",
        "/ui/trash/{app}/{project}/{env}/{name}/restore",
        "secret.restore",
    ),
    (
        "POST",
        "/ui/trash/{app}/{project}/{env}/{name}/purge",
        "secret.purge",
    ),
];

/// Routes whose successful answers are not audit entries: a page's own polling, which
/// shows only whether something changed (a refusal is still recorded).
pub const QUIET_ROUTES: &[(&str, &str)] = &[("GET", "/ui/members/roster/version")];

/// What the pages may load: their own scripts and styles only, nothing inline, no frames.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
     base-uri 'none'";

fn header_layer(name: HeaderName, value: &'static str) -> SetResponseHeaderLayer<HeaderValue> {
    SetResponseHeaderLayer::overriding(name, HeaderValue::from_static(value))
}

/// Tells browsers to keep to HTTPS, when the dashboard is served over it.
async fn strict_transport(
    axum::extract::State(https): axum::extract::State<bool>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let mut response = next.run(request).await;
    if https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    response
}

/// The dashboard's routes (to be nested at `/ui`), with CSRF protection and its headers.
pub fn router(state: &AppState) -> Router<AppState> {
    Router::new()
        .route("/", get(|| async { Redirect::to("/ui/vaults") }))
        .route("/assets/{file}", get(assets::asset))
        .route("/signin", get(account::signin_page).post(account::signin))
        .route("/signup", get(account::signup_page).post(account::signup))
        .route("/signout", post(account::signout))
        .route("/verify", get(account::verify_page).post(account::verify))
        .route("/verify/resend", post(account::resend_code))
        .route("/account", get(account::account_page))
        .route("/account/totp", post(account::totp_begin))
        .route("/account/totp/confirm", post(account::totp_confirm))
        .route("/account/recovery-codes", post(account::recovery_codes))
        .route("/account/password", post(account::change_password))
        .route("/account/email", post(account::change_email))
        .route("/account/totp/disable", post(account::totp_disable))
        .route(
            "/account/sessions/{id}/revoke",
            post(account::revoke_session),
        )
        .route("/vaults", get(vaults::vaults_page))
        .route("/vaults/switch", post(vaults::switch))
        .route("/apps", get(secrets::apps_page).post(secrets::create_app))
        .route(
            "/apps/{app}",
            get(secrets::projects_page).post(secrets::create_project),
        )
        .route(
            "/apps/{app}/{project}",
            get(secrets::environments_page).post(secrets::create_environment),
        )
        .route(
            "/apps/{app}/{project}/{env}",
            get(secrets::secrets_page).post(secrets::create_secret),
        )
        .route(
            "/apps/{app}/{project}/{env}/{name}",
            get(secrets::secret_page).post(secrets::write_version),
        )
        // Not under /apps/…/{env}/, where it would shadow a secret named "import".
        .route("/import/{app}/{project}/{env}", post(secrets::import))
        .route(
            "/apps/{app}/{project}/{env}/{name}/reveal",
            post(secrets::reveal),
        )
        .route(
            "/apps/{app}/{project}/{env}/{name}/access",
            get(access::secret_access_page),
        )
        .route("/access", get(access::my_access_page))
        .route(
            "/apps/{app}/{project}/{env}/{name}/rollback",
            post(secrets::rollback),
        )
        .route(
            "/apps/{app}/{project}/{env}/{name}/delete",
            post(secrets::delete),
        )
        .route(
            "/apps/{app}/{project}/{env}/{name}/versions/delete",
            post(secrets::delete_version),
        )
        .route(
            "/apps/{app}/{project}/{env}/{name}/versions/undelete",
            post(secrets::undelete_version),
        )
        .route(
            "/apps/{app}/{project}/{env}/{name}/versions/destroy",
            post(secrets::destroy_version),
        )
        .route("/members", get(organization::members_page))
        .route("/members/roster", get(organization::roster))
        .route("/members/roster/version", get(organization::roster_version))
        .route("/members/{username}/role", post(organization::set_role))
        .route(
            "/members/{username}/access-role",
            post(organization::set_access_role),
        )
        .route("/members/{username}/suspend", post(organization::suspend))
        .route(
            "/members/{username}/unsuspend",
            post(organization::unsuspend),
        )
        .route("/members/{username}/remove", post(organization::remove))
        .route("/invites", post(organization::invite))
        .route("/invites/{id}/revoke", post(organization::revoke_invite))
        .route("/links", post(organization::create_link))
        .route("/links/{id}/revoke", post(organization::revoke_link))
        .route("/invitations", get(organization::invitations_page))
        .route("/invitations/{id}/accept", post(organization::accept))
        .route("/invitations/{id}/decline", post(organization::decline))
        .route("/invitations/join", post(organization::join))
        .route("/organization", get(organization::organization_page))
        .route("/organization/convert", post(organization::convert))
        .route("/organization/create", post(organization::create))
        .route("/organization/leave", post(organization::leave))
        .route("/organization/transfer", post(organization::transfer))
        .route("/organization/delete", post(organization::delete))
        .route("/vaults/{vault}/restore", post(organization::restore))
        .route("/billing", get(organization::billing_page))
        .route(
            "/roles",
            get(roles::roles_page).post(roles::create_vault_role),
        )
        .route(
            "/roles/{name}",
            get(roles::vault_role_page).post(roles::save_vault_role),
        )
        .route("/roles/{name}/delete", post(roles::delete_vault_role))
        .route("/access-roles", post(roles::create_access_role))
        .route(
            "/access-roles/{role}/delete",
            post(roles::delete_access_role),
        )
        .route(
            "/access-roles/{role}",
            get(roles::access_role_page).post(roles::save_access_role),
        )
        .route(
            "/machines",
            get(workloads::machines_page).post(workloads::register),
        )
        .route("/machines/{machine}", get(workloads::machine_page))
        .route("/machines/{machine}/attach", post(workloads::attach))
        .route(
            "/machines/{machine}/attachments/{app}/{project}/detach",
            post(workloads::detach),
        )
        .route("/machines/{machine}/grant", post(workloads::grant))
        .route(
            "/machines/{machine}/grants/{app}/{project}/{env}/{name}/revoke",
            post(workloads::revoke_grant),
        )
        .route("/machines/{machine}/disable", post(workloads::disable))
        .route("/machines/{machine}/enable", post(workloads::enable))
        .route("/machines/{machine}/remove", post(workloads::remove))
        .route(
            "/machines/{machine}/approle",
            post(workloads::issue_approle),
        )
        .route(
            "/machines/{machine}/approle/{id}/revoke",
            post(workloads::revoke_approle),
        )
        .route(
            "/tokens",
            get(workloads::tokens_page).post(workloads::create_token),
        )
        .route("/tokens/{token}/revoke", post(workloads::revoke_token))
        .route(
            "/policies",
            get(workloads::policies_page).post(workloads::create_policy),
        )
        .route("/policies/{policy}/delete", post(workloads::delete_policy))
        .route(
            "/allowlist",
            get(settings::allowlist_page).post(settings::allow),
        )
        .route("/allowlist/remove", post(settings::disallow))
        .route(
            "/alerts",
            get(settings::alerts_page).post(settings::create_alert),
        )
        .route("/alerts/{name}/delete", post(settings::delete_alert))
        .route("/alerts/{name}/test", post(settings::test_alert))
        .route("/audit", get(audit::audit_page))
        .route("/audit/export", get(audit::export))
        .route("/trash", get(secrets::trash_page))
        .route(
            "/trash/{app}/{project}/{env}/{name}/restore",
            post(secrets::restore),
        )
        .route(
            "/trash/{app}/{project}/{env}/{name}/purge",
            post(secrets::purge),
        )
        .fallback(page::not_found)
        .layer(axum::middleware::from_fn_with_state(
            csrf::Guard {
                max_body: state.settings.max_body_bytes,
                https: state.https,
            },
            csrf::protect,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.https,
            strict_transport,
        ))
        .layer(header_layer(
            header::CONTENT_SECURITY_POLICY,
            CONTENT_SECURITY_POLICY,
        ))
        .layer(header_layer(header::X_FRAME_OPTIONS, "DENY"))
        .layer(header_layer(header::REFERRER_POLICY, "same-origin"))
        .layer(header_layer(
            HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ))
}

#[cfg(test)]
mod tests {
    use super::ROUTE_ACTIONS;
    use std::collections::BTreeSet;

    #[test]
    fn dashboard_action_names_are_lowercase_family_dot_verb() {
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

    #[test]
    fn every_dashboard_route_is_listed_once_under_ui() {
        let mut seen = BTreeSet::new();
        for (method, path, _) in ROUTE_ACTIONS {
            assert!(path.starts_with("/ui/"), "{path}");
            assert!(matches!(*method, "GET" | "POST"), "{method} {path}");
            assert!(seen.insert((method, path)), "{method} {path} twice");
        }
    }
}
