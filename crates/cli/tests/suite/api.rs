//! The HTTP API as a whole: the OpenAPI document matches the routes, every route needs
//! a session except sign-up and sign-in, and malformed input gets a clear error.

use crate::ok;
use serde_json::Value;
use strongroom_testkit::TestApp;

/// Fills `{param}` placeholders with plausible values.
fn concrete(path: &str) -> String {
    path.split('/')
        .map(|segment| match segment {
            "{id}" => "sess_aaaaaaaaaaaaaaaaaaaaaaaaaa",
            "{name}" => "NAME",
            s if s.starts_with('{') => "x",
            s => s,
        })
        .collect::<Vec<_>>()
        .join("/")
}

async fn operations(app: &TestApp) -> Vec<(String, String)> {
    let doc = ok(app.client.openapi().await);
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().into_iter().flatten() {
        for method in ["get", "put", "post", "delete", "patch"] {
            if item.get(method).is_some() {
                ops.push((method.to_uppercase(), path.clone()));
            }
        }
    }
    assert!(ops.len() >= 30, "only {} operations documented", ops.len());
    ops
}

async fn call(app: &TestApp, method: &str, path: &str) -> (u16, Value) {
    let http = reqwest::Client::new();
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap_or(reqwest::Method::GET);
    let response = http
        .request(method, format!("{}{}", app.url, concrete(path)))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn every_documented_operation_is_served(app: TestApp) {
    for (method, path) in operations(&app).await {
        let (status, body) = call(&app, &method, &path).await;
        assert_ne!(body["error"]["code"], "route_not_found", "{method} {path}");
        assert_ne!(status, 405, "{method} {path}");
        assert!(status < 500, "{method} {path} answered {status}");
    }
}

async fn every_route_but_sign_up_and_sign_in_needs_a_session(app: TestApp) {
    let public = [
        "/healthz",
        "/api/v1/openapi.json",
        "/api/v1/auth/signup",
        "/api/v1/auth/login",
    ];
    for (method, path) in operations(&app).await {
        if public.contains(&path.as_str()) {
            continue;
        }
        let (status, body) = call(&app, &method, &path).await;
        assert_eq!(
            (status, body["error"]["code"].as_str()),
            (401, Some("unauthenticated")),
            "{method} {path}"
        );
    }
}

async fn unknown_routes_and_methods_get_the_error_shape(app: TestApp) {
    let (status, body) = call(&app, "GET", "/api/v1/nope").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (404, Some("route_not_found"))
    );
    assert!(body["error"]["message"].is_string());
    let (status, body) = call(&app, "PATCH", "/api/v1/apps").await;
    assert_eq!(
        (status, body["error"]["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

async fn malformed_requests_get_clear_errors_never_a_500(app: TestApp) {
    let alice = app.signup("alice").await;
    let http = reqwest::Client::new();
    let post = |body: String, content_type: &'static str| {
        http.post(format!("{}/api/v1/apps", app.url))
            .bearer_auth(&alice.token)
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let cases: Vec<(String, &str, u16, &str)> = vec![
        (
            "{not json".into(),
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "{\"nam\": \"x\"}".into(),
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "{\"name\": 5}".into(),
            "application/json",
            400,
            "invalid_request",
        ),
        (
            "{\"name\": \"x\"}".into(),
            "text/plain",
            415,
            "unsupported_media_type",
        ),
        (
            format!("{}1{}", "[".repeat(100_000), "]".repeat(100_000)),
            "application/json",
            400,
            "invalid_request",
        ),
    ];
    for (body, content_type, status, code) in cases {
        let response = post(body, content_type)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(response.status().as_u16(), status, "{code}");
        let json: Value = response.json().await.unwrap_or(Value::Null);
        assert_eq!(json["error"]["code"], code);
    }
    assert!(
        ok(alice.client.apps().await).is_empty(),
        "no refused request wrote anything"
    );
}

/// The server refuses an oversized body from its declared length, before reading it; a
/// raw socket lets the test read that answer while the body is still unsent.
async fn an_oversized_body_is_refused_before_it_is_read(app: TestApp) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let alice = app.signup("alice").await;
    let address = app.url.trim_start_matches("http://").to_owned();
    let mut socket = tokio::net::TcpStream::connect(&address)
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let head = format!(
        "POST /api/v1/apps HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{{\"name\": \"",
        alice.token,
        3 * 1024 * 1024
    );
    socket
        .write_all(head.as_bytes())
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    let mut response = Vec::new();
    let _ = tokio::time::timeout(
        std::time::Duration::from_secs(10),
        socket.read_to_end(&mut response),
    )
    .await;
    let text = String::from_utf8_lossy(&response);
    assert!(text.starts_with("HTTP/1.1 413"), "{text}");
    assert!(text.contains("\"code\":\"payload_too_large\""), "{text}");
    assert!(ok(alice.client.apps().await).is_empty());
}

async fn health_answers_and_responses_are_not_cacheable(app: TestApp) {
    let health = ok(app.client.health().await);
    assert_eq!(health.status, "ok");
    let response = reqwest::get(format!("{}/api/v1/auth/whoami", app.url))
        .await
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        response
            .headers()
            .get("cache-control")
            .and_then(|v| v.to_str().ok()),
        Some("no-store")
    );
    assert!(response.headers().get("x-request-id").is_some());
}

crate::on_both_backends!(
    every_documented_operation_is_served,
    every_route_but_sign_up_and_sign_in_needs_a_session,
    unknown_routes_and_methods_get_the_error_shape,
    malformed_requests_get_clear_errors_never_a_500,
    an_oversized_body_is_refused_before_it_is_read,
    health_answers_and_responses_are_not_cacheable,
);

#[test]
fn the_served_document_is_the_one_the_binary_prints() {
    let doc = strongroom_server::openapi_document();
    let paths = doc.paths.paths.len();
    assert!(paths >= 20, "{paths}");
    assert!(
        doc.paths
            .paths
            .contains_key("/api/v1/apps/{app}/projects/{project}/envs/{env}/secrets/{name}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sqlite_and_postgresql_schemas_agree() {
    let sqlite = strongroom_testkit::TestApp::spawn(strongroom_testkit::Backend::Sqlite).await;
    let postgres = strongroom_testkit::TestApp::spawn(strongroom_testkit::Backend::Postgres).await;
    let (a, b) = (sqlite.schema().await, postgres.schema().await);
    assert!(a.len() > 40, "{a:?}");
    let only_sqlite: Vec<_> = a.difference(&b).collect();
    let only_postgres: Vec<_> = b.difference(&a).collect();
    assert!(
        only_sqlite.is_empty() && only_postgres.is_empty(),
        "schemas differ\nonly in SQLite: {only_sqlite:#?}\nonly in PostgreSQL: {only_postgres:#?}"
    );
}
