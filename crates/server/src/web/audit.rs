//! The audit viewer: filters by actor, actor kind, action, target, severity, outcome and
//! time; severity badges; cursor paging; export as JSON lines. It lists what the API's
//! `GET /audit` lists for the member, so View own / View others apply unchanged.

use super::forms::given;
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::extract::{ApiJson, ApiQuery};
use crate::routes::audit::{AuditParams, list_audit};
use crate::state::AppState;
use askama::Template;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use strongroom_core::audit::{ActorKind, Outcome, Severity};
use strongroom_proto::AuditEntryInfo;

/// The viewer's filters, as the form sends them (empty fields are no filter). Times
/// come from `datetime-local` inputs and are read as UTC.
#[derive(Deserialize, Serialize, Default, Clone)]
pub struct Filters {
    #[serde(default)]
    pub actor: Option<String>,
    #[serde(default)]
    pub actor_kind: Option<String>,
    #[serde(default)]
    pub action: Option<String>,
    #[serde(default)]
    pub target: Option<String>,
    #[serde(default)]
    pub severity: Option<String>,
    #[serde(default)]
    pub outcome: Option<String>,
    #[serde(default)]
    pub since: Option<String>,
    #[serde(default)]
    pub until: Option<String>,
    #[serde(default, skip_serializing)]
    pub cursor: Option<String>,
}

/// A `datetime-local` value (`2026-12-02T09:30`) as RFC 3339 in UTC; anything else is
/// passed on for the API to judge.
fn utc(value: Option<String>) -> Option<String> {
    given(value).map(|v| match v.len() {
        16 => format!("{v}:00Z"),
        19 => format!("{v}Z"),
        _ => v,
    })
}

impl Filters {
    fn params(&self, limit: u32, cursor: Option<String>) -> AuditParams {
        AuditParams {
            actor: given(self.actor.clone()),
            actor_kind: given(self.actor_kind.clone()),
            action: given(self.action.clone()),
            target: given(self.target.clone()),
            severity: given(self.severity.clone()),
            outcome: given(self.outcome.clone()),
            since: utc(self.since.clone()),
            until: utc(self.until.clone()),
            order: None,
            limit: Some(limit),
            cursor,
        }
    }

    /// The filters as a query string, for the next page and the export links.
    fn query(&self) -> String {
        let mut out = form_urlencoded::Serializer::new(String::new());
        for (name, value) in [
            ("actor", &self.actor),
            ("actor_kind", &self.actor_kind),
            ("action", &self.action),
            ("target", &self.target),
            ("severity", &self.severity),
            ("outcome", &self.outcome),
            ("since", &self.since),
            ("until", &self.until),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                out.append_pair(name, v);
            }
        }
        out.finish()
    }

    fn is(&self, field: &Option<String>, value: &str) -> bool {
        field.as_deref() == Some(value)
    }

    fn text(field: &Option<String>) -> &str {
        field.as_deref().unwrap_or("")
    }
}

#[derive(Template)]
#[template(path = "audit.html")]
struct AuditPage {
    chrome: Chrome,
    filters: Filters,
    entries: Vec<AuditEntryInfo>,
    next_cursor: Option<String>,
    kinds: Vec<&'static str>,
    severities: Vec<&'static str>,
    outcomes: Vec<&'static str>,
}

impl AuditPage {
    fn next_href(&self, cursor: &str) -> String {
        let filters = self.filters.query();
        let mut out = form_urlencoded::Serializer::new(String::new());
        out.append_pair("cursor", cursor);
        let cursor = out.finish();
        if filters.is_empty() {
            format!("/ui/audit?{cursor}")
        } else {
            format!("/ui/audit?{filters}&{cursor}")
        }
    }

    fn export_href(&self) -> String {
        format!("/ui/audit/export?{}", self.filters.query())
    }
}

/// `GET /ui/audit`.
pub async fn audit_page(
    State(state): State<AppState>,
    member: Member,
    Query(filters): Query<Filters>,
) -> Result<Html<String>, WebError> {
    let ApiJson(page) = list_audit(
        State(state.clone()),
        member.caller.clone(),
        ApiQuery(filters.params(50, given(filters.cursor.clone()))),
    )
    .await?;
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "audit").await?;
    render(&AuditPage {
        chrome,
        filters,
        entries: page.items,
        next_cursor: page.next_cursor,
        kinds: ActorKind::ALL.iter().map(|k| k.as_str()).collect(),
        severities: Severity::ALL.iter().map(|s| s.as_str()).collect(),
        outcomes: Outcome::ALL.iter().map(|o| o.as_str()).collect(),
    })
}

/// Most entries one export holds; a narrower filter exports the rest.
const MAX_EXPORT_PAGES: usize = 50;

/// `GET /ui/audit/export`: the filtered entries as JSON lines, newest first.
pub async fn export(
    State(state): State<AppState>,
    member: Member,
    Query(filters): Query<Filters>,
) -> Result<Response, WebError> {
    let mut lines = String::new();
    let mut cursor = None;
    for _ in 0..MAX_EXPORT_PAGES {
        let ApiJson(page) = list_audit(
            State(state.clone()),
            member.caller.clone(),
            ApiQuery(filters.params(1000, cursor.take())),
        )
        .await?;
        for entry in &page.items {
            let line = serde_json::to_string(entry).map_err(|e| {
                strongroom_core::Error::internal(format!("audit entry did not serialize: {e}"))
            })?;
            lines.push_str(&line);
            lines.push('\n');
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut response = lines.into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/x-ndjson; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"strongroom-audit.jsonl\""),
    );
    Ok(response)
}
