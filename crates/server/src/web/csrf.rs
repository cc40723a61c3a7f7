//! Cross-site request forgery: every state-changing dashboard request must come from this
//! site (the browser's `Origin`, scheme included, or `Sec-Fetch-Site` says so) and carry
//! the form token bound to the browser's session (a `csrf` form field, or
//! `X-CSRF-Token` for htmx). Only the sign-in and sign-up forms, which come before any
//! session, take the token bound to the visitor cookie instead. Both checks run before
//! any handler; a refusal changes nothing.

use super::page::WebError;
use super::session::{SESSION_COOKIE, VISITOR_COOKIE, csrf_token};
use axum::body::Body;
use axum::extract::{OriginalUri, Request, State};
use axum::http::{HeaderMap, Method, Uri, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum_extra::extract::cookie::CookieJar;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token::constant_time_eq;

/// The form field that carries the token.
pub const FIELD: &str = "csrf";
/// The header htmx sends it in.
pub const HEADER: &str = "x-csrf-token";
/// The forms that come before a session, which take the visitor cookie's token.
const BEFORE_A_SESSION: [&str; 2] = ["/ui/signin", "/ui/signup"];

/// What the check needs to know about the server.
#[derive(Clone, Copy)]
pub struct Guard {
    /// Largest form read.
    pub max_body: usize,
    /// Whether browsers reach the dashboard over HTTPS (so the origin's scheme is https).
    pub https: bool,
}

fn refused(why: &str) -> Response {
    WebError::from(Error::new(
        ErrorCode::PermissionDenied,
        format!("refused: {why}. Reload the page and submit the form again."),
    ))
    .into_response()
}

/// Whether the browser says the request comes from a page of this site. The host is the
/// `Host` header or, over HTTP/2, the request's `:authority`; the scheme is the one
/// browsers use to reach the dashboard. A request with neither `Origin` nor
/// `Sec-Fetch-Site` is not from a modern browser's cross-site form; the token decides.
pub fn same_origin(headers: &HeaderMap, uri: &Uri, https: bool) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok())
        && !matches!(site, "same-origin" | "none")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .or_else(|| uri.authority().map(|a| a.as_str()));
    let Some(host) = host else {
        return false;
    };
    let scheme = if https { "https" } else { "http" };
    origin
        .to_str()
        .is_ok_and(|o| o.eq_ignore_ascii_case(&format!("{scheme}://{host}")))
}

fn presented_token(headers: &HeaderMap, body: &[u8]) -> Option<String> {
    if let Some(value) = headers.get(HEADER).and_then(|v| v.to_str().ok()) {
        return Some(value.to_owned());
    }
    form_urlencoded::parse(body)
        .find(|(name, _)| name == FIELD)
        .map(|(_, value)| value.into_owned())
}

/// The tokens a request to `path` may carry: the session's, and before a session the
/// visitor cookie's.
fn expected_tokens(headers: &HeaderMap, path: &str) -> Vec<String> {
    let jar = CookieJar::from_headers(headers);
    let mut cookies = vec![SESSION_COOKIE];
    if BEFORE_A_SESSION.contains(&path) {
        cookies.push(VISITOR_COOKIE);
    }
    cookies
        .iter()
        .filter_map(|name| jar.get(name))
        .map(|c| c.value())
        .filter(|v| !v.is_empty())
        .map(csrf_token)
        .collect()
}

/// The middleware, on every dashboard route.
pub async fn protect(State(guard): State<Guard>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    // Inside the nested router the URI has lost its `/ui` prefix; the original has it.
    let uri = request
        .extensions()
        .get::<OriginalUri>()
        .map_or_else(|| request.uri().clone(), |original| original.0.clone());
    if !same_origin(request.headers(), &uri, guard.https) {
        return refused("this form was sent from another site");
    }
    let expected = expected_tokens(request.headers(), uri.path());
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, guard.max_body).await else {
        return WebError::from(Error::new(
            ErrorCode::PayloadTooLarge,
            format!("the form is larger than {} bytes", guard.max_body),
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.insert(*name, HeaderValue::from_static(value));
        }
        map
    }

    fn uri(text: &str) -> Uri {
        text.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn an_origin_matching_the_host_and_scheme_is_this_site() {
        let h = headers(&[
            ("host", "vault.example.com"),
            ("origin", "https://vault.example.com"),
        ]);
        assert!(same_origin(&h, &uri("/ui/apps"), true));
    }

    #[test]
    fn over_http2_the_authority_stands_in_for_the_missing_host_header() {
        let h = headers(&[("origin", "https://vault.example.com:8443")]);
        assert!(same_origin(
            &h,
            &uri("https://vault.example.com:8443/ui/apps"),
            true
        ));
        assert!(!same_origin(&h, &uri("/ui/apps"), true), "no host at all");
    }

    #[test]
    fn the_origin_scheme_must_be_the_one_the_site_is_served_over() {
        let h = headers(&[
            ("host", "vault.example.com"),
            ("origin", "http://vault.example.com"),
        ]);
        assert!(!same_origin(&h, &uri("/ui/apps"), true));
        assert!(same_origin(&h, &uri("/ui/apps"), false));
    }

    #[test]
    fn another_host_a_null_origin_or_a_cross_site_fetch_is_refused() {
        for origin in [
            "https://evil.example",
            "null",
            "https://vault.example.com.evil.example",
        ] {
            let mut h = headers(&[("host", "vault.example.com")]);
            h.insert("origin", HeaderValue::from_static(origin));
            assert!(!same_origin(&h, &uri("/ui/apps"), true), "{origin}");
        }
        let h = headers(&[
            ("host", "vault.example.com"),
            ("sec-fetch-site", "cross-site"),
        ]);
        assert!(!same_origin(&h, &uri("/ui/apps"), true));
    }

    #[test]
    fn only_the_sign_in_forms_take_the_visitor_cookies_token() {
        let h = headers(&[("cookie", "strongroom_visitor=abc")]);
        assert_eq!(expected_tokens(&h, "/ui/signin"), vec![csrf_token("abc")]);
        assert!(expected_tokens(&h, "/ui/apps").is_empty());
        let both = headers(&[("cookie", "strongroom_visitor=abc; strongroom_session=srs_x")]);
        assert_eq!(
            expected_tokens(&both, "/ui/apps"),
            vec![csrf_token("srs_x")]
        );
    }
}
