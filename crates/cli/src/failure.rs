//! How the CLI fails: a message, an optional hint for what to do next, and an exit code
//! from the documented set.

use strongroom_client::ClientError;

/// Exit codes (documented in `strongroom --help` and docs/cli.md).
pub mod exit {
    /// Any other error.
    pub const ERROR: u8 = 1;
    /// Bad arguments.
    pub const USAGE: u8 = 2;
    /// Not signed in, or authentication failed.
    pub const AUTH: u8 = 3;
    /// Permission denied.
    pub const DENIED: u8 = 4;
    /// Not found.
    pub const NOT_FOUND: u8 = 5;
    /// `audit verify` found an entry that was changed, removed, inserted or reordered.
    pub const TAMPERED: u8 = 6;
}

/// A failed command.
#[derive(Debug)]
pub struct Failure {
    pub exit_code: u8,
    pub code: Option<String>,
    pub message: String,
    pub hint: Option<String>,
}

pub type CliResult<T = ()> = Result<T, Failure>;

impl Failure {
    pub fn new(exit_code: u8, message: impl Into<String>) -> Self {
        Self {
            exit_code,
            code: None,
            message: message.into(),
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Self::new(exit::USAGE, message)
    }

    /// Only an exit code: the command already said everything on standard output.
    pub fn silent(exit_code: u8) -> Self {
        Self::new(exit_code, "")
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

fn acting_as_machine_or_token() -> bool {
    std::env::var_os("STRONGROOM_MACHINE_KEY").is_some()
        || std::env::var("STRONGROOM_TOKEN").is_ok_and(|t| t.starts_with("sr_"))
}

impl From<ClientError> for Failure {
    fn from(e: ClientError) -> Self {
        let (exit_code, hint) = match e.code() {
            // A machine or a token cannot sign in: the server's message says what to fix.
            Some("unauthenticated") if acting_as_machine_or_token() => (exit::AUTH, None),
            Some("unauthenticated") => (exit::AUTH, Some("sign in with `strongroom login`")),
            Some("invalid_credentials" | "invalid_totp") => (exit::AUTH, None),
            Some("totp_required") => (
                exit::AUTH,
                Some("add --totp CODE (or --recovery-code CODE)"),
            ),
            Some("step_up_required") => (exit::AUTH, Some("run `strongroom step-up`, then retry")),
            Some(
                "permission_denied" | "policy_denied" | "plan_limit_reached" | "plan_required",
            ) => (exit::DENIED, None),
            Some("email_not_verified") => (
                exit::DENIED,
                Some("enter the code you were sent with `strongroom verify-email CODE`"),
            ),
            Some("not_found" | "route_not_found") => (exit::NOT_FOUND, None),
            Some("invalid_name" | "invalid_path") => (exit::USAGE, None),
            _ if matches!(e, ClientError::BadPath(_)) => (exit::USAGE, None),
            _ => (exit::ERROR, None),
        };
        Self {
            exit_code,
            code: e.code().map(str::to_owned),
            message: e.to_string(),
            hint: hint.map(str::to_owned),
        }
    }
}

impl From<strongroom_core::Error> for Failure {
    fn from(e: strongroom_core::Error) -> Self {
        use strongroom_core::ErrorCode;
        let exit_code = match e.code() {
            ErrorCode::InvalidName | ErrorCode::InvalidPath | ErrorCode::InvalidValue => {
                exit::USAGE
            }
            _ => exit::ERROR,
        };
        Self {
            exit_code,
            code: Some(e.code().as_str().to_owned()),
            message: e.internal_detail().unwrap_or(e.message()).to_owned(),
            hint: None,
        }
    }
}

impl From<std::io::Error> for Failure {
    fn from(e: std::io::Error) -> Self {
        Self::new(exit::ERROR, e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exit_for(code: &str) -> u8 {
        Failure::from(ClientError::Api {
            status: 400,
            code: code.into(),
            message: "m".into(),
        })
        .exit_code
    }

    #[test]
    fn server_error_codes_map_to_the_documented_exit_codes() {
        for code in [
            "unauthenticated",
            "invalid_credentials",
            "totp_required",
            "invalid_totp",
            "step_up_required",
        ] {
            assert_eq!(exit_for(code), exit::AUTH, "{code}");
        }
        assert_eq!(exit_for("permission_denied"), exit::DENIED);
        assert_eq!(exit_for("not_found"), exit::NOT_FOUND);
        assert_eq!(exit_for("invalid_name"), exit::USAGE);
        assert_eq!(exit_for("conflict"), exit::ERROR);
        assert_eq!(
            Failure::from(ClientError::BadPath("x".into())).exit_code,
            exit::USAGE
        );
    }
}
