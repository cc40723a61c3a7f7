//! Delegation without escalation, as a property. Random sequences of invites, role
//! changes, suspensions, removals, custom vault roles and access roles written and edited
//! by random members: after every step the decision function allowed, nobody holds a
//! cell of the matrix, or a verb on a path, that the member who gave it to them (or last
//! wrote the role they hold) did not hold at the time; and there is still exactly one
//! owner.
//!
//! The data-plane check evaluates concrete paths with the compiled roles' own decisions,
//! not with the containment test the chokepoint uses, so it checks that test rather than
//! repeating it.

use proptest::prelude::*;
use std::sync::Arc;
use strongroom_core::access::{
    AccessOutcome, AccessRole, AccessRoleSpec, ScopeSpec, SwitchesSpec, Verb,
};
use strongroom_core::authz::{
    Action, Authorized, Member, Principal, Resource, Standing, VaultRole, authorize, decide,
};
use strongroom_core::capability::{Capabilities, Capability};
use strongroom_core::ids::{UserId, VaultId};
use strongroom_core::names::SecretPath;
use strongroom_core::secret::SecretType;

const MAX_MEMBERS: usize = 10;
const BUILT_IN: [VaultRole; 4] = VaultRole::ALL;

/// A vault role as a seat refers to it: custom roles by index, so an edit reaches holders.
#[derive(Debug, Clone, Copy, PartialEq)]
enum RoleRef {
    BuiltIn(VaultRole),
    Custom(usize),
}

/// What someone held when they wrote or gave something: the ceiling it must stay under.
#[derive(Debug, Clone)]
struct Ceiling {
    cells: Capabilities,
    /// `None` for owners and admins, who see everything.
    data: Option<Arc<AccessRole>>,
}

#[derive(Debug, Clone)]
struct Seat {
    role: RoleRef,
    suspended: bool,
    role_given_under: Ceiling,
    /// The revision of the custom role when it was given (0 for built-in roles).
    role_revision: u64,
    access: Option<usize>,
    access_given_under: Option<Ceiling>,
    /// The revision of the access role when it was given.
    access_revision: u64,
}

#[derive(Debug, Clone)]
struct CustomRole {
    cells: Capabilities,
    written_under: Ceiling,
    revision: u64,
}

#[derive(Debug, Clone)]
struct AccessEntry {
    role: Arc<AccessRole>,
    written_under: Ceiling,
    revision: u64,
}

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
    WriteCustom {
        actor: usize,
        edit: Option<usize>,
        cells: u32,
    },
    WriteAccess {
        actor: usize,
        edit: Option<usize>,
        spec: AccessRoleSpec,
    },
    GiveAccess {
        actor: usize,
        target: usize,
        role: Option<usize>,
    },
}

const APPS: [&str; 3] = ["payments", "billing", "web"];
const PROJECTS: [&str; 2] = ["api", "worker"];
const ENVS: [&str; 3] = ["dev", "staging", "production"];
const NAMES: [&str; 2] = ["STRIPE_KEY", "DB_URL"];
const DENY_RULES: [&str; 4] = [
    "payments/api/production/STRIPE_*",
    "payments/+/staging",
    "billing",
    "+/+/+/DB_*",
];

fn verbs() -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(Verb::ALL.to_vec(), 0..3)
        .prop_map(|vs| vs.into_iter().map(|v| v.as_str().to_owned()).collect())
}

fn switches() -> impl Strategy<Value = SwitchesSpec> {
    (
        verbs(),
        proptest::option::of(verbs()),
        proptest::option::of(verbs()),
        proptest::option::of(any::<bool>()),
    )
        .prop_map(|(off, certificate, production, machines)| SwitchesSpec {
            off,
            off_by_type: certificate
                .map(|v| [("certificate".to_owned(), v)].into())
                .unwrap_or_default(),
            environments: production
                .map(|v| [("production".to_owned(), v)].into())
                .unwrap_or_default(),
            machines,
            policies: None,
        })
}

