//! `strongroom check`: the decision for one member, one action and one resource, in one
//! line a person can act on. It asks the same functions every request goes through, so
//! the explanation cannot drift from what the server enforces.

use crate::access::{AccessRole, Verb, Verdict};
use crate::authz::Standing;
use crate::capability::Capability;
use crate::names::SecretPath;
use crate::secret::SecretType;

/// What is being asked about.
#[derive(Debug, Clone)]
pub enum Question {
    /// A cell of the management matrix.
    Capability(Capability),
    /// A verb on a secret (its type, when the secret exists).
    Secret {
        /// The verb.
        verb: Verb,
        /// The secret.
        path: SecretPath,
        /// Its type, if known.
        secret_type: Option<SecretType>,
    },
}

/// The member being asked about, as the server sees them on their next request.
#[derive(Debug, Clone)]
pub struct Subject<'a> {
    /// Their username, for the sentence.
    pub username: &'a str,
    /// Their standing in the vault.
    pub standing: Standing,
    /// Their vault role's name (a custom role's own name).
    pub role_name: &'a str,
    /// Their access role's name and compiled form, if they hold one.
    pub access: Option<(&'a str, &'a AccessRole)>,
}

/// The answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Explanation {
    /// Whether the action would be allowed.
    pub allowed: bool,
    /// One line: the decision, and why, and (for a denial) what would change it.
    pub reason: String,
}

fn allow(reason: String) -> Explanation {
    Explanation {
        allowed: true,
        reason,
    }
}

fn deny(reason: String) -> Explanation {
    Explanation {
        allowed: false,
        reason,
    }
}

/// Explains the decision for `subject` on `question`.
pub fn explain(subject: &Subject<'_>, question: &Question) -> Explanation {
    let who = subject.username;
    let role_name = subject.role_name;
    let role = match subject.standing {
        Standing::Active(role) => role,
        Standing::Suspended => {
            return deny(format!(
                "{who} is suspended in this vault: `strongroom members unsuspend {who}`"
            ));
        }
        Standing::NotMember => return deny(format!("{who} is not a member of this vault")),
        Standing::VaultDeleted => return deny("this organization has been deleted".into()),
        Standing::OutsideAllowlist => {
            return deny(format!(
                "{who} is asking from outside the vault's IP allowlist"
            ));
        }
    };
    match question {
        Question::Capability(cell) => {
            if role.holds(*cell) {
                allow(format!("{who} may: vault role {role_name} holds {cell}"))
            } else {
                deny(format!(
                    "{who} may not: vault role {role_name} does not hold {cell} (`strongroom roles show {role_name}`)"
                ))
            }
        }
        Question::Secret {
            verb,
            path,
            secret_type,
        } => {
            if role.sees_everything() {
                return allow(format!(
                    "{who} may {verb} {path}: vault role {role_name} opens every secret"
                ));
            }
            let Some((name, access)) = subject.access else {
                return deny(format!(
                    "{who} may not {verb} {path}: they hold no access role \
                     (`strongroom members set-role {who} --access-role NAME`)"
                ));
            };
            let verdict = access.verdict(path, *secret_type);
            let read_off = matches!(&verdict, Verdict::Open(off) if off.contains(Verb::Read));
            match verdict {
                Verdict::OutOfScope => deny(format!(
                    "{who} may not {verb} {path}: access role {name} does not open {}",
                    path.environment.project
                )),
                Verdict::Denied(rule) => deny(format!(
                    "{who} may not {verb} {path}: path rule '{rule}' of access role {name} denies it"
                )),
                Verdict::Refused(why) => deny(format!("{who} may not {verb} {path}: {why}")),
                Verdict::Open(off) if off.contains(*verb) || read_off => deny(format!(
                    "{who} may not {verb} {path}: access role {name} switches '{}' off there \
                     (`strongroom access-roles edit {name}`)",
                    if read_off { Verb::Read } else { *verb }
                )),
                Verdict::Open(_) => allow(format!(
                    "{who} may {verb} {path}: access role {name} opens {} and leaves '{verb}' on",
                    path.environment.project
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::AccessRoleSpec;
    use crate::authz::VaultRole;

    fn role(json: &str) -> AccessRole {
        let spec: AccessRoleSpec = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}"));
        AccessRole::compile(&spec).unwrap_or_else(|e| panic!("{e}"))
    }

    fn reveal(path: &str) -> Question {
        Question::Secret {
            verb: Verb::Reveal,
            path: path.parse().unwrap_or_else(|e| panic!("{e}")),
            secret_type: None,
        }
    }

    #[test]
    fn each_kind_of_decision_explains_itself_in_one_line() {
        let readers = role(
            r#"{"scope": {"projects": ["payments/api"]}, "environments": {"production": ["reveal"]},
                "deny": ["payments/api/staging/STRIPE_*"]}"#,
        );
        let dev = Subject {
            username: "bob",
            standing: Standing::Active(VaultRole::Developer),
            role_name: "developer",
            access: Some(("readers", &readers)),
        };
        let cases = [
            (reveal("payments/api/dev/KEY"), true, "opens payments/api"),
            (
                reveal("payments/api/production/KEY"),
                false,
                "switches 'reveal' off",
            ),
            (
                reveal("payments/api/staging/STRIPE_KEY"),
                false,
                "path rule 'payments/api/staging/STRIPE_*'",
            ),
            (
                reveal("billing/api/dev/KEY"),
                false,
                "does not open billing/api",
            ),
            (
                Question::Capability(Capability::MembersView),
                true,
                "holds members.view",
            ),
            (
                Question::Capability(Capability::MembersInvite),
                false,
                "does not hold members.invite",
            ),
        ];
        for (question, allowed, phrase) in cases {
            let answer = explain(&dev, &question);
            assert_eq!(answer.allowed, allowed, "{question:?}: {}", answer.reason);
            assert!(answer.reason.contains(phrase), "{}", answer.reason);
            assert!(!answer.reason.contains('\n'));
        }
        let without = Subject {
            access: None,
            ..dev.clone()
        };
        assert!(
            explain(&without, &reveal("payments/api/dev/KEY"))
                .reason
                .contains("--access-role")
        );
        let suspended = Subject {
            standing: Standing::Suspended,
            ..dev
        };
        assert!(
            explain(&suspended, &reveal("payments/api/dev/KEY"))
                .reason
                .contains("unsuspend")
        );
    }
}
