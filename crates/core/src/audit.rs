//! The audit log's vocabulary: who acted (the kind of actor), how much an entry matters
//! (severity) and how the action ended (outcome). The stored and wire forms are the
//! lowercase names; parsing refuses anything else with a message that lists them.

use crate::{Error, ErrorCode};
use std::fmt;
use std::str::FromStr;

macro_rules! vocabulary {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$vdoc])* $variant),+
        }

        impl $name {
            /// Every value, in order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// The stored and wire name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $text),+
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl FromStr for $name {
            type Err = Error;

            fn from_str(s: &str) -> Result<Self, Error> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|value| value.as_str() == s)
                    .ok_or_else(|| {
                        let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                        Error::new(
                            ErrorCode::InvalidValue,
                            format!("unknown {} '{s}': use one of {}", $what, names.join(", ")),
                        )
                    })
            }
        }
    };
}

vocabulary!(
    /// Who an entry's action was taken by.
    ActorKind, "actor kind" {
        /// A member, through a session.
        Member => "member",
        /// A machine, through a signed request.
        Machine => "machine",
        /// An AI agent's token.
        Agent => "agent",
        /// A CI (integration) token.
        Token => "token",
        /// The operator or the server itself.
        System => "system",
        /// Someone not authenticated (a failed sign-in, a bad signature).
        External => "external",
    }
);

vocabulary!(
    /// How much an entry matters to someone watching the log.
    Severity, "severity" {
        /// Routine: reads and listings.
        Info => "info",
        /// Worth noticing: values seen, ordinary changes.
        Notice => "notice",
        /// Worth a look: refusals, removals, access widened.
        Warning => "warning",
        /// Act now: ownership, deletion, the organization itself.
        Critical => "critical",
    }
);

vocabulary!(
    /// How the action ended.
    Outcome, "outcome" {
        /// It was allowed and done.
        Allowed => "allowed",
        /// Authorization, a policy, a limit or authentication refused it.
        Denied => "denied",
        /// It failed for another reason (bad input, a conflict, a fault).
        Error => "error",
    }
);

impl From<crate::authz::TokenKind> for ActorKind {
    /// An agent's token acts as an agent; a CI token as a token.
    fn from(kind: crate::authz::TokenKind) -> Self {
        match kind {
            crate::authz::TokenKind::Agent => Self::Agent,
            crate::authz::TokenKind::Ci => Self::Token,
        }
    }
}

impl Outcome {
    /// How a failed request ended, by its error code.
    pub fn of_failure(code: ErrorCode) -> Self {
        match code {
            ErrorCode::Unauthenticated
            | ErrorCode::InvalidCredentials
            | ErrorCode::InvalidTotp
            | ErrorCode::TotpRequired
            | ErrorCode::StepUpRequired
            | ErrorCode::PermissionDenied
            | ErrorCode::PolicyDenied
            | ErrorCode::PlanLimitReached
            | ErrorCode::PlanRequired
            | ErrorCode::EmailNotVerified
            | ErrorCode::RateLimited => Self::Denied,
            _ => Self::Error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_parses_back_to_its_value() {
        for kind in ActorKind::ALL {
            assert_eq!(kind.as_str().parse::<ActorKind>().ok(), Some(*kind));
        }
        for severity in Severity::ALL {
            assert_eq!(severity.as_str().parse::<Severity>().ok(), Some(*severity));
        }
        for outcome in Outcome::ALL {
            assert_eq!(outcome.as_str().parse::<Outcome>().ok(), Some(*outcome));
        }
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_known_ones() {
        let e = "admin"
            .parse::<ActorKind>()
            .err()
            .map(|e| e.message().to_owned());
        assert_eq!(
            e.as_deref(),
            Some(
                "unknown actor kind 'admin': use one of member, machine, agent, token, system, external"
            )
        );
    }

    #[test]
    fn refusals_are_denials_and_other_failures_errors() {
        assert_eq!(
            Outcome::of_failure(ErrorCode::PermissionDenied),
            Outcome::Denied
        );
        assert_eq!(
            Outcome::of_failure(ErrorCode::PolicyDenied),
            Outcome::Denied
        );
        assert_eq!(Outcome::of_failure(ErrorCode::NotFound), Outcome::Error);
        assert_eq!(Outcome::of_failure(ErrorCode::Internal), Outcome::Error);
    }

    #[test]
    fn severities_order_from_info_to_critical() {
        assert!(Severity::Info < Severity::Notice);
        assert!(Severity::Warning < Severity::Critical);
    }
}