fn access_spec() -> impl Strategy<Value = AccessRoleSpec> {
    let all_projects: Vec<String> = APPS
        .iter()
        .flat_map(|a| PROJECTS.iter().map(move |p| format!("{a}/{p}")))
        .collect();
    let scope = prop_oneof![
        Just(ScopeSpec::Everything),
        proptest::sample::subsequence(APPS.to_vec(), 0..3)
            .prop_map(|a| ScopeSpec::Applications(a.into_iter().map(str::to_owned).collect())),
        proptest::sample::subsequence(all_projects.clone(), 0..4).prop_map(ScopeSpec::Projects),
    ];
    (
        scope,
        switches(),
        proptest::option::of((proptest::sample::select(all_projects), switches())),
        proptest::sample::subsequence(DENY_RULES.to_vec(), 0..3),
    )
        .prop_map(|(scope, everywhere, project, deny)| AccessRoleSpec {
            scope,
            everywhere,
            projects: project.into_iter().collect(),
            deny: deny.into_iter().map(str::to_owned).collect(),
        })
}

fn edit() -> impl Strategy<Value = Edit> {
    let who = 0usize..MAX_MEMBERS;
    let role = 0usize..8;
    let pick = proptest::option::of(0usize..6);
    prop_oneof![
        (who.clone(), 0usize..4).prop_map(|(actor, role)| Edit::Invite { actor, role }),
        (who.clone(), who.clone(), role).prop_map(|(actor, target, role)| Edit::Assign {
            actor,
            target,
            role
        }),
        (who.clone(), who.clone()).prop_map(|(actor, target)| Edit::Suspend { actor, target }),
        (who.clone(), who.clone()).prop_map(|(actor, target)| Edit::Unsuspend { actor, target }),
        (who.clone(), who.clone()).prop_map(|(actor, target)| Edit::Remove { actor, target }),
        (
            who.clone(),
            pick.clone(),
            any::<u32>(),
            proptest::bool::weighted(0.1)
        )
            .prop_map(|(actor, edit, cells, owner_only)| {
                let cells = if owner_only {
                    cells
                } else {
                    Capabilities::all().without(Capabilities::OWNER_ONLY).bits() & cells
                };
                Edit::WriteCustom { actor, edit, cells }
            }),
        (who.clone(), pick.clone(), access_spec())
            .prop_map(|(actor, edit, spec)| Edit::WriteAccess { actor, edit, spec }),
        (who.clone(), who, pick).prop_map(|(actor, target, role)| Edit::GiveAccess {
            actor,
            target,
            role
        }),
    ]
}

struct Vault {
    id: VaultId,
    seats: Vec<Option<Seat>>,
    custom: Vec<Option<CustomRole>>,
    access: Vec<AccessEntry>,
    /// Counts role writes, so a seat can tell whether its role changed since it was given.
    revisions: u64,
}

impl Vault {
    fn role_of(&self, seat: &Seat) -> VaultRole {
        match seat.role {
            RoleRef::BuiltIn(role) => role,
            RoleRef::Custom(i) => self.custom[i]
                .as_ref()
                .map_or(VaultRole::Collaborator, |c| VaultRole::Custom(c.cells)),
        }
    }

    fn seat(&self, who: usize) -> Option<&Seat> {
        self.seats.get(who)?.as_ref()
    }

    fn principal(&self, who: usize) -> Option<Principal> {
        let seat = self.seat(who)?;
        let mut id = [0u8; 16];
        id[0] = u8::try_from(who).unwrap_or(u8::MAX);
        Some(Principal::Member(Member {
            user_id: UserId::from_random(id),
            vault_id: self.id.clone(),
            standing: if seat.suspended {
                Standing::Suspended
            } else {
                Standing::Active(self.role_of(seat))
            },
            access: seat.access.map(|i| self.access[i].role.clone()),
        }))
    }

