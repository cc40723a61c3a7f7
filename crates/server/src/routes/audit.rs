//! The audit log: filtered, newest-first pages, and a walk of the hash chain. View own
//! shows a member their own entries; View others shows everyone's (the store applies it).

use crate::convert::ts;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiQuery, Caller};
use crate::state::AppState;
use axum::extract::State;
use serde::Deserialize;
use strongroom_core::authz::Action;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{AuditChainBreak, AuditEntryInfo, AuditVerification, ErrorBody, List};
use strongroom_store::{AuditEvent, AuditQuery};
use utoipa::IntoParams;

/// Cursors of this list say where the next page starts (each order has its own).
fn list_name(oldest_first: bool) -> &'static str {
    if oldest_first {
        "audit-oldest"
    } else {
        "audit"
    }
}

/// `GET /audit` filters. Times are RFC 3339.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditParams {
    /// Username, machine name or token name.
    pub actor: Option<String>,
    /// `member`, `machine`, `agent`, `token`, `system` or `external`.
    pub actor_kind: Option<String>,
    /// An action (`secret.reveal`), or a family of them (`secret.*`).
    pub action: Option<String>,
    /// Targets starting with this (`payments/api/`).
    pub target: Option<String>,
    /// This severity or higher: `info`, `notice`, `warning`, `critical`.
    pub severity: Option<String>,
    /// `allowed`, `denied` or `error`.
    pub outcome: Option<String>,
    /// At or after this time.
    pub since: Option<String>,
    /// Before this time.
    pub until: Option<String>,
    /// `newest` (the default) or `oldest` first.
    pub order: Option<String>,
    /// Entries per page, 1–1000 (default 100).
    pub limit: Option<u32>,
    /// `next_cursor` from the previous page.
    pub cursor: Option<String>,
}

fn time(name: &str, text: &str) -> Result<i64, ApiError> {
    let parsed = time::OffsetDateTime::parse(text, &time::format_description::well_known::Rfc3339)
        .map_err(|_| {
            Error::new(
                ErrorCode::InvalidValue,
                format!("{name} must be an RFC 3339 time, like 2026-12-01T09:00:00Z"),
            )
        })?;
    i64::try_from(parsed.unix_timestamp_nanos() / 1_000_000)
        .map_err(|_| Error::new(ErrorCode::InvalidValue, format!("{name} is out of range")).into())
}

impl AuditParams {
    fn query(&self) -> Result<AuditQuery, ApiError> {
        let limit = self.limit.unwrap_or(100);
        if !(1..=1000).contains(&limit) {
            return Err(
                Error::new(ErrorCode::InvalidValue, "limit must be between 1 and 1000").into(),
            );
        }
        let oldest_first = match self.order.as_deref() {
            None | Some("newest") => false,
            Some("oldest") => true,
            Some(_) => {
                return Err(
                    Error::new(ErrorCode::InvalidValue, "order must be newest or oldest").into(),
                );
            }
        };
        let past_seq = match &self.cursor {
            Some(cursor) => Some(
                crate::cursor::decode(list_name(oldest_first), cursor)?
                    .parse::<i64>()
                    .map_err(|_| Error::new(ErrorCode::InvalidCursor, "invalid cursor"))?,
            ),
            None => None,
        };
        Ok(AuditQuery {
            actor: self.actor.clone(),
            actor_kind: self.actor_kind.as_deref().map(str::parse).transpose()?,
            action: self.action.clone(),
            target_prefix: self.target.clone(),
            min_severity: self.severity.as_deref().map(str::parse).transpose()?,
            outcome: self.outcome.as_deref().map(str::parse).transpose()?,
            since: self
                .since
                .as_deref()
                .map(|t| time("since", t))
                .transpose()?,
            until: self
                .until
                .as_deref()
                .map(|t| time("until", t))
                .transpose()?,
            oldest_first,
            past_seq,
            limit,
        })
    }
}

fn info(e: AuditEvent) -> AuditEntryInfo {
    AuditEntryInfo {
        seq: e.seq,
        at: ts(e.at),
        actor_kind: e.actor_kind,
        actor_id: e.actor_id,
        actor_name: e.actor_name,
        action: e.action,
        target: e.target,
        outcome: e.outcome,
        severity: e.severity,
        ip: e.ip,
        user_agent: e.user_agent,
        request_id: e.request_id,
        detail: e.detail,
    }
}

/// The vault's audit entries, newest first (or `?order=oldest`): your own with View own, everyone's with View
/// others.
#[utoipa::path(get, path = "/audit", tag = "audit", security(("bearer" = [])),
    params(AuditParams),
    responses((status = 200, body = List<AuditEntryInfo>), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody)))]
pub async fn list_audit(
    State(state): State<AppState>,
    caller: Caller,
    ApiQuery(params): ApiQuery<AuditParams>,
) -> Result<ApiJson<List<AuditEntryInfo>>, ApiError> {
    let query = params.query()?;
    let authz = caller.in_vault(Action::ViewAuditLog)?;
    let page = state.store.audit_entries(&authz, &query).await?;
    Ok(ApiJson(List {
        items: page.items.into_iter().map(info).collect(),
        next_cursor: page
            .next_after
            .map(|seq| crate::cursor::encode(list_name(query.oldest_first), &seq)),
    }))
}

/// Walks the vault's whole audit chain and names the first entry that was changed,
/// removed, inserted or reordered (needs Audit log: view others).
#[utoipa::path(get, path = "/audit/verify", tag = "audit", security(("bearer" = [])),
    responses((status = 200, body = AuditVerification), (status = 403, body = ErrorBody)))]
pub async fn verify_audit(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<AuditVerification>, ApiError> {
    let authz = caller.in_vault(Action::VerifyAuditLog)?;
    let report = state.store.verify_audit_chain(&authz).await?;
    Ok(ApiJson(AuditVerification {
        intact: report.broken.is_none(),
        verified: report.verified,
        head_seq: report.head_seq,
        broken: report.broken.map(|b| AuditChainBreak {
            seq: b.seq,
            kind: b.kind.to_owned(),
            message: b.message,
        }),
    }))
}
