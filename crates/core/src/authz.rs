//! The single authorization decision. Every request, from every kind of principal, is
//! turned into `(principal, action, resource)` and passed to [`decide`]; the storage layer
//! only accepts an [`Authorized`] proof, which nothing but [`authorize`] can make. So no
//! handler can reach a vault's data without a decision, and a handler never compares
//! vault ids itself.
//!
//! Denials of things the principal may not even know exist are marked `hidden`, and the
//! API answers them exactly like "not found".

use crate::error::{Error, ErrorCode};
use crate::ids::{UserId, VaultId};
use std::fmt;
use std::str::FromStr;

/// A member's role in a vault (the management matrix arrives with custom roles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VaultRole {
    /// The one owner: holds everything.
    Owner,
    /// Everything but billing, authoring roles and deleting or transferring the vault.
    Admin,
    /// Machines, agents, integrations, the roster, own trash and own audit entries.
    Developer,
    /// The overview and their own audit entries.
    Collaborator,
}

impl VaultRole {
    /// Storage and wire form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Developer => "developer",
            Self::Collaborator => "collaborator",
        }
    }
}

impl FromStr for VaultRole {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "owner" => Ok(Self::Owner),
            "admin" => Ok(Self::Admin),
            "developer" => Ok(Self::Developer),
            "collaborator" => Ok(Self::Collaborator),
            _ => Err(Error::new(ErrorCode::InvalidValue, "unknown vault role")),
        }
    }
}

impl fmt::Display for VaultRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A signed-in user acting inside the vault their session has selected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    /// The account.
    pub user_id: UserId,
    /// The vault this request acts in.
    pub vault_id: VaultId,
    /// Their role in that vault.
    pub role: VaultRole,
}

/// Whoever is making the request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    /// A person, through a session.
    Member(Member),
}

/// What the principal wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read or change one's own account: sessions, TOTP, password.
    ManageOwnAccount,
    /// List applications, projects and environments.
    ReadStructure,
    /// Create applications, projects and environments.
    WriteStructure,
    /// List secrets and read their metadata and history (never values).
    ReadSecretMetadata,
    /// Create a secret, write a new version, roll back or import.
    WriteSecret,
    /// See a secret's plaintext value.
    RevealSecret,
    /// Move a secret to the trash, or bring it back.
    DeleteSecret,
    /// Destroy a secret and all its versions for good.
    PurgeSecret,
}

impl Action {
    /// Stable name for logs and, later, audit entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ManageOwnAccount => "account.manage",
            Self::ReadStructure => "structure.read",
            Self::WriteStructure => "structure.write",
            Self::ReadSecretMetadata => "secret.read",
            Self::WriteSecret => "secret.write",
            Self::RevealSecret => "secret.reveal",
            Self::DeleteSecret => "secret.delete",
            Self::PurgeSecret => "secret.purge",
        }
    }

    fn is_vault_action(self) -> bool {
        !matches!(self, Self::ManageOwnAccount)
    }
}

/// What the action is aimed at.
#[derive(Debug, Clone, Copy)]
pub enum Resource<'a> {
    /// A user's own account.
    Account(&'a UserId),
    /// Anything inside a vault.
    Vault(&'a VaultId),
}

/// The outcome of [`decide`], with the reason (for logs, audit and tests).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    /// Whether the action may proceed.
    pub allowed: bool,
    /// Why.
    pub reason: &'static str,
    /// A denial the principal must not be able to tell from "does not exist".
    pub hidden: bool,
}

impl Decision {
    const fn allow(reason: &'static str) -> Self {
        Self {
            allowed: true,
            reason,
            hidden: false,
        }
    }
    const fn deny(reason: &'static str) -> Self {
        Self {
            allowed: false,
            reason,
            hidden: false,
        }
    }
    const fn hide(reason: &'static str) -> Self {
        Self {
            allowed: false,
            reason,
            hidden: true,
        }
    }
}

/// The decision. Pure, allocation-free, and independent of how many members or secrets
/// a vault holds.
pub fn decide(principal: &Principal, action: Action, resource: Resource<'_>) -> Decision {
    let Principal::Member(member) = principal;
    match resource {
        Resource::Account(user) => {
            if action != Action::ManageOwnAccount {
                Decision::deny("this action does not apply to an account")
            } else if *user == member.user_id {
                Decision::allow("a user manages their own account")
            } else {
                Decision::hide("another user's account")
            }
        }
        Resource::Vault(vault) => {
            if *vault != member.vault_id {
                Decision::hide("the resource belongs to another vault")
            } else if !action.is_vault_action() {
                Decision::deny("this action does not apply inside a vault")
            } else {
                match member.role {
                    VaultRole::Owner | VaultRole::Admin => {
                        Decision::allow("owners and admins hold every data-plane action")
                    }
                    VaultRole::Developer | VaultRole::Collaborator => Decision::deny(
                        "this role opens applications only through an access role, and none is assigned",
                    ),
                }
            }
        }
    }
}

