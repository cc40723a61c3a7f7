//! The dashboard's cookies and the callers they identify. A signed-in browser holds its
//! session token in an `HttpOnly` cookie scoped to `/ui` (the API never reads it, so the
//! API cannot be driven cross-site); a visitor holds a random pre-session secret so that
//! the sign-in and sign-up forms carry a CSRF token too. Each form's token is an HMAC of
//! the cookie's secret, so a page can embed it without ever exposing the cookie.

use super::page::WebError;
use crate::extract::Caller;
use crate::runtime_auth::RuntimeCaller;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum_extra::extract::cookie::{Cookie, CookieJar, SameSite};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use strongroom_core::authz::MACHINE_PLANE_ONLY;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::token::Token;

/// Holds a signed-in browser's session token.
pub const SESSION_COOKIE: &str = "strongroom_session";
/// Holds a visitor's pre-session secret, for the CSRF token of the sign-in forms.
pub const VISITOR_COOKIE: &str = "strongroom_visitor";
/// Where the dashboard's cookies are sent.
const COOKIE_PATH: &str = "/ui";

/// The CSRF token for forms of whoever holds the cookie secret `secret`.
pub fn csrf_token(secret: &str) -> String {
    // HMAC accepts keys of any length; this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .unwrap_or_else(|_| unreachable!("HMAC takes keys of any length"));
    mac.update(b"strongroom dashboard csrf v1");
    hex::encode(mac.finalize().into_bytes())
}

fn cookie(name: &'static str, value: String, https: bool, max_age_secs: i64) -> Cookie<'static> {
    Cookie::build((name, value))
        .path(COOKIE_PATH)
        .http_only(true)
        .secure(https)
        .same_site(SameSite::Lax)
        .max_age(time::Duration::seconds(max_age_secs))
        .build()
}

/// The cookie that signs this browser in with `token`.
pub fn session_cookie(state: &AppState, token: String) -> Cookie<'static> {
    cookie(
        SESSION_COOKIE,
        token,
        state.https,
        state.settings.session_ttl_ms / 1000,
    )
}

/// Cookies that sign this browser out.
pub fn signed_out(state: &AppState, jar: CookieJar) -> CookieJar {
    jar.add(cookie(SESSION_COOKIE, String::new(), state.https, 0))
}

/// A signed-in member on a dashboard page: the same [`Caller`] the API builds from a
/// bearer token, and the CSRF token for the page's forms.
pub struct Member {
    pub caller: Caller,
    pub csrf: String,
}

impl FromRequestParts<AppState> for Member {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        if parts.extensions.get::<RuntimeCaller>().is_some() {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                format!("permission denied: {MACHINE_PLANE_ONLY}"),
            )
            .into());
        }
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
        else {
            return Err(WebError::SignIn);
        };
        let csrf = csrf_token(&token);
        let token = Token::from_presented(token);
        match Caller::from_session_token(parts, state, &token).await {
            Ok(caller) => Ok(Self { caller, csrf }),
            Err(e) if e.0.code() == ErrorCode::Unauthenticated => Err(WebError::SignIn),
            Err(e) => Err(e.into()),
        }
    }
}

/// Someone not (yet) signed in, on the sign-in and sign-up pages. When the browser has
/// no visitor secret yet, one is made and must be set with the page.
pub struct Visitor {
    pub csrf: String,
    pub jar: CookieJar,
}

impl FromRequestParts<AppState> for Visitor {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let jar = CookieJar::from_headers(&parts.headers);
        if let Some(secret) = jar.get(VISITOR_COOKIE).map(|c| c.value().to_owned())
            && !secret.is_empty()
        {
            return Ok(Self {
                csrf: csrf_token(&secret),
                jar,
            });
        }
        let secret = hex::encode(strongroom_crypto::random::random_bytes::<32>()?);
        let csrf = csrf_token(&secret);
        let jar = jar.add(cookie(VISITOR_COOKIE, secret, state.https, 24 * 60 * 60));
        Ok(Self { csrf, jar })
    }
}

impl Member {
    /// The member as a data-plane requester, for the API's secret and structure handlers.
    pub fn requester(&self) -> crate::extract::Requester {
        crate::extract::Requester {
            principal: self.caller.principal.clone(),
            machine: None,
        }
    }
}

/// The session this browser was signed in with, if any and still valid: signing in or up
/// again ends it, so no session is left behind that the browser can no longer sign out.
pub struct PriorSession(pub Option<Caller>);

impl FromRequestParts<AppState> for PriorSession {
    type Rejection = WebError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, WebError> {
        let jar = CookieJar::from_headers(&parts.headers);
        let Some(token) = jar
            .get(SESSION_COOKIE)
            .map(|c| c.value().to_owned())
            .filter(|v| !v.is_empty())
        else {
            return Ok(Self(None));
        };
        let token = Token::from_presented(token);
        Ok(Self(
            Caller::from_session_token(parts, state, &token).await.ok(),
        ))
    }
}

impl PriorSession {
    /// Ends the prior session, if there was one.
    pub async fn end(self, state: &AppState) -> Result<(), WebError> {
        if let Some(caller) = self.0 {
            crate::routes::auth::logout(axum::extract::State(state.clone()), caller).await?;
        }
        Ok(())
    }
}
