//! Nobody gives a machine more than they hold, as a property. A member with a random
//! access role (scope, switches by verb, type, project and environment, deny rules)
//! attaches a machine to a random project for random environments and verbs, or grants
//! it a random secret. Whenever the decision function allows it, every verb the machine
//! then holds on every concrete path, for every secret type, is one the member holds
//! there too, by the member's own compiled role's decision.

use proptest::prelude::*;
use std::collections::BTreeMap;
use std::sync::Arc;
use strongroom_core::access::{AccessRole, AccessRoleSpec, ScopeSpec, SwitchesSpec, Verb, Verbs};
use strongroom_core::authz::{
    Action, Authorized, Machine, Member, Principal, Resource, Standing, VaultRole, authorize,
};
use strongroom_core::ids::{MachineId, UserId, VaultId};
use strongroom_core::names::{EnvironmentName, ProjectPath, SecretPath};
use strongroom_core::runtime::{Attachment, RuntimeAccess, SecretGrant, runtime_verbs};
use strongroom_core::secret::SecretType;

const APPS: [&str; 2] = ["a", "b"];
const PROJECTS: [&str; 2] = ["p", "q"];
const ENVS: [&str; 3] = ["prod", "stage", "dev"];
const NAMES: [&str; 2] = ["KEY", "TOKEN"];
const DENY: [&str; 5] = ["a/p/prod/KEY", "a/+/stage", "b", "+/q/+/TOK*", "a/p/dev"];
const TYPES: [&str; 2] = ["password", "certificate"];
const ROLE_VERBS: [&str; 4] = ["read", "reveal", "use", "manage"];

