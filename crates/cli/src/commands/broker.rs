//! `strongroom broker`: a local HTTP proxy for an AI agent. The agent makes plain HTTP
//! calls (through the proxy, or straight to it with a Host header); each call to a host
//! one of the broker's secrets declares is sent to the server's `POST /use`, which makes
//! the real call with the secret injected. The agent, and this process, never see the
//! value. Calls to any other host are refused here, and again by the server.

use super::Ctx;
use crate::args::BrokerArgs;
use crate::failure::{CliResult, Failure, exit};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::sync::Arc;
use strongroom_client::Client;
use strongroom_core::broker::{UseDeclaration, agent_may_set};
use strongroom_proto::UseRequest;

/// Largest body an agent may send through the broker.
const MAX_BODY: usize = 2 * 1024 * 1024;

struct Route {
    secret: String,
    declaration: UseDeclaration,
}

struct Broker {
    client: Client,
    routes: Vec<Route>,
}

pub async fn broker(ctx: &Ctx, args: BrokerArgs) -> CliResult {
    let client = ctx.client()?;
    let mut routes = Vec::new();
    for secret in &args.secrets {
        let meta = client.secret(secret).await?;
        let (Some(destination), Some(header)) = (meta.use_destination, meta.use_header) else {
            return Err(Failure::usage(format!(
                "{secret} declares no destination; someone who may reveal it sets one with \
                 `strongroom secrets set-use {secret} --destination HOST`"
            )));
        };
        // The format stays on the server; the proxy needs only the host to route by.
        let declaration = UseDeclaration::parse(&destination, &header, "{value}")?;
        routes.push(Route {
            secret: secret.clone(),
            declaration,
        });
    }
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .map_err(|e| {
            Failure::new(
                exit::ERROR,
                format!("cannot listen on {}: {e}", args.listen),
            )
        })?;
    let addr = listener.local_addr()?;
    for route in &routes {
        eprintln!(
            "strongroom broker: http://{} -> {} with {}",
            route.declaration.host,
            route.declaration.destination(),
            route.secret
        );
    }
    if routes.is_empty() {
        eprintln!(
            "strongroom broker: serving every secret this token may use, by its declared host"
        );
    }
    eprintln!(
        "strongroom broker listening on http://{addr}; point the agent at it with \
         HTTP_PROXY=http://{addr} and plain http:// URLs. Ctrl-C stops it."
    );
    let state = Arc::new(Broker { client, routes });
    let app = axum::Router::new().fallback(relay).with_state(state);
    axum::serve(listener, app)
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| Failure::new(exit::ERROR, format!("broker stopped: {e}")))?;
    Ok(())
}

fn refuse(status: StatusCode, message: String) -> Response {
    eprintln!("strongroom broker: refused: {message}");
    (status, format!("strongroom broker: {message}\n")).into_response()
}

async fn relay(State(broker): State<Arc<Broker>>, request: Request) -> Response {
    if request.method() == axum::http::Method::CONNECT {
        return refuse(
            StatusCode::METHOD_NOT_ALLOWED,
            "the broker relays plain HTTP: call http://HOST/…, and the server makes the HTTPS call"
                .into(),
        );
    }
    let host = request
        .uri()
        .authority()
        .map(|a| a.as_str().to_owned())
        .or_else(|| {
            request
                .headers()
                .get(axum::http::header::HOST)
                .and_then(|h| h.to_str().ok())
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let route = broker.routes.iter().find(|r| {
        r.declaration.matches_host(&host)
            || r.declaration
                .matches_host(host.split(':').next().unwrap_or(""))
    });
    if route.is_none() && !broker.routes.is_empty() {
        return refuse(
            StatusCode::FORBIDDEN,
            format!("no secret of this broker declares host {host:?}; the call was not made"),
        );
    }
    // Without a route of its own, the server finds the secret declaring the host (and
    // refuses when none does).
    let (secret, host) = match route {
        Some(route) => (Some(route.secret.clone()), route.declaration.host.clone()),
        None => (None, host),
    };
    let method = request.method().as_str().to_owned();
    let path = request
        .uri()
        .path_and_query()
        .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .filter(|(name, _)| agent_may_set(name.as_str()))
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let body = match to_bytes(request.into_body(), MAX_BODY).await {
        Ok(body) => body,
        Err(_) => {
            return refuse(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("bodies are limited to {MAX_BODY} bytes"),
            );
        }
    };
    let (body, body_base64) = match std::str::from_utf8(&body) {
        Ok("") => (None, None),
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (None, Some(STANDARD.encode(&body))),
    };
    let answer = broker
        .client
        .use_secret(&UseRequest {
            secret,
            host: Some(host.clone()),
            method: method.clone(),
            path: path.clone(),
            headers,
            body,
            body_base64,
        })
        .await;
    let answer = match answer {
        Ok(answer) => answer,
        Err(e) if matches!(e.code(), Some("not_found" | "permission_denied")) => {
            return refuse(StatusCode::FORBIDDEN, e.to_string());
        }
        Err(e) => return refuse(StatusCode::BAD_GATEWAY, e.to_string()),
    };
    eprintln!(
        "strongroom broker: {method} {host}{} -> {}",
        path.split('?').next().unwrap_or("/"),
        answer.status
    );
    let body = match (answer.body, answer.body_base64) {
        (Some(text), _) => Body::from(text),
        (None, Some(encoded)) => match STANDARD.decode(encoded) {
            Ok(bytes) => Body::from(bytes),
            Err(_) => return refuse(StatusCode::BAD_GATEWAY, "malformed answer".into()),
        },
        (None, None) => Body::empty(),
    };
    let mut response = Response::new(body);
    *response.status_mut() = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::BAD_GATEWAY);
    for (name, value) in answer.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}
