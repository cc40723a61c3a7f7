//! The route table. Every API route is registered through `OpenApiRouter`, so a route
//! cannot exist without being in the OpenAPI document; anything unmatched gets the API's
//! error shape (`route_not_found`, `method_not_allowed`).

pub(crate) mod access_roles;
pub(crate) mod alerts;
pub(crate) mod allowlist;
pub(crate) mod audit;
pub(crate) mod auth;
pub(crate) mod brokered;
pub(crate) mod check;
pub(crate) mod email;
pub(crate) mod health;
pub(crate) mod invites;
pub(crate) mod machines;
pub(crate) mod members;
pub(crate) mod policies;
pub(crate) mod roles;

pub use roles::built_in as built_in_role;
pub(crate) mod secrets;
pub(crate) mod sessions;
pub(crate) mod structure;
pub(crate) mod tokens;
pub(crate) mod totp;
pub(crate) mod vaults;

use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, HeaderValue, Request, Response, header};
use axum::response::IntoResponse;
use axum::{Extension, Router};
use std::sync::Arc;
use strongroom_core::{Error, ErrorCode};
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use utoipa::openapi::security::{ApiKey, ApiKeyValue, Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Strongroom API",
        description = "Self-hosted secrets manager. Authenticate with `Authorization: Bearer <token>` \
                       from `POST /api/v1/auth/login`. Errors are `{\"error\": {\"code\", \"message\"}}` \
                       with stable codes; lists take `?limit=&cursor=` and return `next_cursor`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "health", description = "Liveness"),
        (name = "auth", description = "Accounts, sessions, TOTP and step-up"),
        (name = "vaults", description = "Vaults and organizations: list, switch, create, convert, transfer, leave, delete, restore"),
        (name = "members", description = "The member roster, invites and invite links"),
        (name = "structure", description = "Applications, projects and environments"),
        (name = "secrets", description = "Secrets, versions and the trash"),
        (name = "machines", description = "Machines: Ed25519 identities for workloads"),
        (name = "tokens", description = "Agent and CI tokens"),
        (name = "policies", description = "Access policies on machines and tokens"),
        (name = "allowlist", description = "The vault's IP allowlist"),
        (name = "audit", description = "The audit log: entries and the hash chain's check"),
        (name = "alerts", description = "Alert rules: audit entries sent to webhooks and email"),
        (name = "meta", description = "This document")
    )
)]
struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "bearer",
                SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
            );
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme(
                "machine",
                SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                    "Authorization",
                    "A signed machine request: `Strongroom-Ed25519 vault=…, key=SHA256:…, ts=…, \
                     nonce=…, digest=…, sig=…` (see docs/api.md)",
                ))),
            );
    }
}

/// The OpenAPI document, pretty-printed once.
#[derive(Clone)]
struct Document(Arc<String>);

/// This OpenAPI document.
#[utoipa::path(get, path = "/openapi.json", tag = "meta",
    responses((status = 200, description = "The OpenAPI 3.1 document for this API")))]
async fn openapi_json(Extension(doc): Extension<Document>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        doc.0.as_str().to_owned(),
    )
}