fn verbs_strategy(from: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    proptest::sample::subsequence(from.to_vec(), 0..=from.len())
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

fn switches() -> impl Strategy<Value = SwitchesSpec> {
    (
        verbs_strategy(&ROLE_VERBS),
        proptest::option::of((
            proptest::sample::select(TYPES.to_vec()),
            verbs_strategy(&ROLE_VERBS),
        )),
        proptest::collection::btree_map(
            proptest::sample::select(ENVS.to_vec()).prop_map(str::to_owned),
            verbs_strategy(&ROLE_VERBS),
            0..=2,
        ),
        any::<bool>(),
    )
        .prop_map(|(off, by_type, environments, machines)| SwitchesSpec {
            off,
            off_by_type: by_type
                .map(|(t, v)| BTreeMap::from([(t.to_owned(), v)]))
                .unwrap_or_default(),
            environments,
            machines: Some(machines),
            policies: None,
        })
}

fn all_projects() -> Vec<String> {
    APPS.iter()
        .flat_map(|a| PROJECTS.iter().map(move |p| format!("{a}/{p}")))
        .collect()
}

fn role_spec() -> impl Strategy<Value = AccessRoleSpec> {
    (
        prop_oneof![
            Just(ScopeSpec::Everything),
            proptest::sample::subsequence(APPS.to_vec(), 1..=2)
                .prop_map(|a| ScopeSpec::Applications(a.into_iter().map(str::to_owned).collect())),
            proptest::sample::subsequence(all_projects(), 1..=3).prop_map(ScopeSpec::Projects),
        ],
        switches(),
        proptest::option::of((proptest::sample::select(all_projects()), switches())),
        proptest::sample::subsequence(DENY.to_vec(), 0..=2),
    )
        .prop_map(|(scope, everywhere, project, deny)| AccessRoleSpec {
            scope,
            everywhere,
            projects: project.into_iter().collect(),
            deny: deny.into_iter().map(str::to_owned).collect(),
        })
}

#[derive(Debug, Clone)]
enum Gift {
    Attach {
        project: String,
        envs: Vec<String>,
        verbs: Vec<String>,
    },
    Grant {
        path: String,
        secret_type: &'static str,
        verbs: Vec<String>,
    },
}

fn gift() -> impl Strategy<Value = Gift> {
    prop_oneof![
        (
            proptest::sample::select(all_projects()),
            proptest::sample::subsequence(ENVS.to_vec(), 0..=2),
            verbs_strategy(&["reveal", "use"]),
        )
            .prop_map(|(project, envs, verbs)| Gift::Attach {
                project,
                envs: envs.into_iter().map(str::to_owned).collect(),
                verbs,
            }),
        (
            proptest::sample::select(all_paths()),
            proptest::sample::select(TYPES.to_vec()),
            verbs_strategy(&["reveal", "use"]),
        )
            .prop_map(|(path, secret_type, verbs)| Gift::Grant {
                path,
                secret_type,
                verbs,
            }),
    ]
}

fn all_paths() -> Vec<String> {
    let mut paths = Vec::new();
    for project in all_projects() {
        for env in ENVS {
            for name in NAMES {
                paths.push(format!("{project}/{env}/{name}"));
            }
        }
    }
    paths
}

fn parse<T: std::str::FromStr>(s: &str) -> T
where
    T::Err: std::fmt::Debug,
{
    s.parse().unwrap_or_else(|e| panic!("{s}: {e:?}"))
}

fn author(role: &Arc<AccessRole>) -> Authorized {
    let vault = VaultId::from_random([1; 16]);
    let member = Principal::Member(Member {
        user_id: UserId::from_random([2; 16]),
        vault_id: vault.clone(),
        standing: Standing::Active(VaultRole::Developer),
        access: Some(role.clone()),
    });
    authorize(&member, Action::ManageMachines, Resource::Vault(&vault))
        .unwrap_or_else(|e| panic!("{e}"))
}

fn machine(access: RuntimeAccess) -> Authorized {
    let vault = VaultId::from_random([1; 16]);
    let machine = Principal::Machine(Machine {
        id: MachineId::from_random([3; 16]),
        vault_id: vault.clone(),
        access: Arc::new(access),
    });
    authorize(&machine, Action::RevealSecret, Resource::Vault(&vault))
        .unwrap_or_else(|e| panic!("{e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn a_machine_never_holds_a_verb_its_giver_lacks(spec in role_spec(), gift in gift()) {
        let role = Arc::new(AccessRole::compile(&spec).unwrap_or_else(|e| panic!("{e}")));
        let giver = author(&role);
        let (allowed, access) = match &gift {
            Gift::Attach { project, envs, verbs } => {
                let verbs = runtime_verbs(Verbs::parse(verbs).unwrap_or_else(|e| panic!("{e}")))
                    .unwrap_or_else(|e| panic!("{e}"));
                let project: ProjectPath = parse(project);
                let environments: Vec<EnvironmentName> = envs.iter().map(|e| parse(e)).collect();
                let allowed = giver.permit_attaching(&project, &environments, verbs).is_ok();
                let attachment = Attachment { project, environments, verbs };
                (allowed, RuntimeAccess::new(&[attachment], &[]))
            }
            Gift::Grant { path, secret_type, verbs } => {
                let verbs = runtime_verbs(Verbs::parse(verbs).unwrap_or_else(|e| panic!("{e}")))
                    .unwrap_or_else(|e| panic!("{e}"));
                let path: SecretPath = parse(path);
                let t: SecretType = parse(secret_type);
                let allowed = giver.permit_granting_secret(&path, t, verbs).is_ok();
                (allowed, RuntimeAccess::new(&[], &[SecretGrant { path, verbs }]))
            }
        };
        if !allowed {
            return Ok(());
        }
        let held = machine(access);
        for path in all_paths() {
            let path: SecretPath = parse(&path);
            for t in TYPES {
                let t: SecretType = parse(t);
                // A grant is checked with the type the secret has when it is granted.
                if let Gift::Grant { path: granted, secret_type, .. } = &gift
                    && *granted == path.to_string()
                    && parse::<SecretType>(secret_type) != t
                {
                    continue;
                }
                for verb in [Verb::Read, Verb::Reveal, Verb::Use] {
                    if held.may(verb, &path, Some(t)) {
                        prop_assert!(
                            giver.may(verb, &path, Some(t)),
                            "the machine holds '{verb}' on {path} ({t:?}) and its giver does not: {gift:?} under {spec:?}"
                        );
                    }
                }
            }
        }
    }
}
