//! Alert rules, for members with the Alerts cell: create (a webhook's signing secret is
//! shown once), list, delete, and send a test delivery now.

use crate::alerts::{Outgoing, Outlets, check_webhook, deliver};
use crate::convert::ts;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, Caller, ClientMeta};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use strongroom_core::account::Email;
use strongroom_core::alert::AlertFilter;
use strongroom_core::authz::Action;
use strongroom_core::names::AlertName;
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{
    AlertCreated, AlertInfo, AlertTestResult, CreateAlertRequest, ErrorBody, List, Sensitive,
};
use strongroom_store::{AlertChannel, AlertRuleRecord, NewAlertRule};
use zeroize::Zeroizing;

fn info(rule: &AlertRuleRecord) -> AlertInfo {
    AlertInfo {
        id: rule.id.to_string(),
        name: rule.name.clone(),
        channel: match rule.channel {
            AlertChannel::Webhook => "webhook".into(),
            AlertChannel::Email => "email".into(),
        },
        destination: match rule.channel {
            AlertChannel::Webhook => reqwest::Url::parse(&rule.destination)
                .map(|url| crate::outbound::shown_url(&url))
                .unwrap_or_default(),
            AlertChannel::Email => rule.destination.clone(),
        },
        actions: rule.filter.actions.clone(),
        severity: rule.filter.min_severity.map(|s| s.to_string()),
        outcome: rule.filter.outcome.map(|o| o.to_string()),
        target: rule.filter.target_prefix.clone(),
        actor_kind: rule.filter.actor_kind.map(|k| k.to_string()),
        created_by: rule.created_by.clone(),
        created_at: ts(rule.created_at),
    }
}

fn filter_of(body: &CreateAlertRequest) -> Result<AlertFilter, Error> {
    let filter = AlertFilter {
        actions: body.actions.clone(),
        min_severity: body.severity.as_deref().map(str::parse).transpose()?,
        outcome: body.outcome.as_deref().map(str::parse).transpose()?,
        target_prefix: body.target.clone().filter(|t| !t.is_empty()),
        actor_kind: body.actor_kind.as_deref().map(str::parse).transpose()?,
    };
    filter.validate()?;
    Ok(filter)
}

/// Writes a rule. Webhooks must be https:// to a public address (unless the operator
/// allows private ones); email needs the server's SMTP settings.
#[utoipa::path(post, path = "/alerts", tag = "alerts", security(("bearer" = [])),
    request_body = CreateAlertRequest,
    responses((status = 201, body = AlertCreated), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub async fn create_alert(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiJson(body): ApiJson<CreateAlertRequest>,
) -> Result<(StatusCode, ApiJson<AlertCreated>), ApiError> {
    let authz = caller.in_vault(Action::ManageAlerts)?;
    let name: AlertName = body.name.parse()?;
    let filter = filter_of(&body)?;
    let (channel, destination, secret) = match (&body.webhook, &body.email) {
        (Some(url), None) => {
            check_webhook(url, state.alerts_allow_private).await?;
            let secret = strongroom_crypto::token::new_webhook_secret()?;
            (
                AlertChannel::Webhook,
                url.clone(),
                Some(Zeroizing::new(secret.expose().to_owned())),
            )
        }
        (None, Some(address)) => {
            let email = Email::parse(address)?;
            if !state.mailer.is_smtp() {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "this server sends no mail (no SMTP is configured); ask the operator, or \
                     use --webhook",
                )
                .into());
            }
            (AlertChannel::Email, email.as_str().to_owned(), None)
        }
        _ => {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "give exactly one of webhook (a URL) and email (an address)",
            )
            .into());
        }
    };
    let shown = secret.as_ref().map(|s| Sensitive::new(s.as_str()));
    let rule = state
        .store
        .create_alert_rule(
            &authz,
            NewAlertRule {
                name,
                channel,
                destination,
                filter,
                webhook_secret: secret,
            },
            &meta.origin(),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(AlertCreated {
            alert: info(&rule),
            signing_secret: shown,
        }),
    ))
}

/// The vault's alert rules.
#[utoipa::path(get, path = "/alerts", tag = "alerts", security(("bearer" = [])),
    responses((status = 200, body = List<AlertInfo>), (status = 403, body = ErrorBody)))]
pub async fn list_alerts(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<ApiJson<List<AlertInfo>>, ApiError> {
    let authz = caller.in_vault(Action::ManageAlerts)?;
    let rules = state.store.alert_rules(&authz).await?;
    Ok(ApiJson(List {
        items: rules.iter().map(info).collect(),
        next_cursor: None,
    }))
}

/// Deletes a rule (and its deliveries not yet made).
#[utoipa::path(delete, path = "/alerts/{name}", tag = "alerts", security(("bearer" = [])),
    params(("name" = String, Path, description = "Alert name")),
    responses((status = 204, description = "Deleted"), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn delete_alert(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    let authz = caller.in_vault(Action::ManageAlerts)?;
    state
        .store
        .delete_alert_rule(&authz, &name, &meta.origin())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Sends a test alert through the rule now, once, and says how it went.
#[utoipa::path(post, path = "/alerts/{name}/test", tag = "alerts", security(("bearer" = [])),
    params(("name" = String, Path, description = "Alert name")),
    responses((status = 200, body = AlertTestResult), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn test_alert(
    State(state): State<AppState>,
    caller: Caller,
    meta: ClientMeta,
    ApiPath(name): ApiPath<String>,
) -> Result<ApiJson<AlertTestResult>, ApiError> {
    let authz = caller.in_vault(Action::ManageAlerts)?;
    let (rule, secret) = state.store.alert_rule_for_test(&authz, &name).await?;
    let id = strongroom_crypto::random::new_id(strongroom_core::ids::AlertDeliveryId::from_random)?;
    let payload = serde_json::json!({
        "alert": rule.name,
        "vault_id": rule.vault,
        "test": true,
        "entry": {
            "at": ts(strongroom_store::now_ms()),
            "actor_kind": "member",
            "actor_id": authz.actor()?.to_string(),
            "actor_name": caller.username.to_string(),
            "action": "alert.test",
            "target": rule.name,
            "outcome": "allowed",
            "severity": "info",
            "ip": meta.ip,
            "detail": "a test delivery sent with `strongroom alerts test`",
        }
    })
    .to_string();
    let outlets = Outlets {
        mailer: state.mailer.clone(),
        allow_private: state.alerts_allow_private,
    };
    let outgoing = Outgoing {
        id: id.as_str(),
        rule: &rule,
        secret: secret.as_deref().map(String::as_str),
        payload: &payload,
    };
    let (delivered, detail) = match deliver(&outlets, &outgoing).await {
        Ok(()) => (true, "delivered".to_owned()),
        Err(reason) => (false, reason),
    };
    Ok(ApiJson(AlertTestResult {
        delivered,
        delivery_id: id.to_string(),
        detail,
    }))
}