    /// What `who` holds now, as a ceiling for what they give.
    fn ceiling(&self, who: usize) -> Ceiling {
        let seat = self.seat(who);
        let role = seat.map(|s| self.role_of(s));
        Ceiling {
            cells: role.map_or(Capabilities::NONE, VaultRole::capabilities),
            data: match role {
                Some(r) if r.sees_everything() => None,
                _ => Some(seat.and_then(|s| s.access).map_or_else(
                    || Arc::new(AccessRole::nothing()),
                    |i| self.access[i].role.clone(),
                )),
            },
        }
    }

    fn proof(&self, actor: usize, action: Action) -> Option<Authorized> {
        authorize(&self.principal(actor)?, action, Resource::Vault(&self.id)).ok()
    }

    fn proof_on(&self, actor: usize, action: Action, target: usize) -> Option<Authorized> {
        let role = self.role_of(self.seat(target)?);
        let resource = Resource::Member {
            vault: &self.id,
            role,
        };
        authorize(&self.principal(actor)?, action, resource).ok()
    }

    fn allowed(&self, actor: usize, action: Action) -> bool {
        self.principal(actor)
            .is_some_and(|p| decide(&p, action, Resource::Vault(&self.id)).allowed)
    }

    fn apply(&mut self, edit: Edit) {
        match edit {
            Edit::Invite { actor, role } => {
                let role = BUILT_IN[role];
                if self.seats.len() < MAX_MEMBERS && self.allowed(actor, Action::InviteMember(role))
                {
                    let role_given_under = self.ceiling(actor);
                    self.seats.push(Some(Seat {
                        role: RoleRef::BuiltIn(role),
                        suspended: false,
                        role_given_under,
                        role_revision: 0,
                        access: None,
                        access_given_under: None,
                        access_revision: 0,
                    }));
                }
            }
            Edit::Assign {
                actor,
                target,
                role,
            } => {
                let role = match role {
                    0..4 => RoleRef::BuiltIn(BUILT_IN[role]),
                    i => RoleRef::Custom(i - 4),
                };
                let (resolved, revision) = match role {
                    RoleRef::BuiltIn(r) => (r, 0),
                    RoleRef::Custom(i) => match self.custom.get(i).and_then(Option::as_ref) {
                        Some(c) => (VaultRole::Custom(c.cells), c.revision),
                        None => return,
                    },
                };
                if self
                    .proof_on(actor, Action::AssignRole(resolved), target)
                    .is_some()
                {
                    let under = self.ceiling(actor);
                    if let Some(Some(seat)) = self.seats.get_mut(target) {
                        seat.role = role;
                        seat.role_given_under = under;
                        seat.role_revision = revision;
                    }
                }
            }
            Edit::Suspend { actor, target } | Edit::Unsuspend { actor, target } => {
                let suspend = matches!(edit, Edit::Suspend { .. });
                if self.proof_on(actor, Action::ManageMember, target).is_some()
                    && let Some(Some(seat)) = self.seats.get_mut(target)
                {
                    seat.suspended = suspend;
                }
            }
            Edit::Remove { actor, target } => {
                if self.proof_on(actor, Action::ManageMember, target).is_some() {
                    self.seats[target] = None;
                }
            }
            Edit::WriteCustom { actor, edit, cells } => {
                let Some(proof) = self.proof(actor, Action::ManageRoles) else {
                    return;
                };
                let new = Capabilities::of(
                    &Capability::ALL
                        .into_iter()
                        .filter(|c| cells & (1 << *c as u8) != 0)
                        .collect::<Vec<_>>(),
                );
                let old = edit.and_then(|i| self.custom.get(i)?.as_ref().map(|c| c.cells));
                if edit.is_some() && old.is_none() {
                    return;
                }
                if proof.permit_vault_role_authoring(old, Some(new)).is_ok() {
                    self.revisions += 1;
                    let entry = CustomRole {
                        cells: new,
                        written_under: self.ceiling(actor),
                        revision: self.revisions,
                    };
                    match edit {
                        Some(i) => self.custom[i] = Some(entry),
                        None if self.custom.len() < 4 => self.custom.push(Some(entry)),
                        None => {}
                    }
                }
            }
            Edit::WriteAccess { actor, edit, spec } => {
                let Some(proof) = self.proof(actor, Action::ManageRoles) else {
                    return;
                };
                let old = match edit {
                    Some(i) => match self.access.get(i) {
                        Some(entry) => Some(entry.role.clone()),
                        None => return,
                    },
                    None => None,
                };
                if let Ok(stored) = proof.permit_access_role_authoring(old.as_deref(), &spec) {
                    let role =
                        Arc::new(AccessRole::compile(&stored).unwrap_or_else(|e| panic!("{e}")));
                    self.revisions += 1;
                    let entry = AccessEntry {
                        role,
                        written_under: self.ceiling(actor),
                        revision: self.revisions,
                    };
                    match edit {
                        Some(i) => self.access[i] = entry,
                        None if self.access.len() < 6 => self.access.push(entry),
                        None => {}
                    }
                }
            }
            Edit::GiveAccess {
                actor,
                target,
                role,
            } => {
                if role.is_some_and(|i| i >= self.access.len()) {
                    return;
                }
                let Some(proof) = self.proof_on(actor, Action::ManageMember, target) else {
                    return;
                };
                if let Some(i) = role
                    && proof
                        .permit_granting_access_role(&self.access[i].role)
                        .is_err()
                {
                    return;
                }
                let under = self.ceiling(actor);
                let revision = role.map_or(0, |i| self.access[i].revision);
                if let Some(Some(seat)) = self.seats.get_mut(target) {
                    seat.access = role;
                    seat.access_given_under = Some(under);
                    seat.access_revision = revision;
                }
            }
        }
    }
}

