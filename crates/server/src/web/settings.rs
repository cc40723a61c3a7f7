//! The vault's IP allowlist and its alert rules (webhooks, whose signing secret is shown
//! once, and email), through the API's own handlers.

use super::forms::{FormPairs, WebForm, WebPath};
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::extract::{ApiJson, ApiPath, ApiQuery, ClientMeta};
use crate::routes::{alerts, allowlist};
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use serde::Deserialize;
use strongroom_core::audit::{ActorKind, Outcome, Severity};
use strongroom_proto::{AlertInfo, AllowRangeRequest, AllowlistRange, CreateAlertRequest};

#[derive(Template)]
#[template(path = "allowlist.html")]
struct AllowlistPage {
    chrome: Chrome,
    ranges: Vec<AllowlistRange>,
}

/// `GET /ui/allowlist`.
pub async fn allowlist_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let ApiJson(list) =
        allowlist::list_allowlist(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "allowlist").await?;
    render(&AllowlistPage {
        chrome,
        ranges: list.items,
    })
}

#[derive(Deserialize)]
pub struct RangeForm {
    cidr: String,
    #[serde(default)]
    note: String,
}

/// `POST /ui/allowlist`: admits a range (the first range closes the vault to all others).
pub async fn allow(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<RangeForm>,
) -> Result<Redirect, WebError> {
    allowlist::allow_range(
        State(state),
        member.caller,
        meta,
        ApiJson(AllowRangeRequest {
            cidr: form.cidr.trim().to_owned(),
            note: form.note.trim().to_owned(),
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/allowlist"))
}

/// `POST /ui/allowlist/remove`.
pub async fn disallow(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<RangeForm>,
) -> Result<Redirect, WebError> {
    allowlist::disallow_range(
        State(state),
        member.caller,
        meta,
        ApiQuery(allowlist::RangeParams {
            cidr: form.cidr.trim().to_owned(),
        }),
    )
    .await?;
    Ok(Redirect::to("/ui/allowlist"))
}

#[derive(Template)]
#[template(path = "alerts.html")]
struct AlertsPage {
    chrome: Chrome,
    alerts: Vec<AlertInfo>,
    /// A webhook rule just made: its name and signing secret, shown once.
    created: Option<(String, String)>,
    /// The outcome of a test delivery.
    tested: Option<(String, String)>,
    kinds: Vec<&'static str>,
    severities: Vec<&'static str>,
    outcomes: Vec<&'static str>,
}

async fn alerts_view(
    state: &AppState,
    member: &Member,
    created: Option<(String, String)>,
    tested: Option<(String, String)>,
) -> Result<Html<String>, WebError> {
    let ApiJson(list) = alerts::list_alerts(State(state.clone()), member.caller.clone()).await?;
    let chrome = Chrome::of(state, &member.caller, &member.csrf, "alerts").await?;
    render(&AlertsPage {
        chrome,
        alerts: list.items,
        created,
        tested,
        kinds: ActorKind::ALL.iter().map(|k| k.as_str()).collect(),
        severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        outcomes: Outcome::ALL.iter().map(|o| o.as_str()).collect(),
    })
}

/// `GET /ui/alerts`.
pub async fn alerts_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    alerts_view(&state, &member, None, None).await
}

/// `POST /ui/alerts`: a rule that sends matching audit entries to a webhook or an email.
pub async fn create_alert(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    form: FormPairs,
) -> Result<Html<String>, WebError> {
    let actions = form
        .one("actions")
        .unwrap_or("")
        .split([',', ' ', '\n'])
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let (webhook, email) = match form.one("channel") {
        Some("email") => (None, form.one("destination").map(str::to_owned)),
        _ => (form.one("destination").map(str::to_owned), None),
    };
    let (_, ApiJson(created)) = alerts::create_alert(
        State(state.clone()),
        member.caller.clone(),
        meta,
        ApiJson(CreateAlertRequest {
            name: form.one("name").unwrap_or("").to_owned(),
            webhook,
            email,
            actions,
            severity: form.one("severity").map(str::to_owned),
            outcome: form.one("outcome").map(str::to_owned),
            target: form.one("target").map(str::to_owned),
            actor_kind: form.one("actor_kind").map(str::to_owned),
        }),
    )
    .await?;
    let shown = created
        .signing_secret
        .map(|secret| (created.alert.name.clone(), secret.into_inner()));
    alerts_view(&state, &member, shown, None).await
}

#[derive(Deserialize)]
pub struct AlertParams {
    name: String,
}

/// `POST /ui/alerts/{name}/delete`.
pub async fn delete_alert(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<AlertParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Redirect, WebError> {
    alerts::delete_alert(State(state), member.caller, meta, ApiPath(params.name)).await?;
    Ok(Redirect::to("/ui/alerts"))
}

/// `POST /ui/alerts/{name}/test`: sends a test entry now and shows how it went.
pub async fn test_alert(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebPath(params): WebPath<AlertParams>,
    WebForm(_): WebForm<super::forms::Empty>,
) -> Result<Html<String>, WebError> {
    let ApiJson(result) = alerts::test_alert(
        State(state.clone()),
        member.caller.clone(),
        meta,
        ApiPath(params.name.clone()),
    )
    .await?;
    let outcome = if result.delivered {
        format!("delivered ({})", result.detail)
    } else {
        format!("not delivered: {}", result.detail)
    };
    alerts_view(&state, &member, None, Some((params.name, outcome))).await
}
