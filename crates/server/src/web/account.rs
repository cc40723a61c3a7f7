//! Signing up, in and out; verifying the email address; TOTP with a QR code and recovery
//! codes; the member's own sessions. Each handler calls the API handler of the same name.

use super::forms::{self, Code, Empty, SignIn, SignUp, StepUp, WebForm};
use super::page::{Chrome, WebError, render};
use super::session::{Member, PriorSession, Visitor, session_cookie, signed_out};
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientMeta, ListParams};
use crate::routes::{auth, email, sessions, totp};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum_extra::extract::cookie::CookieJar;
use base64::Engine;
use strongroom_core::ErrorCode;
use strongroom_proto::{
    LoginRequest, SessionInfo, SignupRequest, StepUpRequest, TotpCodeRequest, UserInfo,
    VerifyEmailRequest,
};

#[derive(Template)]
#[template(path = "signin.html")]
struct SignInPage {
    csrf: String,
    username: String,
    error: Option<String>,
    /// Whether to point at the code field: the account has TOTP on.
    code_needed: bool,
}

#[derive(Template)]
#[template(path = "signup.html")]
struct SignUpPage {
    csrf: String,
    username: String,
    email: String,
    error: Option<String>,
}

/// `GET /ui/signin`.
pub async fn signin_page(visitor: Visitor) -> Result<impl IntoResponse, WebError> {
    let page = render(&SignInPage {
        csrf: visitor.csrf,
        username: String::new(),
        error: None,
        code_needed: false,
    })?;
    Ok((visitor.jar, page))
}

