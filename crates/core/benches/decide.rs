//! How long one authorization decision takes, in a vault of 10,000 members, 1,000
//! projects and 100 deny rules: the full per-request decision for a member who sees the
//! vault through an access role (the role-level decision, the path check before the
//! lookup and the type check after it). Run with `cargo bench -p strongroom-core`.

use criterion::{Criterion, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use strongroom_core::access::{AccessRole, AccessRoleSpec, ScopeSpec, SwitchesSpec, Verb};
use strongroom_core::authz::{Action, Member, Principal, Resource, Standing, VaultRole, authorize};
use strongroom_core::ids::{UserId, VaultId};
use strongroom_core::names::SecretPath;
use strongroom_core::secret::SecretType;

const MEMBERS: usize = 10_000;
const APPLICATIONS: usize = 50;
const PROJECTS_PER_APPLICATION: usize = 20;
const DENY_RULES: usize = 100;

fn id(n: usize) -> [u8; 16] {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&(n as u64).to_le_bytes());
    bytes
}

fn access_role() -> AccessRole {
    let projects = (0..APPLICATIONS)
        .flat_map(|a| (0..PROJECTS_PER_APPLICATION).map(move |p| format!("app{a}/project{p}")))
        .collect();
    let deny = (0..DENY_RULES)
        .map(|i| match i % 3 {
            0 => format!(
                "app{}/project{}/production/SECRET_{i}_*",
                i % APPLICATIONS,
                i % PROJECTS_PER_APPLICATION
            ),
            1 => format!("app{}/+/staging/TOKEN_{i}", i % APPLICATIONS),
            _ => format!("+/project{}/dev/KEY_{i}*", i % PROJECTS_PER_APPLICATION),
        })
        .collect();
    let spec = AccessRoleSpec {
        scope: ScopeSpec::Projects(projects),
        everywhere: SwitchesSpec {
            environments: [("production".to_owned(), vec!["delete".to_owned()])].into(),
            off_by_type: [("certificate".to_owned(), vec!["reveal".to_owned()])].into(),
            ..SwitchesSpec::default()
        },
        projects: Default::default(),
        deny,
    };
    AccessRole::compile(&spec).unwrap_or_else(|e| panic!("{e}"))
}

fn bench(c: &mut Criterion) {
    let vault = VaultId::from_random(id(u64::MAX as usize));
    let role = Arc::new(access_role());
    let members: Vec<Principal> = (0..MEMBERS)
        .map(|i| {
            Principal::Member(Member {
                user_id: UserId::from_random(id(i)),
                vault_id: vault.clone(),
                standing: Standing::Active(VaultRole::Developer),
                access: Some(role.clone()),
            })
        })
        .collect();
    let paths: Vec<SecretPath> = (0..1_000)
        .map(|i| {
            format!(
                "app{}/project{}/production/SECRET_{i}_KEY",
                i % APPLICATIONS,
                i % PROJECTS_PER_APPLICATION
            )
            .parse()
            .unwrap_or_else(|e| panic!("{e}"))
        })
        .collect();
    let mut i = 0usize;
    c.bench_function(
        "reveal decision (10k members, 1k projects, 100 deny rules)",
        |b| {
            b.iter(|| {
                i = i.wrapping_add(7919);
                let principal = &members[i % MEMBERS];
                let path = &paths[i % paths.len()];
                let allowed = authorize(principal, Action::RevealSecret, Resource::Vault(&vault))
                    .and_then(|proof| {
                        proof.permit_path(Verb::Reveal, path)?;
                        proof.permit_loaded(Verb::Reveal, path, SecretType::ApiKey, || {
                            strongroom_core::Error::not_found("secret")
                        })
                    })
                    .is_ok();
                black_box(allowed)
            })
        },
    );
}

/// Checking that an access role opens nothing its author's does not (authoring without
/// escalation), for the largest roles a vault accepts in switches and environments, and
/// a scope of 1,000 projects.
fn bench_covers(c: &mut Criterion) {
    use strongroom_core::access::{MAX_ENVIRONMENT_NAMES, MAX_PROJECT_SWITCHES};
    let spec = |offset: usize| AccessRoleSpec {
        scope: ScopeSpec::Projects(
            (0..1_000)
                .map(|i| format!("app{}/project{i}", i % APPLICATIONS))
                .collect(),
        ),
        everywhere: SwitchesSpec {
            environments: (0..MAX_ENVIRONMENT_NAMES)
                .map(|i| (format!("env{i}"), vec!["write".to_owned()]))
                .collect(),
            ..SwitchesSpec::default()
        },
        projects: (0..MAX_PROJECT_SWITCHES)
            .map(|i| {
                (
                    format!("app{}/project{}", i % APPLICATIONS, i + offset),
                    SwitchesSpec {
                        off: vec!["delete".to_owned()],
                        ..SwitchesSpec::default()
                    },
                )
            })
            .collect(),
        deny: Vec::new(),
    };
    let author = AccessRole::compile(&spec(0)).unwrap_or_else(|e| panic!("{e}"));
    let candidate = AccessRole::compile(&spec(0)).unwrap_or_else(|e| panic!("{e}"));
    c.bench_function(
        "covers (1k projects, 100 switched projects, 50 environments)",
        |b| b.iter(|| black_box(author.covers(black_box(&candidate)).is_ok())),
    );
}

criterion_group!(benches, bench, bench_covers);
criterion_main!(benches);
