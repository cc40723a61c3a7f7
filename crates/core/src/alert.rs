//! Alert rules: which audit entries a rule picks out. A rule names any of actions (exact,
//! or a family such as `secret.*`), a lowest severity, an outcome, a target path prefix
//! and a kind of actor; an entry matches when it meets every condition the rule sets.

use crate::audit::{ActorKind, Outcome, Severity};
use crate::{Error, ErrorCode};

/// Most actions one rule may list.
pub const MAX_ACTIONS: usize = 32;

/// The conditions of one rule; unset conditions match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertFilter {
    /// Actions (`secret.reveal`) or families (`secret.*`); empty matches any action.
    pub actions: Vec<String>,
    /// This severity or higher.
    pub min_severity: Option<Severity>,
    /// Only this outcome.
    pub outcome: Option<Outcome>,
    /// Only targets starting with this.
    pub target_prefix: Option<String>,
    /// Only this kind of actor.
    pub actor_kind: Option<ActorKind>,
}

/// The parts of an audit entry a rule looks at.
#[derive(Debug, Clone, Copy)]
pub struct AlertSubject<'a> {
    /// The entry's action.
    pub action: &'a str,
    /// Its severity.
    pub severity: Severity,
    /// Its outcome.
    pub outcome: Outcome,
    /// Its target.
    pub target: &'a str,
    /// The kind of its actor.
    pub actor_kind: ActorKind,
}

impl AlertFilter {
    /// Refuses actions that are not `family.verb`, `family.*` or `*`, and too many.
    pub fn validate(&self) -> Result<(), Error> {
        if self.actions.len() > MAX_ACTIONS {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("a rule may list at most {MAX_ACTIONS} actions"),
            ));
        }
        for action in &self.actions {
            let well_formed = action == "*"
                || action.split_once('.').is_some_and(|(family, verb)| {
                    !family.is_empty()
                        && !verb.is_empty()
                        && family.chars().all(|c| c.is_ascii_lowercase() || c == '_')
                        && (verb == "*" || verb.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
                });
            if !well_formed {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "action {action:?} is not an action (secret.reveal), a family \
                         (secret.*) or *"
                    ),
                ));
            }
        }
        if self.target_prefix.as_ref().is_some_and(|p| p.len() > 512) {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "a target prefix may be at most 512 bytes",
            ));
        }
        Ok(())
    }

    /// Whether an entry meets every condition.
    pub fn matches(&self, entry: &AlertSubject<'_>) -> bool {
        let action = self.actions.is_empty()
            || self.actions.iter().any(|wanted| {
                wanted == "*"
                    || match wanted.strip_suffix('*') {
                        Some(family) => entry.action.starts_with(family),
                        None => wanted == entry.action,
                    }
            });
        action
            && self.min_severity.is_none_or(|min| entry.severity >= min)
            && self.outcome.is_none_or(|o| o == entry.outcome)
            && self
                .target_prefix
                .as_deref()
                .is_none_or(|p| entry.target.starts_with(p))
            && self.actor_kind.is_none_or(|k| k == entry.actor_kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reveal_denied() -> AlertSubject<'static> {
        AlertSubject {
            action: "secret.reveal",
            severity: Severity::Warning,
            outcome: Outcome::Denied,
            target: "payments/api/production/KEY",
            actor_kind: ActorKind::Machine,
        }
    }

    #[test]
    fn an_empty_rule_matches_everything() {
        assert!(AlertFilter::default().matches(&reveal_denied()));
    }

    #[test]
    fn a_rule_matches_only_when_every_condition_holds() {
        let rule = AlertFilter {
            actions: vec!["secret.*".into()],
            min_severity: Some(Severity::Warning),
            outcome: Some(Outcome::Denied),
            target_prefix: Some("payments/".into()),
            actor_kind: Some(ActorKind::Machine),
        };
        assert!(rule.matches(&reveal_denied()));
        for miss in [
            AlertSubject {
                action: "member.suspend",
                ..reveal_denied()
            },
            AlertSubject {
                severity: Severity::Notice,
                ..reveal_denied()
            },
            AlertSubject {
                outcome: Outcome::Allowed,
                ..reveal_denied()
            },
            AlertSubject {
                target: "billing/api/production/KEY",
                ..reveal_denied()
            },
            AlertSubject {
                actor_kind: ActorKind::Member,
                ..reveal_denied()
            },
        ] {
            assert!(!rule.matches(&miss), "{miss:?}");
        }
    }

    #[test]
    fn listed_actions_match_exactly_or_by_family() {
        let rule = AlertFilter {
            actions: vec!["member.suspend".into(), "token.*".into()],
            ..Default::default()
        };
        assert!(rule.matches(&AlertSubject {
            action: "member.suspend",
            ..reveal_denied()
        }));
        assert!(rule.matches(&AlertSubject {
            action: "token.create",
            ..reveal_denied()
        }));
        assert!(!rule.matches(&AlertSubject {
            action: "member.suspended",
            ..reveal_denied()
        }));
        assert!(!rule.matches(&reveal_denied()));
    }

    #[test]
    fn malformed_actions_are_refused() {
        for bad in [
            "reveal",
            "secret.",
            ".reveal",
            "Secret.Reveal",
            "secret.re veal",
        ] {
            let rule = AlertFilter {
                actions: vec![bad.into()],
                ..Default::default()
            };
            assert!(rule.validate().is_err(), "{bad}");
        }
        let ok = AlertFilter {
            actions: vec!["secret.reveal".into(), "secret.*".into(), "*".into()],
            ..Default::default()
        };
        assert!(ok.validate().is_ok());
    }
}
