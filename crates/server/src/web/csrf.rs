//! Cross-site request forgery: every state-changing dashboard request must come from this
//! site (the browser's `Origin`, or `Sec-Fetch-Site`, says so) and carry the form token
//! bound to the browser's cookie secret (a `csrf` form field, or `X-CSRF-Token` for
//! htmx). Both checks run before any handler; a refusal changes nothing.

use super::page::WebError;
use super::session::{SESSION_COOKIE, VISITOR_COOKIE, csrf_token};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token::constant_time_eq;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
/// The header htmx sends it in.
pub const HEADER: &str = "x-csrf-token";

fn refused(why: &str) -> Response {
    WebError::from(Error::new(
        ErrorCode::PermissionDenied,
        format!("refused: {why}. Reload the page and submit the form again."),
    ))
    .into_response()
}

/// Whether the browser says the request comes from a page of this site. A request with
/// neither header is not from a modern browser's cross-site form; the token decides.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers.get(header::HOST).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let origin = origin.to_str().unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"));
    origin_host.is_some_and(|o| o.eq_ignore_ascii_case(host))
}

fn presented_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(value) = headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        return Some(value.to_owned());
    }
    form_urlencoded::parse(body)
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned())
}

/// The middleware, on every dashboard route.
pub async fn protect(State(max_body): State<usize>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    if !same_origin(request.headers()) {
        return refused("this form was sent from another site");
    }
    let jar = CookieJar::from_headers(request.headers());
    let expected: Vec<String> = [SESSION_COOKIE, VISITOR_COOKIE]
        .iter()
        .filter_map(|name| jar.get(name))
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
        .map(csrf_token)
        .collect();
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, max_body).await else {
        return WebError::from(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("the form is larger than {max_body} bytes"),
        ))
        .into_response();
    };
    let presented = presented_token(&parts.headers, &bytes);
    let valid = presented.is_some_and(|token| {
        expected
            .iter()
            .any(|e| constant_time_eq(e.as_bytes(), token.as_bytes()))
    });
    if !valid {
        return refused("the form's security token is missing or out of date");
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}
