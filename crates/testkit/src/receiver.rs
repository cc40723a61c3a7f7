//! A local HTTP endpoint that records what it receives: a SIEM for the audit mirror, a
//! webhook for alerts. It can refuse its first requests, to show that senders retry.

use axum::extract::{Request, State};
use axum::http::StatusCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    /// Path and query.
    pub uri: String,
    /// Headers, names lowercase.
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl Received {
    /// The first value of header `name`.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct Inner {
    received: Mutex<Vec<Received>>,
    refusals_left: AtomicUsize,
    refused: AtomicUsize,
}

/// A running receiver; it stops with the test's runtime.
#[derive(Clone)]
pub struct Receiver {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    inner: Arc<Inner>,
}

impl Receiver {
    /// Starts a receiver that answers `500` to its first `refuse_first` requests (not
    /// recorded as received) and `204` to the rest.
    pub async fn start(refuse_first: usize) -> Self {
        let inner = Arc::new(Inner {
            refusals_left: AtomicUsize::new(refuse_first),
            ..Default::default()
        });
        let app = axum::Router::new()
            .fallback(
                |State(inner): State<Arc<Inner>>, request: Request| async move {
                    let refuse = inner
                        .refusals_left
                        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                        .is_ok();
                    if refuse {
                        inner.refused.fetch_add(1, Ordering::SeqCst);
                        return StatusCode::INTERNAL_SERVER_ERROR;
                    }
                    let (parts, body) = request.into_parts();
                    let body = axum::body::to_bytes(body, 64 << 20)
                        .await
                        .unwrap_or_default();
                    let received = Received {
                        uri: parts.uri.to_string(),
                        headers: parts
                            .headers
                            .iter()
                            .map(|(n, v)| {
                                (n.to_string(), String::from_utf8_lossy(v.as_bytes()).into())
                            })
                            .collect(),
                        body: String::from_utf8_lossy(&body).into(),
                    };
                    if let Ok(mut log) = inner.received.lock() {
                        log.push(received);
                    }
                    StatusCode::NO_CONTENT
                },
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("cannot start a receiver: {e}"));
        let addr = listener
            .local_addr()
            .unwrap_or_else(|e| panic!("receiver address: {e}"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            url: format!("http://{addr}"),
            inner,
        }
    }

    /// What it has accepted so far, in order.
    pub fn received(&self) -> Vec<Received> {
        self.inner
            .received
            .lock()
            .map(|log| log.clone())
            .unwrap_or_default()
    }

    /// How many requests it refused.
    pub fn refused(&self) -> usize {
        self.inner.refused.load(Ordering::SeqCst)
    }

    /// Waits (up to 20 s) until `done` holds for what was received, and returns it.
    pub async fn wait_for(&self, done: impl Fn(&[Received]) -> bool) -> Vec<Received> {
        for _ in 0..200 {
            let received = self.received();
            if done(&received) {
                return received;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        self.received()
    }
}