fn api_v1() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(openapi_json))
        .routes(routes!(auth::signup))
        .routes(routes!(auth::login))
        .routes(routes!(auth::logout))
        .routes(routes!(auth::whoami))
        .routes(routes!(auth::step_up))
        .routes(routes!(auth::change_password))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(sessions::revoke_session))
        .routes(routes!(totp::begin, totp::disable))
        .routes(routes!(totp::confirm))
        .routes(routes!(totp::regenerate_recovery_codes))
        .routes(routes!(email::verify_email))
        .routes(routes!(email::resend_code))
        .routes(routes!(email::change_email))
        .routes(routes!(vaults::list_vaults))
        .routes(routes!(vaults::switch_vault))
        .routes(routes!(vaults::create_organization))
        .routes(routes!(vaults::convert_vault))
        .routes(routes!(vaults::transfer_ownership))
        .routes(routes!(vaults::leave_vault))
        .routes(routes!(vaults::delete_organization))
        .routes(routes!(vaults::restore_organization))
        .routes(routes!(members::list_members))
        .routes(routes!(members::suspend_member))
        .routes(routes!(members::unsuspend_member))
        .routes(routes!(members::remove_member))
        .routes(routes!(members::set_member_role))
        .routes(routes!(roles::list_roles, roles::create_role))
        .routes(routes!(
            access_roles::list_access_roles,
            access_roles::create_access_role
        ))
        .routes(routes!(
            access_roles::get_access_role,
            access_roles::edit_access_role,
            access_roles::delete_access_role
        ))
        .routes(routes!(access_roles::preview_access_role))
        .routes(routes!(access_roles::set_member_access_role))
        .routes(routes!(check::check))
        .routes(routes!(
            roles::get_role,
            roles::edit_role,
            roles::delete_role
        ))
        .routes(routes!(roles::preview_role))
        .routes(routes!(machines::list_machines, machines::register_machine))
        .routes(routes!(machines::get_machine, machines::remove_machine))
        .routes(routes!(machines::disable_machine))
        .routes(routes!(machines::enable_machine))
        .routes(routes!(machines::attach_machine))
        .routes(routes!(machines::detach_machine))
        .routes(routes!(machines::grant_machine))
        .routes(routes!(machines::revoke_machine_grant))
        .routes(routes!(machines::own_machine))
        .routes(routes!(machines::issue_approle, machines::list_approle))
        .routes(routes!(machines::revoke_approle))
        .routes(routes!(tokens::list_tokens, tokens::create_token))
        .routes(routes!(tokens::revoke_token))
        .routes(routes!(policies::list_policies, policies::create_policy))
        .routes(routes!(policies::get_policy, policies::delete_policy))
        .routes(routes!(
            allowlist::list_allowlist,
            allowlist::allow_range,
            allowlist::disallow_range
        ))
        .routes(routes!(invites::send_invite, invites::list_invites))
        .routes(routes!(invites::revoke_invite))
        .routes(routes!(invites::received_invites))
        .routes(routes!(invites::accept_invite))
        .routes(routes!(invites::decline_invite))
        .routes(routes!(invites::create_link, invites::list_links))
        .routes(routes!(invites::revoke_link))
        .routes(routes!(invites::join_by_link))
        .routes(routes!(structure::list_apps, structure::create_app))
        .routes(routes!(structure::list_projects, structure::create_project))
        .routes(routes!(structure::list_envs, structure::create_env))
        .routes(routes!(secrets::list_secrets))
        .routes(routes!(secrets::environment_values))
        .routes(routes!(secrets::import))
        .routes(routes!(
            secrets::get_secret,
            secrets::put_secret,
            secrets::delete_secret
        ))
        .routes(routes!(secrets::reveal_secret))
        .routes(routes!(secrets::set_secret_use, secrets::clear_secret_use))
        .routes(routes!(brokered::use_secret))
        .routes(routes!(secrets::list_versions))
        .routes(routes!(secrets::rollback))
        .routes(routes!(secrets::delete_versions))
        .routes(routes!(secrets::undelete_versions))
        .routes(routes!(secrets::destroy_versions))
        .routes(routes!(secrets::restore_secret))
        .routes(routes!(secrets::purge_secret))
        .routes(routes!(secrets::list_trash))
        .routes(routes!(audit::list_audit))
        .routes(routes!(audit::verify_audit))
        .routes(routes!(alerts::create_alert, alerts::list_alerts))
        .routes(routes!(alerts::delete_alert))
        .routes(routes!(alerts::test_alert))
}

fn split() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(health::healthz))
        .nest("/api/v1", api_v1())
        .split_for_parts()
}

/// The OpenAPI document of every route the server serves.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    split().1
}

async fn route_not_found() -> ApiError {
    Error::new(
        ErrorCode::RouteNotFound,
        "no such API route; see /api/v1/openapi.json",
    )
    .into()
}

async fn method_not_allowed() -> ApiError {
    Error::new(
        ErrorCode::MethodNotAllowed,
        "this route does not accept that HTTP method",
    )
    .into()
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response<axum::body::Body> {
    tracing::error!("a request handler panicked");
    ApiError(Error::internal("handler panicked")).into_response()
}

/// Refuses a body whose declared length is over the limit before reading any of it
/// (bodies without a length are still cut off at the limit while being read).
async fn refuse_declared_oversize(
    axum::extract::State(max): axum::extract::State<usize>,
    request: Request<axum::body::Body>,
    next: axum::middleware::Next,
) -> Response<axum::body::Body> {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > max as u64) {
        return ApiError(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("request body is larger than {max} bytes"),
        ))
        .into_response();
    }
    next.run(request).await
}

#[derive(Clone, Default)]
struct RandomRequestId;

impl MakeRequestId for RandomRequestId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let bytes = strongroom_crypto::random::random_bytes::<8>().ok()?;
        HeaderValue::from_str(&hex_string(&bytes))
            .ok()
            .map(RequestId::new)
    }
}

fn hex_string(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The whole application: API, OpenAPI document, error fallbacks and middleware.
pub fn build(state: AppState) -> Router {
    let (router, doc) = split();
    let doc = Document(Arc::new(
        doc.to_pretty_json().unwrap_or_else(|_| "{}".into()),
    ));
    let request_id = HeaderName::from_static("x-request-id");
    let max_body = state.settings.max_body_bytes;
    let trusted_proxies = state.trusted_proxies.clone();
    router
        .merge(crate::kv::router())
        .nest("/ui", crate::web::router(&state))
        .route(
            "/",
            axum::routing::get(|| async { axum::response::Redirect::to("/ui/vaults") }),
        )
        .route(
            "/ui/",
            axum::routing::get(|| async { axum::response::Redirect::to("/ui/vaults") }),
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::audit_layer::record_requests,
        ))
        .fallback(route_not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .with_state(state.clone())
        .layer(axum::middleware::from_fn_with_state(
            state,
            crate::runtime_auth::authenticate_runtime,
        ))
        .layer(Extension(doc))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(axum::middleware::from_fn_with_state(max_body, refuse_declared_oversize))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(axum::middleware::from_fn_with_state(
            trusted_proxies,
            crate::client_ip::resolve,
        ))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request<_>| {
            let id = req
                .headers()
                .get("x-request-id")
                .and_then(|v| v.to_str().ok())
                .unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(PropagateRequestIdLayer::new(request_id.clone()))
        .layer(SetRequestIdLayer::new(request_id, RandomRequestId))
}
