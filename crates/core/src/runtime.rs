//! What a machine may do at run time. Unlike an access role, nothing is open by default:
//! a verb holds only where an attachment (a project, for some or all of its
//! environments) or a grant (one secret) names it. `read` comes with every attachment and
//! grant, since a value one may not know exists cannot be asked for. Compiled once per
//! request from the machine's rows; a decision is two or three hash lookups.

use crate::access::{AccessOutcome, Verb, Verbs, Verdict};
use crate::error::{Error, ErrorCode};
use crate::names::{EnvironmentName, EnvironmentPath, ProjectPath, SecretPath};
use crate::policy::{Policy, ReadCaps};
use std::collections::HashMap;
use std::net::IpAddr;

/// The verbs a machine can be given: it never writes, deletes or grants.
pub const RUNTIME_VERBS: [Verb; 3] = [Verb::Read, Verb::Reveal, Verb::Use];

/// Checks that `verbs` hold only runtime verbs, and adds `read`.
pub fn runtime_verbs(verbs: Verbs) -> Result<Verbs, Error> {
    if let Some(other) = verbs.iter().find(|v| !RUNTIME_VERBS.contains(v)) {
        return Err(Error::new(
            ErrorCode::InvalidValue,
            format!("a machine may be given read, reveal and use, not '{other}'"),
        ));
    }
    Ok(verbs.with(Verb::Read))
}

/// A project opened to a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    /// The project.
    pub project: ProjectPath,
    /// The environments it opens; empty means every environment.
    pub environments: Vec<EnvironmentName>,
    /// What the machine may do there (always with `read`).
    pub verbs: Verbs,
}

/// One secret opened to a machine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SecretGrant {
    /// The secret.
    pub path: SecretPath,
    /// What the machine may do with it (always with `read`).
    pub verbs: Verbs,
}

#[derive(Debug, Clone, Default)]
struct ProjectAccess {
    every_environment: Verbs,
    environments: HashMap<String, Verbs>,
    /// Granted secrets by environment, then name.
    secrets: HashMap<String, HashMap<String, Verbs>>,
}

impl ProjectAccess {
    fn in_environment(&self, env: &str) -> Verbs {
        self.every_environment
            .union(self.environments.get(env).copied().unwrap_or(Verbs::NONE))
    }

    /// Every verb any granted secret of `env` carries.
    fn granted_in(&self, env: &str) -> Verbs {
        self.secrets
            .get(env)
            .into_iter()
            .flat_map(HashMap::values)
            .fold(Verbs::NONE, |all, v| all.union(*v))
    }
}

/// A machine's compiled attachments and grants, and the access policies on them as they
/// stand for the request at hand.
#[derive(Debug, Clone, Default)]
pub struct RuntimeAccess {
    projects: HashMap<String, HashMap<String, ProjectAccess>>,
    policies: Vec<AppliedPolicy>,
}

#[derive(Debug, Clone)]
struct AppliedPolicy {
    /// The project it binds (`None`: everything).
    project: Option<(String, String)>,
    policy: Policy,
    /// Why the request itself fails it (source address, time), if it does.
    refused: Option<String>,
}

impl AppliedPolicy {
    fn binds(&self, app: &str, project: &str) -> bool {
        self.project
            .as_ref()
            .is_none_or(|(a, p)| a == app && p == project)
    }
}

impl RuntimeAccess {
    /// Compiles attachments and grants.
    pub fn new(attachments: &[Attachment], grants: &[SecretGrant]) -> Self {
        let mut access = Self::default();
        for a in attachments {
            let project = access.project_mut(&a.project);
            if a.environments.is_empty() {
                project.every_environment = project.every_environment.union(a.verbs);
            }
            for env in &a.environments {
                let verbs = project.environments.entry(env.to_string()).or_default();
                *verbs = verbs.union(a.verbs);
            }
        }
        for g in grants {
            let env = &g.path.environment;
            let project = access.project_mut(&env.project);
            let verbs = project
                .secrets
                .entry(env.environment.to_string())
                .or_default()
                .entry(g.path.name.to_string())
                .or_default();
            *verbs = verbs.union(g.verbs);
        }
        access
    }

    /// Adds access policies (each binding one project, or everything), judging what
    /// depends on the request alone now: its source address and the time.
    pub fn with_policies(
        mut self,
        policies: Vec<(Option<ProjectPath>, Policy)>,
        ip: Option<IpAddr>,
        now_ms: i64,
    ) -> Self {
        self.policies = policies
            .into_iter()
            .map(|(project, policy)| AppliedPolicy {
                project: project.map(|p| (p.application.to_string(), p.project.to_string())),
                refused: policy.check_request(ip, now_ms).err(),
                policy,
            })
            .collect();
        self
    }

    /// The first policy condition that refuses `app/project/env`, in words.
    fn refusal(&self, app: &str, project: &str, env: &str) -> Option<String> {
        self.policies
            .iter()
            .filter(|p| p.binds(app, project))
            .find_map(|p| {
                p.refused
                    .clone()
                    .or_else(|| p.policy.check_environment(env).err())
            })
    }

    /// The read caps of the policies that bind `app/project`: each read there counts
    /// against all of them.
    pub fn read_caps(&self, app: &str, project: &str) -> Vec<ReadCaps> {
        self.policies
            .iter()
            .filter(|p| p.binds(app, project))
            .filter_map(|p| p.policy.caps().cloned())
            .collect()
    }

    fn project_mut(&mut self, path: &ProjectPath) -> &mut ProjectAccess {
        self.projects
            .entry(path.application.to_string())
            .or_default()
            .entry(path.project.to_string())
            .or_default()
    }

    fn project(&self, app: &str, project: &str) -> Option<&ProjectAccess> {
        self.projects.get(app).and_then(|p| p.get(project))
    }