/// Proof that [`decide`] allowed an action. Storage methods take it and read the vault and
/// actor from it, so they cannot be pointed at another vault.
#[derive(Debug, Clone)]
pub struct Authorized {
    actor: UserId,
    vault: Option<VaultId>,
    action: Action,
}

impl Authorized {
    /// The user on whose behalf the action runs.
    pub fn actor(&self) -> &UserId {
        &self.actor
    }

    /// The action that was allowed.
    pub fn action(&self) -> Action {
        self.action
    }

    /// The vault the action may touch. Errors if the proof was for an account action.
    pub fn vault(&self) -> Result<&VaultId, Error> {
        self.vault
            .as_ref()
            .ok_or_else(|| Error::internal("a vault operation was given an account-level proof"))
    }

    /// Checks that this proof covers `action`; a mismatch is a programming error.
    pub fn require(&self, action: Action) -> Result<(), Error> {
        if self.action == action {
            Ok(())
        } else {
            Err(Error::internal(format!(
                "operation needs {} but was authorized for {}",
                action.as_str(),
                self.action.as_str()
            )))
        }
    }
}

/// Runs [`decide`] and turns an allow into a proof, a deny into the error the caller sees.
pub fn authorize(
    principal: &Principal,
    action: Action,
    resource: Resource<'_>,
) -> Result<Authorized, Error> {
    let decision = decide(principal, action, resource);
    if !decision.allowed {
        return Err(if decision.hidden {
            Error::not_found("resource")
        } else {
            Error::new(
                ErrorCode::PermissionDenied,
                format!("permission denied: {}", decision.reason),
            )
        });
    }
    let Principal::Member(member) = principal;
    Ok(Authorized {
        actor: member.user_id.clone(),
        vault: match resource {
            Resource::Vault(v) => Some(v.clone()),
            Resource::Account(_) => None,
        },
        action,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn member(role: VaultRole) -> Principal {
        Principal::Member(Member {
            user_id: UserId::from_random([1; 16]),
            vault_id: VaultId::from_random([2; 16]),
            role,
        })
    }

    fn vault_of(p: &Principal) -> VaultId {
        let Principal::Member(m) = p;
        m.vault_id.clone()
    }

    const VAULT_ACTIONS: [Action; 7] = [
        Action::ReadStructure,
        Action::WriteStructure,
        Action::ReadSecretMetadata,
        Action::WriteSecret,
        Action::RevealSecret,
        Action::DeleteSecret,
        Action::PurgeSecret,
    ];

    #[test]
    fn the_owner_may_do_everything_in_their_own_vault() {
        let p = member(VaultRole::Owner);
        let v = vault_of(&p);
        for action in VAULT_ACTIONS {
            assert!(
                decide(&p, action, Resource::Vault(&v)).allowed,
                "{action:?}"
            );
        }
    }

    #[test]
    fn another_vault_is_hidden_not_forbidden() {
        let p = member(VaultRole::Owner);
        let other = VaultId::from_random([9; 16]);
        for action in VAULT_ACTIONS {
            let d = decide(&p, action, Resource::Vault(&other));
            assert!(!d.allowed && d.hidden, "{action:?}");
        }
        assert_eq!(
            authorize(&p, Action::RevealSecret, Resource::Vault(&other))
                .err()
                .map(|e| e.code()),
            Some(ErrorCode::NotFound)
        );
    }

    #[test]
    fn members_without_an_access_role_open_nothing() {
        for role in [VaultRole::Developer, VaultRole::Collaborator] {
            let p = member(role);
            let v = vault_of(&p);
            for action in VAULT_ACTIONS {
                let d = decide(&p, action, Resource::Vault(&v));
                assert!(!d.allowed && !d.hidden, "{role:?} {action:?}");
            }
        }
    }

    #[test]
    fn a_user_manages_only_their_own_account() {
        let p = member(VaultRole::Collaborator);
        let Principal::Member(m) = &p;
        assert!(decide(&p, Action::ManageOwnAccount, Resource::Account(&m.user_id)).allowed);
        let stranger = UserId::from_random([5; 16]);
        let d = decide(&p, Action::ManageOwnAccount, Resource::Account(&stranger));
        assert!(!d.allowed && d.hidden);
    }

    #[test]
    fn a_proof_covers_only_the_action_it_was_made_for() {
        let p = member(VaultRole::Owner);
        let v = vault_of(&p);
        let proof = authorize(&p, Action::ReadSecretMetadata, Resource::Vault(&v))
            .unwrap_or_else(|e| panic!("{e}"));
        assert!(proof.require(Action::ReadSecretMetadata).is_ok());
        assert!(proof.require(Action::RevealSecret).is_err());
        assert_eq!(proof.vault().ok(), Some(&v));
    }
}
