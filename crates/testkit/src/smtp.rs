//! A mail server for tests: a real SMTP listener on 127.0.0.1 that accepts every message
//! and keeps it, so tests can read what the server under test mailed (verification codes,
//! invite notices) through the same SMTP conversation a real relay would have.

use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

/// One delivered message.
#[derive(Debug, Clone)]
pub struct Delivered {
    /// The envelope recipients (`RCPT TO`).
    pub recipients: Vec<String>,
    /// The message as sent (headers and body).
    pub data: String,
}

/// The running mail sink.
#[derive(Clone)]
pub struct MailSink {
    /// The port it listens on (127.0.0.1).
    pub port: u16,
    delivered: Arc<Mutex<Vec<Delivered>>>,
}

impl MailSink {
    /// Starts listening.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("mail sink: {e}"));
        let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
        let delivered = Arc::new(Mutex::new(Vec::new()));
        let store = delivered.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(serve(socket, store.clone()));
            }
        });
        Self { port, delivered }
    }

    /// Every message delivered so far.
    pub fn delivered(&self) -> Vec<Delivered> {
        self.delivered.lock().map(|d| d.clone()).unwrap_or_default()
    }

    /// Waits (up to 10 s) for a message to `recipient` whose text contains `needle`.
    pub async fn wait_for(&self, recipient: &str, needle: &str) -> Delivered {
        for _ in 0..200 {
            if let Some(found) = self.delivered().into_iter().find(|m| {
                m.recipients
                    .iter()
                    .any(|r| r.eq_ignore_ascii_case(recipient))
                    && m.data.contains(needle)
            }) {
                return found;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "no mail to {recipient} containing {needle:?}; delivered: {:?}",
            self.delivered()
        );
    }
}

async fn serve(socket: tokio::net::TcpStream, store: Arc<Mutex<Vec<Delivered>>>) {
    let (read, mut write) = socket.into_split();
    let mut lines = BufReader::new(read).lines();
    let mut recipients = Vec::new();
    if write.write_all(b"220 mail-sink ESMTP\r\n").await.is_err() {
        return;
    }
    while let Ok(Some(line)) = lines.next_line().await {
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-mail-sink\r\n250 8BITMIME\r\n"
        } else if upper.starts_with("HELO")
            || upper.starts_with("MAIL FROM")
            || upper.starts_with("RSET")
            || upper.starts_with("NOOP")
        {
            b"250 OK\r\n"
        } else if upper.starts_with("RCPT TO") {
            let address = line.split(['<', '>']).nth(1).unwrap_or_default().to_owned();
            recipients.push(address);
            b"250 OK\r\n"
        } else if upper.starts_with("DATA") {
            if write
                .write_all(b"354 end with <CRLF>.<CRLF>\r\n")
                .await
                .is_err()
            {
                return;
            }
            let mut data = String::new();
            while let Ok(Some(body)) = lines.next_line().await {
                if body == "." {
                    break;
                }
                data.push_str(&body);
                data.push('\n');
            }
            if let Ok(mut all) = store.lock() {
                all.push(Delivered {
                    recipients: std::mem::take(&mut recipients),
                    data,
                });
            }
            b"250 queued\r\n"
        } else if upper.starts_with("QUIT") {
            let _ = write.write_all(b"221 bye\r\n").await;
            return;
        } else {
            b"502 not implemented\r\n"
        };
        if write.write_all(reply).await.is_err() {
            return;
        }
    }
}