    /// Whether anything in `app/project` is open.
    pub fn opens_project(&self, app: &str, project: &str) -> bool {
        self.project(app, project).is_some()
    }

    /// Whether anything in `app` is open.
    pub fn opens_application(&self, app: &str) -> bool {
        self.projects.contains_key(app)
    }

    /// Every verb at once for one secret. A secret the machine may not read is out of
    /// scope: it must not learn that the secret exists.
    pub fn verdict(&self, path: &SecretPath) -> Verdict {
        let env = &path.environment;
        let Some(project) = self.project(
            env.project.application.as_str(),
            env.project.project.as_str(),
        ) else {
            return Verdict::OutOfScope;
        };
        let granted = project
            .secrets
            .get(env.environment.as_str())
            .and_then(|s| s.get(path.name.as_str()))
            .copied()
            .unwrap_or(Verbs::NONE);
        let on = project
            .in_environment(env.environment.as_str())
            .union(granted);
        if !on.contains(Verb::Read) {
            return Verdict::OutOfScope;
        }
        match self.refusal(
            env.project.application.as_str(),
            env.project.project.as_str(),
            env.environment.as_str(),
        ) {
            Some(why) => Verdict::Refused(why),
            None => Verdict::Open(on.complement()),
        }
    }

    /// The decision for `verb` on a whole environment: allowed when an attachment opens
    /// it there, or some granted secret of it carries the verb (a listing or bulk read then
    /// keeps only the secrets that do).
    pub fn decide_environment(&self, verb: Verb, env: &EnvironmentPath) -> AccessOutcome {
        let Some(project) = self.project(
            env.project.application.as_str(),
            env.project.project.as_str(),
        ) else {
            return AccessOutcome::OutOfScope;
        };
        let name = env.environment.as_str();
        let on = project.in_environment(name).union(project.granted_in(name));
        if !on.contains(Verb::Read) {
            AccessOutcome::OutOfScope
        } else if let Some(why) = self.refusal(
            env.project.application.as_str(),
            env.project.project.as_str(),
            name,
        ) {
            AccessOutcome::RefusedByPolicy(why)
        } else if on.contains(verb) {
            AccessOutcome::Allowed
        } else {
            AccessOutcome::SwitchedOff(verb)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verbs(list: &[Verb]) -> Verbs {
        runtime_verbs(Verbs::of(list)).unwrap_or_else(|e| panic!("{e}"))
    }

    fn attach(project: &str, envs: &[&str], list: &[Verb]) -> Attachment {
        Attachment {
            project: project.parse().unwrap_or_else(|e| panic!("{e}")),
            environments: envs
                .iter()
                .map(|e| e.parse().unwrap_or_else(|e| panic!("{e}")))
                .collect(),
            verbs: verbs(list),
        }
    }

    fn at(path: &str) -> SecretPath {
        path.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    fn env(path: &str) -> EnvironmentPath {
        path.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn nothing_is_open_without_an_attachment_or_grant() {
        let access = RuntimeAccess::new(&[], &[]);
        assert_eq!(access.verdict(&at("a/p/e/K")), Verdict::OutOfScope);
        assert!(!access.opens_application("a"));
    }

    #[test]
    fn an_attachment_opens_only_its_environments_and_verbs() {
        let access = RuntimeAccess::new(&[attach("a/p", &["production"], &[Verb::Reveal])], &[]);
        let prod = access.verdict(&at("a/p/production/K"));
        assert_eq!(prod.outcome(Verb::Reveal), AccessOutcome::Allowed);
        assert_eq!(prod.outcome(Verb::Read), AccessOutcome::Allowed);
        assert_eq!(
            prod.outcome(Verb::Use),
            AccessOutcome::SwitchedOff(Verb::Use)
        );
        assert_eq!(
            prod.outcome(Verb::Write),
            AccessOutcome::SwitchedOff(Verb::Write)
        );
        assert_eq!(access.verdict(&at("a/p/staging/K")), Verdict::OutOfScope);
        assert_eq!(access.verdict(&at("a/q/production/K")), Verdict::OutOfScope);
    }

    #[test]
    fn an_attachment_without_environments_opens_them_all() {
        let access = RuntimeAccess::new(&[attach("a/p", &[], &[])], &[]);
        assert_eq!(
            access.verdict(&at("a/p/anything/K")).outcome(Verb::Read),
            AccessOutcome::Allowed
        );
        assert_eq!(
            access.decide_environment(Verb::Reveal, &env("a/p/anything")),
            AccessOutcome::SwitchedOff(Verb::Reveal)
        );
    }

    #[test]
    fn a_grant_opens_one_secret_and_lets_its_environment_be_listed() {
        let grant = SecretGrant {
            path: at("a/p/production/STRIPE"),
            verbs: verbs(&[Verb::Reveal]),
        };
        let access = RuntimeAccess::new(&[], &[grant]);
        assert_eq!(
            access
                .verdict(&at("a/p/production/STRIPE"))
                .outcome(Verb::Reveal),
            AccessOutcome::Allowed
        );
        assert_eq!(
            access.verdict(&at("a/p/production/OTHER")),
            Verdict::OutOfScope
        );
        assert_eq!(
            access.decide_environment(Verb::Read, &env("a/p/production")),
            AccessOutcome::Allowed
        );
        assert_eq!(
            access.decide_environment(Verb::Read, &env("a/p/staging")),
            AccessOutcome::OutOfScope
        );
    }

    #[test]
    fn machines_are_never_given_write_delete_or_manage() {
        for verb in [Verb::Write, Verb::Delete, Verb::Manage] {
            assert!(runtime_verbs(Verbs::of(&[verb])).is_err());
        }
    }
}
