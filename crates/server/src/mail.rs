//! Outgoing mail: invite notices and email verification codes. With SMTP configured they
//! go out through lettre (rustls); without it a verification code is printed to the
//! server's console, marked as development-only, so a local install still works. Mail is
//! always sent off the request path: a slow mail server never slows a request, and no
//! answer's timing depends on whether a mail was sent.

use crate::config::SmtpSettings;
use lettre::message::Mailbox;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::sync::Arc;

/// A message to send.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub body: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    Smtp {
        transport: Arc<AsyncSmtpTransport<Tokio1Executor>>,
        from: Mailbox,
    },
    /// No SMTP: verification codes are printed to the console.
    Console,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp { from, .. } => write!(f, "Mailer::Smtp(from {from})"),
            Self::Console => f.write_str("Mailer::Console"),
        }
    }
}

impl Mailer {
    /// Builds the SMTP transport the settings describe (no connection is made yet).
    pub fn from_settings(settings: Option<&SmtpSettings>) -> Result<Self, String> {
        let Some(s) = settings else {
            return Ok(Self::Console);
        };
        let from: Mailbox = s
            .from
            .parse()
            .map_err(|e| format!("smtp.from {:?} is not an email address: {e}", s.from))?;
        let security = s.security.as_deref().unwrap_or("starttls");
        let mut builder = match security {
            "starttls" => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&s.host)
                .map_err(|e| format!("smtp: {e}"))?,
            "tls" => AsyncSmtpTransport::<Tokio1Executor>::relay(&s.host)
                .map_err(|e| format!("smtp: {e}"))?,
            "none" => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&s.host),
            other => {
                return Err(format!(
                    "smtp.security {other:?} is not one of starttls, tls, none"
                ));
            }
        };
        if let Some(port) = s.port {
            builder = builder.port(port);
        }
        if let (Some(user), Some(password)) = (&s.username, &s.password) {
            builder =
                builder.credentials(Credentials::new(user.clone(), password.expose().to_owned()));
        }
        Ok(Self::Smtp {
            transport: Arc::new(builder.build()),
            from,
        })
    }

    /// Whether mail really leaves the machine.
    pub fn is_smtp(&self) -> bool {
        matches!(self, Self::Smtp { .. })
    }

    /// Sends `mail` in the background; failures are logged (without the body).
    pub fn send_later(&self, mail: Mail) {
        if !self.is_smtp() {
            return;
        }
        let mailer = self.clone();
        tokio::spawn(async move {
            if let Err(e) = mailer.send(mail).await {
                tracing::warn!(error = %e, "sending mail failed");
            }
        });
    }

    /// Sends `mail` now; the error says why it did not go (never the body).
    pub async fn send(&self, mail: Mail) -> Result<(), String> {
        let Self::Smtp { transport, from } = self else {
            return Err("no SMTP server is configured".into());
        };
        let to: Mailbox = mail
            .to
            .parse()
            .map_err(|e| format!("unparseable address: {e}"))?;
        let message = Message::builder()
            .from(from.clone())
            .to(to)
            .subject(mail.subject)
            .body(mail.body)
            .map_err(|e| format!("building mail failed: {e}"))?;
        transport
            .send(message)
            .await
            .map(|_| ())
            .map_err(|e| e.to_string())
    }
}
