//! The `use` broker's outbound call: the server, not the agent, calls a secret's declared
//! destination with the value in its declared header, and hands back the answer with the
//! value scrubbed from it. The destination's addresses are resolved once and checked
//! (loopback, private and link-local ones are refused unless the operator allows them),
//! and the connection goes to exactly the address checked. Redirects are not followed:
//! one could carry the header to another host.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use std::net::SocketAddr;
use std::time::Duration;
use strongroom_core::broker::{UseDeclaration, agent_may_set, contains_secret, scrub};
use strongroom_core::{Error, ErrorCode};
use strongroom_proto::{UseRequest, UseResponse};

/// Largest answer relayed back.
const MAX_RESPONSE_BYTES: usize = 10 * 1024 * 1024;
/// How long the destination has to answer.
const TIMEOUT: Duration = Duration::from_secs(30);

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];

/// Headers of the answer that belong to the connection, not the caller.
const HOP_BY_HOP: [&str; 7] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "content-length",
];

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidValue, message)
}

/// A call checked for shape, before anything is read or recorded.
pub struct Call {
    method: reqwest::Method,
    path: String,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: Vec<u8>,
}

impl Call {
    /// Checks the caller's request: a known method, a path starting with `/`, headers the
    /// caller may set.
    pub fn check(request: &UseRequest) -> Result<Self, Error> {
        let method = request.method.to_ascii_uppercase();
        if !METHODS.contains(&method.as_str()) {
            return Err(invalid(format!(
                "method {:?} is not one the broker relays: use one of {}",
                request.method,
                METHODS.join(", ")
            )));
        }
        let path = &request.path;
        if !path.starts_with('/')
            || path.len() > 8192
            || path.contains('#')
            || path.chars().any(|c| c.is_control() || c == ' ')
        {
            return Err(invalid(
                "path must start with '/' and hold no spaces, control characters or fragment"
                    .into(),
            ));
        }
        let mut headers = Vec::new();
        for (name, value) in &request.headers {
            if !agent_may_set(name) {
                continue;
            }
            let name = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| invalid(format!("header name {name:?} is not valid")))?;
            let value = HeaderValue::from_str(value)
                .map_err(|_| invalid(format!("header {name} has a value that is not valid")))?;
            headers.push((name, value));
        }
        let body = match (&request.body, &request.body_base64) {
            (Some(text), None) => text.as_bytes().to_vec(),
            (None, Some(encoded)) => STANDARD
                .decode(encoded)
                .map_err(|_| invalid("body_base64 is not base64".into()))?,
            (None, None) => Vec::new(),
            (Some(_), Some(_)) => {
                return Err(invalid("give body or body_base64, not both".into()));
            }
        };
        Ok(Self {
            method: reqwest::Method::from_bytes(method.as_bytes())
                .map_err(|_| invalid("method".into()))?,
            path: path.clone(),
            headers,
            body,
        })
    }

    /// `METHOD /path` without the query (which may carry data of the caller's), for the
    /// audit entry.
    pub fn summary(&self, declaration: &UseDeclaration) -> String {
        let path = self.path.split('?').next().unwrap_or("/");
        format!("{} {}{path}", self.method, declaration.destination())
    }
}

/// Resolves the destination and checks every address it has; returns the one to call.
pub async fn resolve(
    declaration: &UseDeclaration,
    allow_private: bool,
) -> Result<SocketAddr, Error> {
    if declaration.scheme == "http" && !allow_private {
        return Err(Error::new(
            ErrorCode::PermissionDenied,
            format!(
                "permission denied: {} is plain http, which the broker uses only where the \
                 operator allows private destinations; declare an https destination",
                declaration.destination()
            ),
        ));
    }
    crate::outbound::resolve_checked(
        &declaration.host,
        declaration.effective_port(),
        allow_private,
        "the broker",
    )
    .await
}

/// Makes the call with the value injected and returns the answer, scrubbed.
pub async fn call(
    declaration: &UseDeclaration,
    address: SocketAddr,
    secret: &str,
    call: Call,
) -> Result<UseResponse, Error> {
    let client = crate::outbound::pinned_client(&declaration.host, address, TIMEOUT)?;
    let url = format!("{}{}", declaration.destination(), call.path);
    let mut headers = HeaderMap::new();
    for (name, value) in call.headers {
        if name.as_str().eq_ignore_ascii_case(&declaration.header) {
            continue;
        }
        headers.append(name, value);
    }
    let mut presented = HeaderValue::from_str(&declaration.present(secret)).map_err(|_| {
        Error::new(
            ErrorCode::Conflict,
            "the secret's value cannot travel in a header (it holds characters headers do not \
             allow)",
        )
    })?;
    presented.set_sensitive(true);
    let header = HeaderName::from_bytes(declaration.header.as_bytes())
        .map_err(|_| Error::internal("declared header name"))?;
    headers.insert(header, presented);
    // The answer must come back as plain bytes, or the value could not be scrubbed.
    headers.insert(
        reqwest::header::ACCEPT_ENCODING,
        HeaderValue::from_static("identity"),
    );
    let mut response = client
        .request(call.method, url)
        .headers(headers)
        .body(call.body)
        .send()
        .await
        .map_err(|e| {
            let why = if e.is_timeout() {
                "did not answer in time"
            } else if e.is_connect() {
                "refused the connection"
            } else {
                "failed"
            };
            Error::new(
                ErrorCode::Unavailable,
                format!("the call to {} {why}", declaration.destination()),
            )
        })?;
    let encoded = response
        .headers()
        .get(reqwest::header::CONTENT_ENCODING)
        .is_some_and(|e| !e.as_bytes().eq_ignore_ascii_case(b"identity"));
    if encoded {
        return Err(Error::new(
            ErrorCode::Conflict,
            format!(
                "{} answered with a compressed body, which the broker does not relay (the \
                 value could not be scrubbed from it)",
                declaration.destination()
            ),
        ));
    }
    let status = response.status().as_u16();
    let headers: Vec<(String, String)> = response
        .headers()
        .iter()
        .filter(|(name, _)| !HOP_BY_HOP.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                scrub(
                    &String::from_utf8_lossy(value.as_bytes()),
                    secret,
                    declaration,
                ),
            )
        })
        .collect();
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|_| {
        Error::new(
            ErrorCode::Unavailable,
            format!("the answer from {} broke off", declaration.destination()),
        )
    })? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(Error::new(
                ErrorCode::PayloadTooLarge,
                format!(
                    "the answer from {} is larger than {MAX_RESPONSE_BYTES} bytes",
                    declaration.destination()
                ),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    let (body, body_base64) = match String::from_utf8(body) {
        Ok(text) => (Some(scrub(&text, secret, declaration)), None),
        Err(binary) => {
            let bytes = binary.into_bytes();
            if contains_secret(&bytes, secret) {
                return Err(Error::new(
                    ErrorCode::Conflict,
                    "the answer holds the secret's value in a binary body, so it is not relayed",
                ));
            }
            (None, Some(STANDARD.encode(bytes)))
        }
    };
    Ok(UseResponse {
        status,
        headers,
        body,
        body_base64,
    })
}
