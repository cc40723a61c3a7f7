//! What a role change would do, before it is saved: which capabilities the members who
//! hold the role gain or lose, and where. Admins read it as sentences ("3 members gain
//! reveal on payments/api/production") so a mistake shows before it takes effect. It
//! asks the same decision functions requests go through, so it cannot drift from them.

use crate::access::{AccessOutcome, AccessRole, Verb};
use crate::capability::{Capabilities, Capability};
use crate::names::EnvironmentPath;
use std::collections::BTreeMap;

/// Gained or lost.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Direction {
    /// Allowed after, not before.
    Gain,
    /// Allowed before, not after.
    Lose,
}

impl Direction {
    /// `gain` or `lose`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gain => "gain",
            Self::Lose => "lose",
        }
    }
}

/// One capability gained or lost, and where (environments; empty for a vault-wide cell).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    /// Gained or lost.
    pub direction: Direction,
    /// A verb (`reveal`) or a matrix cell (`members.invite`).
    pub what: String,
    /// `app/project/env` paths, sorted.
    pub places: Vec<String>,
}

/// Every verb's change on every listed environment between two access roles, grouped by
/// direction and verb.
pub fn access_role_changes(
    before: &AccessRole,
    after: &AccessRole,
    environments: &[EnvironmentPath],
) -> Vec<Change> {
    let mut grouped: BTreeMap<(Direction, usize), Vec<String>> = BTreeMap::new();
    for (index, verb) in Verb::ALL.iter().enumerate() {
        for env in environments {
            let was = before.decide_environment(*verb, env) == AccessOutcome::Allowed;
            let is = after.decide_environment(*verb, env) == AccessOutcome::Allowed;
            let direction = match (was, is) {
                (false, true) => Direction::Gain,
                (true, false) => Direction::Lose,
                _ => continue,
            };
            grouped
                .entry((direction, index))
                .or_default()
                .push(env.to_string());
        }
    }
    grouped
        .into_iter()
        .map(|((direction, index), mut places)| {
            places.sort();
            Change {
                direction,
                what: Verb::ALL[index].as_str().to_owned(),
                places,
            }
        })
        .collect()
}

/// The matrix cells gained and lost between two rows.
pub fn capability_changes(before: Capabilities, after: Capabilities) -> Vec<Change> {
    let mut changes = Vec::new();
    for (direction, cells) in [
        (Direction::Gain, after.beyond(before)),
        (Direction::Lose, before.beyond(after)),
    ] {
        changes.extend(cells.into_iter().map(|cell: Capability| Change {
            direction,
            what: cell.as_str().to_owned(),
            places: Vec::new(),
        }));
    }
    changes
}

/// The changes as sentences about `holders`, the members who hold the role.
pub fn sentences(changes: &[Change], holders: &[String]) -> Vec<String> {
    let who = match holders.len() {
        0 => {
            return vec![
                "No member holds this role yet, so saving changes no one's access.".into(),
            ];
        }
        1 => holders[0].clone(),
        n => format!("{n} members ({})", holders.join(", ")),
    };
    if changes.is_empty() {
        return vec![format!("Nothing changes for {who}.")];
    }
    changes
        .iter()
        .map(|c| {
            let verb = match (c.direction, holders.len()) {
                (Direction::Gain, 1) => "gains",
                (Direction::Lose, 1) => "loses",
                (d, _) => d.as_str(),
            };
            if c.places.is_empty() {
                format!("{who} {verb} {}", c.what)
            } else {
                format!("{who} {verb} {} on {}", c.what, c.places.join(", "))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessRoleSpec;

    fn role(json: serde_json::Value) -> AccessRole {
        let spec: AccessRoleSpec = serde_json::from_value(json).unwrap_or_else(|e| panic!("{e}"));
        AccessRole::compile(&spec).unwrap_or_else(|e| panic!("{e}"))
    }

    fn envs(paths: &[&str]) -> Vec<EnvironmentPath> {
        paths
            .iter()
            .map(|p| p.parse().unwrap_or_else(|e| panic!("{e}")))
            .collect()
    }

    #[test]
    fn switching_a_verb_on_in_one_environment_is_a_gain_there_only() {
        let before = role(
            serde_json::json!({"scope": "everything", "environments": {"production": ["reveal"]}}),
        );
        let after = role(serde_json::json!({"scope": "everything"}));
        let changes = access_role_changes(
            &before,
            &after,
            &envs(&["payments/api/production", "payments/api/staging"]),
        );
        assert_eq!(
            changes,
            vec![Change {
                direction: Direction::Gain,
                what: "reveal".into(),
                places: vec!["payments/api/production".into()],
            }]
        );
    }

    #[test]
    fn narrowing_the_scope_loses_every_verb_outside_it() {
        let before = role(serde_json::json!({"scope": "everything"}));
        let after = role(serde_json::json!({"scope": {"projects": ["payments/api"]}}));
        let changes = access_role_changes(
            &before,
            &after,
            &envs(&["payments/api/production", "billing/worker/production"]),
        );
        assert_eq!(changes.len(), Verb::ALL.len());
        assert!(changes.iter().all(|c| c.direction == Direction::Lose
            && c.places == vec!["billing/worker/production".to_owned()]));
    }

    #[test]
    fn a_deny_rule_on_an_environment_is_a_loss_there() {
        let before = role(serde_json::json!({"scope": "everything"}));
        let after =
            role(serde_json::json!({"scope": "everything", "deny": ["payments/+/production"]}));
        let changes = access_role_changes(
            &before,
            &after,
            &envs(&["payments/api/production", "payments/api/staging"]),
        );
        assert!(!changes.is_empty());
        assert!(changes.iter().all(|c| c.direction == Direction::Lose
            && c.places == vec!["payments/api/production".to_owned()]));
    }

    #[test]
    fn capability_changes_name_cells_gained_and_lost() {
        let before = Capabilities::of(&[Capability::Overview, Capability::MembersView]);
        let after = Capabilities::of(&[Capability::Overview, Capability::AuditViewOthers]);
        let changes = capability_changes(before, after);
        assert_eq!(
            changes
                .iter()
                .map(|c| (c.direction, c.what.as_str()))
                .collect::<Vec<_>>(),
            vec![
                (Direction::Gain, "audit.view_others"),
                (Direction::Lose, "members.view")
            ]
        );
    }

    #[test]
    fn sentences_count_and_name_the_members_affected() {
        let changes = vec![Change {
            direction: Direction::Gain,
            what: "reveal".into(),
            places: vec!["payments/api/production".into()],
        }];
        let holders = vec!["bob".to_owned(), "carol".to_owned(), "dan".to_owned()];
        assert_eq!(
            sentences(&changes, &holders),
            vec!["3 members (bob, carol, dan) gain reveal on payments/api/production".to_owned()]
        );
        assert_eq!(
            sentences(&changes, &holders[..1]),
            vec!["bob gains reveal on payments/api/production".to_owned()]
        );
        assert!(sentences(&[], &holders)[0].starts_with("Nothing changes"));
        assert!(sentences(&changes, &[])[0].starts_with("No member holds"));
    }
}