/// `POST /ui/signin`: password, and the TOTP or a recovery code when enrolled.
pub async fn signin(
    State(state): State<AppState>,
    meta: ClientMeta,
    visitor: Visitor,
    prior: PriorSession,
    WebForm(form): WebForm<SignIn>,
) -> Result<Response, WebError> {
    let request = LoginRequest {
        username: form.username.trim().to_owned(),
        password: form.password,
        totp_code: forms::given(form.code),
        recovery_code: form.recovery_code.filter(|c| !c.expose().trim().is_empty()),
    };
    let username = request.username.clone();
    match auth::login(State(state.clone()), meta, ApiJson(request)).await {
        Ok(ApiJson(done)) => {
            prior.end(&state).await?;
            let jar = visitor
                .jar
                .add(session_cookie(&state, done.token.into_inner()));
            Ok((jar, Redirect::to("/ui/vaults")).into_response())
        }
        Err(e)
            if matches!(
                e.0.code(),
                ErrorCode::InvalidCredentials
                    | ErrorCode::TotpRequired
                    | ErrorCode::InvalidTotp
                    | ErrorCode::RateLimited
                    | ErrorCode::InvalidRequest
            ) =>
        {
            let code_needed =
                matches!(e.0.code(), ErrorCode::TotpRequired | ErrorCode::InvalidTotp);
            let page = render(&SignInPage {
                csrf: visitor.csrf,
                username,
                error: Some(e.0.message().to_owned()),
                code_needed,
            })?;
            Ok((StatusCode::UNAUTHORIZED, visitor.jar, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /ui/signup`.
pub async fn signup_page(visitor: Visitor) -> Result<impl IntoResponse, WebError> {
    let page = render(&SignUpPage {
        csrf: visitor.csrf,
        username: String::new(),
        email: String::new(),
        error: None,
    })?;
    Ok((visitor.jar, page))
}

/// `POST /ui/signup`: the account, its personal vault and a session; then the email code.
pub async fn signup(
    State(state): State<AppState>,
    meta: ClientMeta,
    visitor: Visitor,
    prior: PriorSession,
    WebForm(form): WebForm<SignUp>,
) -> Result<Response, WebError> {
    let request = SignupRequest {
        username: form.username.trim().to_owned(),
        email: form.email.trim().to_owned(),
        password: form.password,
    };
    let (username, email_address) = (request.username.clone(), request.email.clone());
    match auth::signup(State(state.clone()), meta, ApiJson(request)).await {
        Ok((_, ApiJson(done))) => {
            prior.end(&state).await?;
            let jar = visitor
                .jar
                .add(session_cookie(&state, done.token.into_inner()));
            Ok((jar, Redirect::to("/ui/verify")).into_response())
        }
        Err(e) if e.0.code() != ErrorCode::Internal => {
            let status = crate::error::status_for(e.0.code());
            let page = render(&SignUpPage {
                csrf: visitor.csrf,
                username,
                email: email_address,
                error: Some(e.0.message().to_owned()),
            })?;
            Ok((status, visitor.jar, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /ui/signout`.
pub async fn signout(
    State(state): State<AppState>,
    member: Member,
    jar: CookieJar,
    WebForm(_): WebForm<Empty>,
) -> Result<Response, WebError> {
    auth::logout(State(state.clone()), member.caller).await?;
    Ok((signed_out(&state, jar), Redirect::to("/ui/signin")).into_response())
}

#[derive(Template)]
#[template(path = "verify.html")]
struct VerifyPage {
    chrome: Chrome,
    user: UserInfo,
    error: Option<String>,
    resent: bool,
}

async fn verify_view(
    state: &AppState,
    member: &Member,
    error: Option<String>,
    resent: bool,
) -> Result<Html<String>, WebError> {
    let ApiJson(who) = auth::whoami(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "account").await?;
    render(&VerifyPage {
        chrome,
        user: who.user,
        error,
        resent,
    })
}

/// `GET /ui/verify`.
pub async fn verify_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    verify_view(&state, &member, None, false).await
}

/// `POST /ui/verify`: the code from the email.
pub async fn verify(
    State(state): State<AppState>,
    member: Member,
    WebForm(form): WebForm<Code>,
) -> Result<Response, WebError> {
    let request = VerifyEmailRequest { code: form.code };
    match email::verify_email(
        State(state.clone()),
        member.caller.clone(),
        ApiJson(request),
    )
    .await
    {
        Ok(_) => Ok(Redirect::to("/ui/account").into_response()),
        Err(e)
            if matches!(
                e.0.code(),
                ErrorCode::InvalidValue | ErrorCode::InvalidRequest
            ) =>
        {
            let page = verify_view(&state, &member, Some(e.0.message().to_owned()), false).await?;
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /ui/verify/resend`.
pub async fn resend_code(
    State(state): State<AppState>,
    member: Member,
    WebForm(_): WebForm<Empty>,
) -> Result<Html<String>, WebError> {
    email::resend_code(State(state.clone()), member.caller.clone()).await?;
    verify_view(&state, &member, None, true).await
}

#[derive(Template)]
#[template(path = "account.html")]
struct AccountPage {
    chrome: Chrome,
    user: UserInfo,
    sessions: Vec<SessionInfo>,
    error: Option<String>,
    notice: Option<&'static str>,
}

async fn account_view(
    state: &AppState,
    member: &Member,
    error: Option<String>,
    notice: Option<&'static str>,
) -> Result<Html<String>, WebError> {
    let ApiJson(who) = auth::whoami(State(state.clone()), member.caller.clone()).await?;
    let axum::Json(list) = sessions::list_sessions(
        State(state.clone()),
        member.caller.clone(),
        ApiQuery(ListParams {
            limit: Some(100),
            cursor: None,
        }),
    )
    .await?;
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "account").await?;
    render(&AccountPage {
        chrome,
        user: who.user,
        sessions: list.items,
        error,
        notice,
    })
}

/// `GET /ui/account`.
pub async fn account_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    account_view(&state, &member, None, None).await
}

#[derive(Template)]
#[template(path = "totp_enrol.html")]
struct TotpEnrolPage {
    chrome: Chrome,
    /// The QR code, an SVG image as a `data:` URL.
    qr: String,
    secret_base32: String,
    error: Option<String>,
}

fn qr_data_url(text: &str) -> Result<String, WebError> {
    let code = qrcode::QrCode::new(text.as_bytes()).map_err(|e| {
        strongroom_core::Error::internal(format!("the QR code could not be drawn: {e}"))
    })?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(220, 220)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

/// `POST /ui/account/totp`: a new secret, shown as a QR code and as text, to confirm.
pub async fn totp_begin(
    State(state): State<AppState>,
    member: Member,
    WebForm(_): WebForm<Empty>,
) -> Result<Html<String>, WebError> {
    let ApiJson(enrolment) = totp::begin(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "account").await?;
    render(&TotpEnrolPage {
        chrome,
        qr: qr_data_url(enrolment.otpauth_url.expose())?,
        secret_base32: enrolment.secret_base32.into_inner(),
        error: None,
    })
}

#[derive(Template)]
#[template(path = "recovery_codes.html")]
struct RecoveryCodesPage {
    chrome: Chrome,
    codes: Vec<String>,
}

async fn show_recovery_codes(
    state: &AppState,
    member: &Member,
    codes: strongroom_proto::RecoveryCodes,
) -> Result<Html<String>, WebError> {
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "account").await?;
    render(&RecoveryCodesPage {
        chrome,
        codes: codes.codes.into_iter().map(|c| c.into_inner()).collect(),
    })
}

/// `POST /ui/account/totp/confirm`: the first code turns TOTP on; recovery codes follow.
pub async fn totp_confirm(
    State(state): State<AppState>,
    member: Member,
    WebForm(form): WebForm<Code>,
) -> Result<Response, WebError> {
    let request = TotpCodeRequest {
        code: form.code.expose().trim().to_owned(),
    };
    match totp::confirm(
        State(state.clone()),
        member.caller.clone(),
        ApiJson(request),
    )
    .await
    {
        Ok(ApiJson(codes)) => Ok(show_recovery_codes(&state, &member, codes)
            .await?
            .into_response()),
        Err(e) if e.0.code() == ErrorCode::InvalidTotp => {
            let page = account_view(
                &state,
                &member,
                Some(format!(
                    "{} Start again with “Turn on two-factor sign-in”.",
                    e.0.message()
                )),
                None,
            )
            .await?;
            Ok((StatusCode::UNAUTHORIZED, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}

/// Re-authenticates the session for a sensitive action that follows in the same form
/// (the member's session record then shows the step-up, as the next request's would).
pub async fn step_up_with(
    state: &AppState,
    member: &mut Member,
    meta: ClientMeta,
    form: StepUp,
) -> Result<(), WebError> {
    auth::step_up(
        State(state.clone()),
        member.caller.clone(),
        meta,
        ApiJson(StepUpRequest {
            password: form.password,
            totp_code: forms::given(form.code),
        }),
    )
    .await?;
    member.caller.session.stepped_up_at = Some(strongroom_store::now_ms());
    Ok(())
}

/// `POST /ui/account/recovery-codes`: a step-up, then a new set (the old stop working).
pub async fn recovery_codes(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<StepUp>,
) -> Result<Html<String>, WebError> {
    step_up_with(&state, &mut member, meta, form).await?;
    let ApiJson(codes) =
        totp::regenerate_recovery_codes(State(state.clone()), member.caller.clone()).await?;
    show_recovery_codes(&state, &member, codes).await
}

/// `POST /ui/account/sessions/{id}/revoke`.
pub async fn revoke_session(
    State(state): State<AppState>,
    member: Member,
    jar: CookieJar,
    axum::extract::Path(id): axum::extract::Path<String>,
    WebForm(_): WebForm<Empty>,
) -> Result<Response, WebError> {
    let current = member.caller.session.id.to_string() == id;
    sessions::revoke_session(State(state.clone()), member.caller, ApiPath(id)).await?;
    if current {
        return Ok((signed_out(&state, jar), Redirect::to("/ui/signin")).into_response());
    }
    Ok(Redirect::to("/ui/account").into_response())
}

/// `POST /ui/account/password`: a step-up, then the new password; every other session
/// ends.
pub async fn change_password(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<super::forms::AccountChange>,
) -> Result<Response, WebError> {
    step_up_with(&state, &mut member, meta, form.step_up()).await?;
    let new_password = form.new_password.ok_or_else(|| {
        strongroom_core::Error::new(ErrorCode::InvalidPassword, "enter the new password")
    })?;
    auth::change_password(
        State(state.clone()),
        member.caller.clone(),
        ApiJson(strongroom_proto::ChangePasswordRequest { new_password }),
    )
    .await?;
    let page = account_view(
        &state,
        &member,
        None,
        Some("Password changed. Every other session has been signed out."),
    )
    .await?;
    Ok(page.into_response())
}

/// `POST /ui/account/email`: a step-up, then the new address (unverified until its code
/// is entered).
pub async fn change_email(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<super::forms::AccountChange>,
) -> Result<Redirect, WebError> {
    step_up_with(&state, &mut member, meta, form.step_up()).await?;
    email::change_email(
        State(state),
        member.caller,
        ApiJson(strongroom_proto::ChangeEmailRequest {
            email: form.email.unwrap_or_default().trim().to_owned(),
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/verify"))
}

/// `POST /ui/account/totp/disable`: a step-up, then two-factor sign-in is off.
pub async fn totp_disable(
    State(state): State<AppState>,
    mut member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<StepUp>,
) -> Result<Redirect, WebError> {
    step_up_with(&state, &mut member, meta, form).await?;
    totp::disable(State(state), member.caller).await?;
    Ok(Redirect::to("/ui/account"))
}
