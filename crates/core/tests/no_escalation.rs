//! Delegation without escalation, as a property: whatever sequence of invites, role
//! changes, suspensions and removals members attempt, the ones the decision function
//! allows never leave anyone holding more than the member who gave it to them held, and
//! never make a second owner.

use proptest::prelude::*;
use strongroom_core::authz::{Action, Member, Principal, Resource, Standing, VaultRole, decide};
use strongroom_core::capability::Capabilities;
use strongroom_core::ids::{UserId, VaultId};

const ROLES: [VaultRole; 4] = [
    VaultRole::Owner,
    VaultRole::Admin,
    VaultRole::Developer,
    VaultRole::Collaborator,
];

#[derive(Debug, Clone)]
enum Edit {
    Invite {
        actor: usize,
        role: usize,
    },
    Assign {
        actor: usize,
        target: usize,
        role: usize,
    },
    Suspend {
        actor: usize,
        target: usize,
    },
    Unsuspend {
        actor: usize,
        target: usize,
    },
    Remove {
        actor: usize,
        target: usize,
    },
}

fn edit() -> impl Strategy<Value = Edit> {
    let who = 0usize..12;
    let role = 0usize..4;
    prop_oneof![
        (who.clone(), role.clone()).prop_map(|(actor, role)| Edit::Invite { actor, role }),
        (who.clone(), who.clone(), role).prop_map(|(actor, target, role)| Edit::Assign {
            actor,
            target,
            role
        }),
        (who.clone(), who.clone()).prop_map(|(actor, target)| Edit::Suspend { actor, target }),
        (who.clone(), who.clone()).prop_map(|(actor, target)| Edit::Unsuspend { actor, target }),
        (who.clone(), who).prop_map(|(actor, target)| Edit::Remove { actor, target }),
    ]
}

#[derive(Debug, Clone)]
struct Seat {
    role: VaultRole,
    suspended: bool,
    /// What the member who gave this role held when they gave it.
    granted_under: Capabilities,
}

struct Vault {
    id: VaultId,
    members: Vec<Option<Seat>>,
}

impl Vault {
    fn principal(&self, who: usize) -> Option<Principal> {
        let seat = self.members.get(who)?.as_ref()?;
        let mut id = [0u8; 16];
        id[0] = u8::try_from(who).unwrap_or(u8::MAX);
        Some(Principal::Member(Member {
            user_id: UserId::from_random(id),
            vault_id: self.id.clone(),
            standing: if seat.suspended {
                Standing::Suspended
            } else {
                Standing::Active(seat.role)
            },
            access: None,
        }))
    }

    fn allowed(&self, actor: usize, action: Action, target: Option<usize>) -> bool {
        let Some(principal) = self.principal(actor) else {
            return false;
        };
        match target {
            None => decide(&principal, action, Resource::Vault(&self.id)).allowed,
            Some(t) => match self.members.get(t).and_then(Option::as_ref) {
                Some(seat) => {
                    let resource = Resource::Member {
                        vault: &self.id,
                        role: seat.role,
                    };
                    decide(&principal, action, resource).allowed
                }
                None => false,
            },
        }
    }

    fn caps(&self, who: usize) -> Capabilities {
        self.members[who]
            .as_ref()
            .map_or(Capabilities::NONE, |s| s.role.capabilities())
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn no_permitted_edit_grants_more_than_its_author_holds(
        edits in proptest::collection::vec(edit(), 1..80)
    ) {
        let owner = Seat {
            role: VaultRole::Owner,
            suspended: false,
            granted_under: Capabilities::all(),
        };
        let mut vault = Vault { id: VaultId::from_random([200; 16]), members: vec![Some(owner)] };
        for edit in edits {
            match edit {
                Edit::Invite { actor, role } => {
                    let role = ROLES[role];
                    if vault.members.len() < 12
                        && vault.allowed(actor, Action::InviteMember(role), None)
                    {
                        let granted_under = vault.caps(actor);
                        vault.members.push(Some(Seat { role, suspended: false, granted_under }));
                    }
                }
                Edit::Assign { actor, target, role } => {
                    let role = ROLES[role];
                    if vault.allowed(actor, Action::AssignRole(role), Some(target)) {
                        let granted_under = vault.caps(actor);
                        if let Some(Some(seat)) = vault.members.get_mut(target) {
                            seat.role = role;
                            seat.granted_under = granted_under;
                        }
                    }
                }
                Edit::Suspend { actor, target } | Edit::Unsuspend { actor, target } => {
                    let suspend = matches!(edit, Edit::Suspend { .. });
                    if vault.allowed(actor, Action::ManageMember, Some(target))
                        && let Some(Some(seat)) = vault.members.get_mut(target)
                    {
                        seat.suspended = suspend;
                    }
                }
                Edit::Remove { actor, target } => {
                    if vault.allowed(actor, Action::ManageMember, Some(target)) {
                        vault.members[target] = None;
                    }
                }
            }
            // After every step: one owner, the first member, active; everyone else holds
            // strictly less than whoever gave them their role held at the time.
            let owners: Vec<usize> = vault
                .members
                .iter()
                .enumerate()
                .filter(|(_, s)| s.as_ref().is_some_and(|s| s.role == VaultRole::Owner))
                .map(|(i, _)| i)
                .collect();
            prop_assert_eq!(owners, vec![0]);
            prop_assert!(vault.members[0].as_ref().is_some_and(|s| !s.suspended));
            for seat in vault.members.iter().skip(1).flatten() {
                prop_assert!(
                    seat.role.capabilities().is_strictly_below(seat.granted_under),
                    "{:?} given under {:?}",
                    seat.role,
                    seat.granted_under
                );
            }
        }
    }
}
