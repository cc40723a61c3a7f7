//! A bare HTTP client speaking Vault's wire (`/v1/...`, `X-Vault-Token`,
//! `X-Vault-Namespace`, the `LIST` verb), for tests that check answers byte by byte.

use reqwest::Method;
use serde_json::Value;

/// One answer: status, content type and the JSON body (`Null` when there is none).
#[derive(Debug, Clone)]
pub struct VaultReply {
    /// HTTP status.
    pub status: u16,
    /// The `Content-Type` header, if any.
    pub content_type: Option<String>,
    /// The body as JSON (`Null` for an empty body).
    pub body: Value,
}

impl VaultReply {
    /// `body.data`.
    pub fn data(&self) -> &Value {
        &self.body["data"]
    }

    /// `body.errors` as strings.
    pub fn errors(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|e| e.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default()
    }
}

/// A Vault-wire client for one server, token and namespace.
#[derive(Clone)]
pub struct VaultHttp {
    http: reqwest::Client,
    url: String,
    token: Option<String>,
    namespace: Option<String>,
}

impl VaultHttp {
    /// A client for `url` sending `token` (if any) as `X-Vault-Token`.
    pub fn new(url: &str, token: Option<&str>) -> Self {
        Self {
            http: reqwest::Client::new(),
            url: url.trim_end_matches('/').to_owned(),
            token: token.map(str::to_owned),
            namespace: None,
        }
    }

    /// The same client sending `X-Vault-Namespace: namespace`.
    pub fn in_namespace(&self, namespace: &str) -> Self {
        Self {
            namespace: Some(namespace.to_owned()),
            ..self.clone()
        }
    }

    /// Sends `method` to `/v1/{path}` with an optional JSON body.
    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> VaultReply {
        self.call_with(method, path, body, None).await
    }

    /// As [`Self::call`], with an explicit content type.
    pub async fn call_with(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        content_type: Option<&str>,
    ) -> VaultReply {
        let method =
            Method::from_bytes(method.as_bytes()).unwrap_or_else(|e| panic!("HTTP method: {e}"));
        let mut request = self.http.request(
            method,
            format!("{}/v1/{}", self.url, path.trim_start_matches('/')),
        );
        if let Some(token) = &self.token {
            request = request.header("X-Vault-Token", token);
        }
        if let Some(ns) = &self.namespace {
            request = request.header("X-Vault-Namespace", ns);
        }
        if let Some(body) = body {
            request = request
                .header("Content-Type", content_type.unwrap_or("application/json"))
                .body(body.to_string());
        }
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("request to the server: {e}"));
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let bytes = response
            .bytes()
            .await
            .unwrap_or_else(|e| panic!("response body: {e}"));
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("a JSON body: {e}"))
        };
        VaultReply {
            status,
            content_type,
            body,
        }
    }

    /// `GET /v1/{path}`.
    pub async fn get(&self, path: &str) -> VaultReply {
        self.call("GET", path, None).await
    }

    /// `POST /v1/{path}` with `body`.
    pub async fn post(&self, path: &str, body: Value) -> VaultReply {
        self.call("POST", path, Some(body)).await
    }
}