/// Whether `role` allows `verb` at `path` for a secret of `secret_type`.
fn opens(role: &AccessRole, verb: Verb, path: &SecretPath, secret_type: SecretType) -> bool {
    let verdict = role.verdict(path, Some(secret_type));
    verdict.outcome(verb) == AccessOutcome::Allowed
}

fn within(ceiling: &Ceiling, role: &AccessRole) -> Result<(), String> {
    let Some(limit) = &ceiling.data else {
        return Ok(());
    };
    for app in APPS {
        for project in PROJECTS {
            for env in ENVS {
                for name in NAMES {
                    let path: SecretPath = format!("{app}/{project}/{env}/{name}")
                        .parse()
                        .unwrap_or_else(|e| panic!("{e}"));
                    for t in [SecretType::Generic, SecretType::Certificate] {
                        for verb in Verb::ALL {
                            if opens(role, verb, &path, t) && !opens(limit, verb, &path, t) {
                                return Err(format!("{verb} on {path} ({t})"));
                            }
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_invariants(vault: &Vault) -> Result<(), TestCaseError> {
    let owners: Vec<usize> = vault
        .seats
        .iter()
        .enumerate()
        .filter(|(_, s)| {
            s.as_ref()
                .is_some_and(|s| s.role == RoleRef::BuiltIn(VaultRole::Owner))
        })
        .map(|(i, _)| i)
        .collect();
    prop_assert_eq!(owners, vec![0]);
    prop_assert!(vault.seats[0].as_ref().is_some_and(|s| !s.suspended));
    for seat in vault.seats.iter().skip(1).flatten() {
        // A role given and not rewritten since stays under its giver; a rewritten one
        // stays under its writer (checked for every role below).
        let role = vault.role_of(seat);
        let rewritten = match seat.role {
            RoleRef::Custom(i) => vault.custom[i]
                .as_ref()
                .is_none_or(|c| c.revision != seat.role_revision),
            RoleRef::BuiltIn(_) => false,
        };
        if !rewritten {
            prop_assert!(
                role.capabilities()
                    .is_subset_of(seat.role_given_under.cells),
                "{:?} holds cells its giver did not",
                role
            );
        }
        prop_assert!(
            !role
                .capabilities()
                .contains(Capability::OrganizationTransfer)
        );
        if let Some(i) = seat.access {
            let entry = &vault.access[i];
            if entry.revision == seat.access_revision {
                let giver = seat.access_given_under.as_ref();
                let within_giver =
                    giver.map_or(Err("never given".to_owned()), |g| within(g, &entry.role));
                prop_assert!(
                    within_giver.is_ok(),
                    "access role {} opens {:?} beyond its giver",
                    i,
                    within_giver
                );
            }
        }
    }
    for role in vault.custom.iter().flatten() {
        prop_assert!(
            role.cells.is_subset_of(role.written_under.cells),
            "a custom role holds cells its writer did not"
        );
    }
    for entry in &vault.access {
        prop_assert!(
            within(&entry.written_under, &entry.role).is_ok(),
            "an access role opens more than its writer held"
        );
        if let Some(limit) = &entry.written_under.data {
            for rule in limit.deny_rules() {
                prop_assert!(entry.role.deny_rules().contains(rule));
            }
        }
    }
    Ok(())
}

/// A vault the owner has already staffed, so that random edits start with delegates who
/// hold custom roles that manage members and author roles, each with an access role of
/// their own: the chains where escalation could hide are a few steps away, not dozens.
fn staffed_vault(delegate_cells: [u32; 2], specs: Vec<AccessRoleSpec>) -> Vault {
    let owner_ceiling = Ceiling {
        cells: Capabilities::all(),
        data: None,
    };
    let delegate = Capabilities::of(&[
        Capability::MembersView,
        Capability::MembersManage,
        Capability::MembersInvite,
        Capability::RolesView,
        Capability::RolesManage,
    ]);
    let custom = delegate_cells
        .into_iter()
        .map(|bits| {
            let cells = Capabilities::all().without(Capabilities::OWNER_ONLY).bits() & bits
                | delegate.bits();
            Some(CustomRole {
                cells: Capabilities::from_bits(cells).unwrap_or_else(|e| panic!("{e}")),
                written_under: owner_ceiling.clone(),
                revision: 0,
            })
        })
        .collect();
    let access = specs
        .iter()
        .map(|spec| AccessEntry {
            role: Arc::new(AccessRole::compile(spec).unwrap_or_else(|e| panic!("{e}"))),
            written_under: owner_ceiling.clone(),
            revision: 0,
        })
        .collect();
    let seat = |role, access| {
        Some(Seat {
            role,
            suspended: false,
            role_given_under: owner_ceiling.clone(),
            role_revision: 0,
            access,
            access_given_under: Some(owner_ceiling.clone()),
            access_revision: 0,
        })
    };
    Vault {
        id: VaultId::from_random([200; 16]),
        seats: vec![
            seat(RoleRef::BuiltIn(VaultRole::Owner), None),
            seat(RoleRef::Custom(0), Some(0)),
            seat(RoleRef::Custom(1), Some(1)),
            seat(RoleRef::BuiltIn(VaultRole::Developer), Some(2)),
            seat(RoleRef::BuiltIn(VaultRole::Collaborator), None),
            seat(RoleRef::Custom(1), None),
        ],
        custom,
        access,
        revisions: 0,
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn no_permitted_edit_grants_more_than_its_author_holds(
        delegate_cells in any::<[u32; 2]>(),
        specs in proptest::collection::vec(access_spec(), 3),
        edits in proptest::collection::vec(edit(), 1..60)
    ) {
        let mut vault = staffed_vault(delegate_cells, specs);
        check_invariants(&vault)?;
        for edit in edits {
            vault.apply(edit);
            check_invariants(&vault)?;
        }
    }
}
