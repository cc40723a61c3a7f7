//! Access roles: which applications and projects a member may open, and what they may do
//! there. Everything in scope is on by default; a role switches verbs off (everywhere, by
//! secret type, per project, per environment) and denies sub-paths with glob rules. A
//! deny always wins. The role file ([`AccessRoleSpec`]) is compiled once into an
//! [`AccessRole`] whose decisions cost a few hash lookups and the deny rules of one
//! application, however many members, projects or secrets the vault holds.

use crate::error::{Error, ErrorCode};
use crate::names::{EnvironmentPath, SecretPath};
use crate::secret::SecretType;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;
use std::str::FromStr;

/// What can be done with a secret.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum Verb {
    /// See names and metadata (never the value).
    Read,
    /// Create or change it.
    Write,
    /// Have its value injected for an agent or the broker, never shown.
    Use,
    /// See the plaintext value.
    Reveal,
    /// Move it to the trash, restore or purge it.
    Delete,
    /// Grant it to others.
    Manage,
}

impl Verb {
    /// Every verb.
    pub const ALL: [Verb; 6] = [
        Self::Read,
        Self::Write,
        Self::Use,
        Self::Reveal,
        Self::Delete,
        Self::Manage,
    ];

    /// The name in role files.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
            Self::Use => "use",
            Self::Reveal => "reveal",
            Self::Delete => "delete",
            Self::Manage => "manage",
        }
    }
}

impl FromStr for Verb {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or_else(|| {
                invalid(format!(
                    "unknown verb {s:?}: use read, write, use, reveal, delete or manage"
                ))
            })
    }
}

impl fmt::Display for Verb {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

fn invalid(message: String) -> Error {
    Error::new(ErrorCode::InvalidValue, message)
}

/// A set of verbs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Verbs(u8);

impl Verbs {
    /// No verb at all.
    pub const NONE: Verbs = Verbs(0);

    /// Parses verb names (`read`, `reveal`, …).
    pub fn parse(names: &[String]) -> Result<Self, Error> {
        names.iter().try_fold(Self(0), |set, name| {
            let verb: Verb = name.trim().parse()?;
            Ok(set.with(verb))
        })
    }

    /// These verbs.
    pub fn of(verbs: &[Verb]) -> Self {
        verbs.iter().fold(Self(0), |set, verb| set.with(*verb))
    }

    /// The set with `verb` added.
    pub const fn with(self, verb: Verb) -> Self {
        Self(self.0 | 1 << verb as u8)
    }

    /// Whether `verb` is in the set.
    pub fn contains(self, verb: Verb) -> bool {
        self.0 & (1 << verb as u8) != 0
    }

    /// Whether the set is empty.
    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// Both sets together.
    pub fn union(self, other: Verbs) -> Verbs {
        Verbs(self.0 | other.0)
    }

    /// Every verb not in the set.
    pub fn complement(self) -> Verbs {
        Verbs(!self.0 & Self::of(&Verb::ALL).0)
    }

    /// The verbs in the set, in [`Verb::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Verb> {
        Verb::ALL.into_iter().filter(move |v| self.contains(*v))
    }

    /// The set's storage form.
    pub fn bits(self) -> u8 {
        self.0
    }

    /// A set from its storage form; unknown bits are dropped.
    pub fn from_bits(bits: u8) -> Self {
        Self(bits & Self::of(&Verb::ALL).0)
    }
}

impl fmt::Display for Verbs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Verb::as_str).collect();
        f.write_str(&names.join(","))
    }
}

/// Which applications and projects the role opens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeSpec {
    /// Every application.
    Everything,
    /// These applications, whole.
    Applications(Vec<String>),
    /// These projects (`app/project`).
    Projects(Vec<String>),
}

/// Switches that turn capabilities off; absent means on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SwitchesSpec {
    /// Verbs off for every secret.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub off: Vec<String>,
    /// Verbs off for secrets of a type, e.g. `{"certificate": ["reveal"]}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub off_by_type: BTreeMap<String, Vec<String>>,
    /// Verbs off in one environment, e.g. `{"production": ["reveal"]}`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub environments: BTreeMap<String, Vec<String>>,
    /// Attach and detach machines (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub machines: Option<bool>,
    /// Author access policies (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<bool>,
}

/// An access role as written in a role file (JSON or TOML).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AccessRoleSpec {
    /// What it opens.
    pub scope: ScopeSpec,
    /// Switches for every project in scope.
    #[serde(default, flatten)]
    pub everywhere: SwitchesSpec,
    /// Further switches for single projects (`app/project`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub projects: BTreeMap<String, SwitchesSpec>,
    /// Paths denied whatever else says: `app/project/env/NAME` patterns where `*` matches
    /// within a name and `+` matches exactly one segment; fewer segments deny the subtree.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny: Vec<String>,
}

#[derive(Debug, Clone, Default)]
struct Switches {
    off: Verbs,
    off_by_type: [Verbs; SecretType::ALL.len()],
    environments: HashMap<String, Verbs>,
    machines: bool,
    policies: bool,
}

fn type_index(t: SecretType) -> usize {
    SecretType::ALL.iter().position(|x| *x == t).unwrap_or(0)
}

impl Switches {
    fn compile(spec: &SwitchesSpec) -> Result<Self, Error> {
        let mut off_by_type = [Verbs::default(); SecretType::ALL.len()];
        for (name, verbs) in &spec.off_by_type {
            let t: SecretType = name.parse()?;
            off_by_type[type_index(t)] = Verbs::parse(verbs)?;
        }
        let mut environments = HashMap::new();
        for (env, verbs) in &spec.environments {
            crate::names::EnvironmentName::from_str(env)?;
            environments.insert(env.clone(), Verbs::parse(verbs)?);
        }
        Ok(Self {
            off: Verbs::parse(&spec.off)?,
            off_by_type,
            environments,
            machines: spec.machines.unwrap_or(true),
            policies: spec.policies.unwrap_or(true),
        })
    }

    fn off_for(&self, env: &str, secret_type: Option<SecretType>) -> Verbs {
        let mut off = self.off;
        if let Some(t) = secret_type {
            off = off.union(self.off_by_type[type_index(t)]);
        }
        if let Some(env_off) = self.environments.get(env) {
            off = off.union(*env_off);
        }
        off
    }
}

/// One segment of a deny rule.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    /// `+`: exactly one segment, whatever it is.
    Any,
    /// A name with optional `*` wildcards within it.
    Pattern(String),
}

impl Segment {
    fn matches(&self, text: &str) -> bool {
        match self {
            Self::Any => true,
            Self::Pattern(p) => glob_matches(p.as_bytes(), text.as_bytes()),
        }
    }
}

/// `*` matches any run of characters; everything else matches itself.
fn glob_matches(pattern: &[u8], text: &[u8]) -> bool {
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            star = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((sp, st)) = star {
            p = sp + 1;
            t = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|b| *b == b'*')
}

/// A compiled deny rule.
#[derive(Debug, Clone)]
struct DenyRule {
    text: String,
    segments: Vec<Segment>,
}

impl DenyRule {
    fn parse(text: &str) -> Result<Self, Error> {
        let parts: Vec<&str> = text.split('/').collect();
        if parts.is_empty() || parts.len() > 4 || parts.iter().any(|p| p.is_empty()) {
            return Err(invalid(format!(
                "deny rule {text:?} must be 1 to 4 non-empty segments: APP/PROJECT/ENV/NAME"
            )));
        }
        let segments = parts
            .iter()
            .map(|p| {
                if *p == "+" {
                    Ok(Segment::Any)
                } else if p.contains('+') || p.contains("..") || p.chars().any(char::is_control) {
                    Err(invalid(format!(
                        "deny rule {text:?}: '+' stands alone as a whole segment, and '..' and control characters are not allowed"
                    )))
                } else {
                    Ok(Segment::Pattern((*p).to_owned()))
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self {
            text: text.to_owned(),
            segments,
        })
    }

    fn matches(&self, path: &[&str]) -> bool {
        self.segments.len() <= path.len()
            && self.segments.iter().zip(path).all(|(s, p)| s.matches(p))
    }

    /// Whether the rule could deny some path under `prefix`, where `None` stands for any
    /// name at that place.
    fn may_match_under(&self, prefix: &[Option<&str>]) -> bool {
        self.segments
            .iter()
            .zip(prefix)
            .all(|(s, p)| p.is_none_or(|name| s.matches(name)))
    }
}

/// Most applications or projects a role's scope lists.
pub const MAX_SCOPE_ENTRIES: usize = 5000;
/// Most projects with switches of their own.
pub const MAX_PROJECT_SWITCHES: usize = 100;
/// Most distinct environment names a role's overrides mention.
pub const MAX_ENVIRONMENT_NAMES: usize = 50;
/// Most deny rules.
pub const MAX_DENY_RULES: usize = 200;

/// Refuses role files too large to compare quickly: comparing two roles (authoring
/// without escalation) looks at every project and environment either one names.
fn check_size(spec: &AccessRoleSpec) -> Result<(), Error> {
    let scope = match &spec.scope {
        ScopeSpec::Everything => 0,
        ScopeSpec::Applications(list) | ScopeSpec::Projects(list) => list.len(),
    };
    let environments: HashSet<&String> = std::iter::once(&spec.everywhere)
        .chain(spec.projects.values())
        .flat_map(|s| s.environments.keys())
        .collect();
    for (count, max, what) in [
        (scope, MAX_SCOPE_ENTRIES, "scope entries"),
        (
            spec.projects.len(),
            MAX_PROJECT_SWITCHES,
            "projects with switches",
        ),
        (
            environments.len(),
            MAX_ENVIRONMENT_NAMES,
            "environment names",
        ),
        (spec.deny.len(), MAX_DENY_RULES, "deny rules"),
    ] {
        if count > max {
            return Err(invalid(format!(
                "an access role holds at most {max} {what}, and this one has {count}; \
                 split it, or scope it by application"
            )));
        }
    }
    Ok(())
}

/// A compiled access role.
#[derive(Debug, Clone)]
pub struct AccessRole {
    everything: bool,
    applications: HashSet<String>,
    /// Projects in scope, by application (looked up without building a string).
    projects: HashMap<String, HashSet<String>>,
    everywhere: Switches,
    per_project: HashMap<String, HashMap<String, Switches>>,
    /// Deny rules keyed by their literal application; then those with a wildcard
    /// application keyed by their literal project; then the rest. A decision only looks
    /// at rules that can match its application and project.
    deny_by_app: HashMap<String, Vec<DenyRule>>,
    deny_by_project: HashMap<String, Vec<DenyRule>>,
    deny_any: Vec<DenyRule>,
    /// Every deny rule as written, in file order.
    deny_texts: Vec<String>,
}

/// A name no application, project or environment can have: it stands for "any name the
/// roles do not mention" when two roles are compared.
const UNNAMED: &str = "\u{1}";

/// What an access role says about one secret, for every verb at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Outside the role's scope.
    OutOfScope,
    /// A deny rule matched.
    Denied(String),
    /// In scope; these verbs are switched off.
    Open(Verbs),
    /// A machine's or token's access policy refuses it (says which, and why).
    Refused(String),
}

impl Verdict {
    /// The outcome for one verb.
    pub fn outcome(&self, verb: Verb) -> AccessOutcome {
        match self {
            Self::OutOfScope => AccessOutcome::OutOfScope,
            Self::Denied(rule) => AccessOutcome::DeniedByRule(rule.clone()),
            Self::Open(off) if off.contains(verb) => AccessOutcome::SwitchedOff(verb),
            Self::Open(_) => AccessOutcome::Allowed,
            Self::Refused(why) => AccessOutcome::RefusedByPolicy(why.clone()),
        }
    }
}

/// Why an access-role decision came out as it did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccessOutcome {
    /// Allowed.
    Allowed,
    /// Outside the role's scope: the caller must not learn that it exists.
    OutOfScope,
    /// A deny rule matched.
    DeniedByRule(String),
    /// The verb is switched off here.
    SwitchedOff(Verb),
    /// An access policy refuses it (names the policy and the condition).
    RefusedByPolicy(String),
}

impl AccessRole {
    /// Compiles and checks a role file.
    pub fn compile(spec: &AccessRoleSpec) -> Result<Self, Error> {
        check_size(spec)?;
        let mut role = Self {
            everything: false,
            applications: HashSet::new(),
            projects: HashMap::new(),
            everywhere: Switches::compile(&spec.everywhere)?,
            per_project: HashMap::new(),
            deny_by_app: HashMap::new(),
            deny_by_project: HashMap::new(),
            deny_any: Vec::new(),
            deny_texts: spec.deny.clone(),
        };
        match &spec.scope {
            ScopeSpec::Everything => role.everything = true,
            ScopeSpec::Applications(apps) => {
                for app in apps {
                    crate::names::ApplicationName::from_str(app)?;
                    role.applications.insert(app.clone());
                }
            }
            ScopeSpec::Projects(projects) => {
                for project in projects {
                    let path = crate::names::ProjectPath::from_str(project)?;
                    role.projects
                        .entry(path.application.as_str().to_owned())
                        .or_default()
                        .insert(path.project.as_str().to_owned());
                }
            }
        }
        for (project, switches) in &spec.projects {
            let path = crate::names::ProjectPath::from_str(project)?;
            role.per_project
                .entry(path.application.as_str().to_owned())
                .or_default()
                .insert(
                    path.project.as_str().to_owned(),
                    Switches::compile(switches)?,
                );
        }
        for text in &spec.deny {
            let rule = DenyRule::parse(text)?;
            let literal = |i: usize| match rule.segments.get(i) {
                Some(Segment::Pattern(p)) if !p.contains('*') => Some(p.clone()),
                _ => None,
            };
            match (literal(0), literal(1)) {
                (Some(app), _) => role.deny_by_app.entry(app).or_default().push(rule),
                (None, Some(project)) => {
                    role.deny_by_project.entry(project).or_default().push(rule)
                }
                (None, None) => role.deny_any.push(rule),
            }
        }
        Ok(role)
    }

    /// Whether the role opens every application.
    pub fn opens_everything(&self) -> bool {
        self.everything
    }

    /// Whether the role opens the whole of `app` (every project, present and future).
    pub fn opens_whole_application(&self, app: &str) -> bool {
        self.everything || self.applications.contains(app)
    }

    /// Whether the role opens `app/project` at all.
    pub fn opens_project(&self, app: &str, project: &str) -> bool {
        self.everything
            || self.applications.contains(app)
            || self.projects.get(app).is_some_and(|p| p.contains(project))
    }

    /// Whether the role opens anything in `app`.
    pub fn opens_application(&self, app: &str) -> bool {
        self.everything || self.applications.contains(app) || self.projects.contains_key(app)
    }

    fn denying_rule(&self, path: &[&str]) -> Option<&DenyRule> {
        let app = path.first().copied().unwrap_or("");
        let project = path.get(1).copied().unwrap_or("");
        self.deny_by_app
            .get(app)
            .into_iter()
            .flatten()
            .chain(self.deny_by_project.get(project).into_iter().flatten())
            .chain(&self.deny_any)
            .find(|rule| rule.matches(path))
    }

    fn project_switches(&self, app: &str, project: &str) -> Option<&Switches> {
        self.per_project.get(app).and_then(|p| p.get(project))
    }

    /// What the role says about the secret at `path` for every verb, computed once.
    pub fn verdict(&self, path: &SecretPath, secret_type: Option<SecretType>) -> Verdict {
        let env = &path.environment;
        let segments = [
            env.project.application.as_str(),
            env.project.project.as_str(),
            env.environment.as_str(),
            path.name.as_str(),
        ];
        self.verdict_at(&segments, secret_type)
    }

    fn verdict_at(&self, path: &[&str], secret_type: Option<SecretType>) -> Verdict {
        let (app, project) = (path[0], path[1]);
        if !self.opens_project(app, project) {
            return Verdict::OutOfScope;
        }
        if let Some(rule) = self.denying_rule(path) {
            return Verdict::Denied(rule.text.clone());
        }
        let env = path.get(2).copied().unwrap_or("");
        let mut off = self.everywhere.off_for(env, secret_type);
        if let Some(switches) = self.project_switches(app, project) {
            off = off.union(switches.off_for(env, secret_type));
        }
        Verdict::Open(off)
    }

    /// The decision for `verb` on the secret at `path` (of `secret_type`, when known).
    pub fn decide_secret(
        &self,
        verb: Verb,
        path: &SecretPath,
        secret_type: Option<SecretType>,
    ) -> AccessOutcome {
        let env = &path.environment;
        let segments = [
            env.project.application.as_str(),
            env.project.project.as_str(),
            env.environment.as_str(),
            path.name.as_str(),
        ];
        self.decide(verb, &segments, secret_type)
    }

    /// The decision for `verb` on a whole environment (listing, bulk export).
    pub fn decide_environment(&self, verb: Verb, env: &EnvironmentPath) -> AccessOutcome {
        let segments = [
            env.project.application.as_str(),
            env.project.project.as_str(),
            env.environment.as_str(),
        ];
        self.decide(verb, &segments, None)
    }

    fn decide(&self, verb: Verb, path: &[&str], secret_type: Option<SecretType>) -> AccessOutcome {
        self.verdict_at(path, secret_type).outcome(verb)
    }

    /// A role that opens nothing: what a member without an access role holds.
    pub fn nothing() -> Self {
        Self {
            everything: false,
            applications: HashSet::new(),
            projects: HashMap::new(),
            everywhere: Switches::default(),
            per_project: HashMap::new(),
            deny_by_app: HashMap::new(),
            deny_by_project: HashMap::new(),
            deny_any: Vec::new(),
            deny_texts: Vec::new(),
        }
    }

    /// The deny rules as written, in file order.
    pub fn deny_rules(&self) -> &[String] {
        &self.deny_texts
    }

    /// Verbs switched off at `app/project/env` for secrets of `secret_type`, deny rules
    /// aside.
    fn off_at(
        &self,
        app: &str,
        project: &str,
        env: &str,
        secret_type: Option<SecretType>,
    ) -> Verbs {
        let mut off = self.everywhere.off_for(env, secret_type);
        if let Some(switches) = self.project_switches(app, project) {
            off = off.union(switches.off_for(env, secret_type));
        }
        off
    }

    /// Checks that `other` opens nothing this role does not, so that the holder of this
    /// role may author or hand out `other`. The answer is exact, not sampled: the switches
    /// depend on a project only through whether either role switches it, and on an
    /// environment only through whether either names it, so comparing at each of those and
    /// at one of all the others covers every path. `other` must carry every
    /// deny rule of this role. On failure, says in words the first thing `other` would add.
    /// The cost grows with the projects and environments the two roles switch, not with
    /// the size of their scopes beyond one pass over them.
    pub fn covers(&self, other: &AccessRole) -> Result<(), String> {
        if other.everything && !self.everything {
            return Err("it opens every application, and yours does not".into());
        }
        let mut whole: Vec<&String> = other.applications.iter().collect();
        whole.sort();
        for app in whole {
            if !self.everything && !self.applications.contains(app) {
                return Err(format!(
                    "it opens application '{app}' whole, and yours does not"
                ));
            }
        }
        let mut projects: Vec<(&String, &String)> = other
            .projects
            .iter()
            .flat_map(|(app, ps)| ps.iter().map(move |p| (app, p)))
            .collect();
        projects.sort();
        for (app, project) in projects {
            if !self.opens_project(app, project) {
                return Err(format!(
                    "it opens project '{app}/{project}', and yours does not"
                ));
            }
        }
        if let Some(rule) = self
            .deny_texts
            .iter()
            .find(|rule| !other.deny_texts.contains(rule))
        {
            return Err(format!("it lacks your deny rule '{rule}'"));
        }
        let envs = self.mentioned_environments(other);
        let types: Vec<Option<SecretType>> = std::iter::once(None)
            .chain(SecretType::ALL.into_iter().map(Some))
            .collect();
        for (app, project) in self.places_to_compare(other) {
            let place = |env: Option<&str>| {
                let name = |n: &str| {
                    if n == UNNAMED {
                        "*".to_owned()
                    } else {
                        n.to_owned()
                    }
                };
                match env {
                    Some(env) => format!("{}/{}/{}", name(&app), name(&project), name(env)),
                    None => format!("{}/{}", name(&app), name(&project)),
                }
            };
            for env in &envs {
                for secret_type in &types {
                    let mine = self.off_at(&app, &project, env, *secret_type);
                    let theirs = other.off_at(&app, &project, env, *secret_type);
                    if let Some(verb) = Verb::ALL
                        .into_iter()
                        .find(|v| mine.contains(*v) && !theirs.contains(*v))
                    {
                        let of_type = secret_type
                            .map(|t| format!(" for {t} secrets"))
                            .unwrap_or_default();
                        return Err(format!(
                            "it leaves '{verb}' on at {}{of_type}, where yours switches it off",
                            place(Some(env))
                        ));
                    }
                }
            }
            if other.may_attach_machines(&app, &project)
                && !self.may_attach_machines(&app, &project)
            {
                return Err(format!(
                    "it lets machines be attached at {}, where yours does not",
                    place(None)
                ));
            }
            if other.may_author_policies(&app, &project)
                && !self.may_author_policies(&app, &project)
            {
                return Err(format!(
                    "it lets access policies be authored at {}, where yours does not",
                    place(None)
                ));
            }
        }
        Ok(())
    }

    /// The projects in `other`'s scope whose switches must be compared: each one either
    /// role has switches for, and one representative of all the rest (their switches are
    /// the role-wide ones in both roles), if `other` opens any.
    fn places_to_compare(&self, other: &AccessRole) -> Vec<(String, String)> {
        let switched: std::collections::BTreeSet<(&String, &String)> = [self, other]
            .into_iter()
            .flat_map(|role| {
                role.per_project
                    .iter()
                    .flat_map(|(app, ps)| ps.keys().map(move |p| (app, p)))
            })
            .collect();
        let mut places: Vec<(String, String)> = switched
            .iter()
            .filter(|(app, project)| other.opens_project(app, project))
            .map(|(app, project)| ((*app).clone(), (*project).clone()))
            .collect();
        let plain = if other.everything {
            Some((UNNAMED.to_owned(), UNNAMED.to_owned()))
        } else if let Some(app) = other.applications.iter().min() {
            Some((app.clone(), UNNAMED.to_owned()))
        } else {
            let mut listed: Vec<(&String, &String)> = other
                .projects
                .iter()
                .flat_map(|(app, ps)| ps.iter().map(move |p| (app, p)))
                .filter(|pair| !switched.contains(pair))
                .collect();
            listed.sort();
            listed
                .first()
                .map(|(app, project)| ((*app).clone(), (*project).clone()))
        };
        places.extend(plain);
        places
    }

    /// Every environment either role names, and one unnamed environment.
    fn mentioned_environments(&self, other: &AccessRole) -> Vec<String> {
        let mut envs = std::collections::BTreeSet::new();
        for role in [self, other] {
            let all = std::iter::once(&role.everywhere)
                .chain(role.per_project.values().flat_map(HashMap::values));
            for switches in all {
                envs.extend(switches.environments.keys().cloned());
            }
        }
        envs.insert(UNNAMED.to_owned());
        envs.into_iter().collect()
    }

    /// Checks that `verb` holds on every secret under `app/project` (in environment `env`,
    /// or in every environment when `None`), whatever its type: what may be handed on to
    /// a machine or a token, which knows no deny rules or switches of its own. Says why
    /// not in words.
    pub fn holds_throughout(
        &self,
        app: &str,
        project: &str,
        env: Option<&str>,
        verb: Verb,
    ) -> Result<(), String> {
        let place = match env {
            Some(env) => format!("{app}/{project}/{env}"),
            None => format!("{app}/{project}"),
        };
        if !self.opens_project(app, project) {
            return Err(format!("your access role does not open '{app}/{project}'"));
        }
        let switches = std::iter::once(&self.everywhere).chain(self.project_switches(app, project));
        for s in switches {
            if s.off.contains(verb) {
                return Err(format!("your access role switches '{verb}' off in {place}"));
            }
            if let Some((t, _)) = SecretType::ALL
                .iter()
                .zip(s.off_by_type)
                .find(|(_, off)| off.contains(verb))
            {
                return Err(format!(
                    "your access role switches '{verb}' off for {t} secrets"
                ));
            }
            let env_off = s
                .environments
                .iter()
                .find(|(name, off)| off.contains(verb) && env.is_none_or(|e| e == name.as_str()));
            if let Some((name, _)) = env_off {
                return Err(format!(
                    "your access role switches '{verb}' off in {app}/{project}/{name}"
                ));
            }
        }
        let prefix: Vec<Option<&str>> = vec![Some(app), Some(project), env];
        let rules = self
            .deny_by_app
            .values()
            .flatten()
            .chain(self.deny_by_project.values().flatten());
        if let Some(rule) = rules
            .chain(&self.deny_any)
            .find(|rule| rule.may_match_under(&prefix))
        {
            return Err(format!(
                "path rule '{}' of your access role denies part of {place}",
                rule.text
            ));
        }
        Ok(())
    }

    /// Whether machines may be attached to and detached from `app/project`.
    pub fn may_attach_machines(&self, app: &str, project: &str) -> bool {
        self.opens_project(app, project)
            && self.everywhere.machines
            && self
                .project_switches(app, project)
                .is_none_or(|s| s.machines)
    }

    /// Whether access policies may be authored for `app/project`.
    pub fn may_author_policies(&self, app: &str, project: &str) -> bool {
        self.opens_project(app, project)
            && self.everywhere.policies
            && self
                .project_switches(app, project)
                .is_none_or(|s| s.policies)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(json: &str) -> AccessRole {
        let spec: AccessRoleSpec =
            serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {json}"));
        AccessRole::compile(&spec).unwrap_or_else(|e| panic!("{e}"))
    }

    fn at(path: &str) -> SecretPath {
        path.parse().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn everything_in_scope_is_on_by_default() {
        let r = role(r#"{"scope": {"projects": ["payments/api"]}}"#);
        for verb in Verb::ALL {
            assert_eq!(
                r.decide_secret(verb, &at("payments/api/production/KEY"), None),
                AccessOutcome::Allowed
            );
        }
        assert!(
            r.may_attach_machines("payments", "api") && r.may_author_policies("payments", "api")
        );
    }

    #[test]
    fn what_is_out_of_scope_is_hidden() {
        let r = role(r#"{"scope": {"applications": ["payments"]}}"#);
        assert_eq!(
            r.decide_secret(Verb::Read, &at("billing/api/production/KEY"), None),
            AccessOutcome::OutOfScope
        );
        assert!(r.opens_application("payments") && !r.opens_application("billing"));
        let p = role(r#"{"scope": {"projects": ["payments/api"]}}"#);
        assert!(p.opens_application("payments") && !p.opens_project("payments", "worker"));
    }

    #[test]
    fn an_environment_override_switches_a_verb_off_there_only() {
        let r = role(r#"{"scope": "everything", "environments": {"production": ["reveal"]}}"#);
        assert_eq!(
            r.decide_secret(Verb::Reveal, &at("payments/api/production/KEY"), None),
            AccessOutcome::SwitchedOff(Verb::Reveal)
        );
        assert_eq!(
            r.decide_secret(Verb::Reveal, &at("payments/api/staging/KEY"), None),
            AccessOutcome::Allowed
        );
        assert_eq!(
            r.decide_secret(Verb::Read, &at("payments/api/production/KEY"), None),
            AccessOutcome::Allowed
        );
    }

    #[test]
    fn verbs_are_switched_off_by_secret_type_and_per_project() {
        let r = role(
            r#"{"scope": "everything", "off_by_type": {"certificate": ["reveal"]},
                "projects": {"payments/api": {"off": ["delete"], "machines": false}}}"#,
        );
        let key = at("payments/api/production/TLS");
        assert_eq!(
            r.decide_secret(Verb::Reveal, &key, Some(SecretType::Certificate)),
            AccessOutcome::SwitchedOff(Verb::Reveal)
        );
        assert_eq!(
            r.decide_secret(Verb::Reveal, &key, Some(SecretType::ApiKey)),
            AccessOutcome::Allowed
        );
        assert_eq!(
            r.decide_secret(Verb::Delete, &key, None),
            AccessOutcome::SwitchedOff(Verb::Delete)
        );
        assert_eq!(
            r.decide_secret(Verb::Delete, &at("billing/api/production/X"), None),
            AccessOutcome::Allowed
        );
        assert!(
            !r.may_attach_machines("payments", "api") && r.may_attach_machines("billing", "api")
        );
    }

    #[test]
    fn a_deny_rule_beats_everything_that_allows() {
        let r = role(
            r#"{"scope": "everything", "deny": ["payments/api/production/STRIPE_*", "payments/+/staging/*", "+/+/+/ROOT"]}"#,
        );
        for (path, denied) in [
            ("payments/api/production/STRIPE_KEY", true),
            ("payments/api/production/STRIPE_", true),
            ("payments/api/production/OTHER", false),
            ("payments/worker/staging/ANY", true),
            ("payments/worker/production/ANY", false),
            ("billing/api/dev/ROOT", true),
        ] {
            let outcome = r.decide_secret(Verb::Read, &at(path), None);
            assert_eq!(
                matches!(outcome, AccessOutcome::DeniedByRule(_)),
                denied,
                "{path}"
            );
        }
    }

    #[test]
    fn a_short_deny_rule_denies_the_whole_subtree() {
        let r = role(r#"{"scope": "everything", "deny": ["payments/api"]}"#);
        assert!(matches!(
            r.decide_secret(Verb::Read, &at("payments/api/dev/ANY"), None),
            AccessOutcome::DeniedByRule(_)
        ));
        assert_eq!(
            r.decide_secret(Verb::Read, &at("payments/worker/dev/ANY"), None),
            AccessOutcome::Allowed
        );
    }

    #[test]
    fn globs_match_within_a_name_only() {
        assert!(glob_matches(b"STRIPE_*", b"STRIPE_KEY"));
        assert!(glob_matches(b"*_KEY", b"STRIPE_KEY"));
        assert!(glob_matches(b"S*E*Y", b"STRIPE_KEY"));
        assert!(glob_matches(b"*", b"anything"));
        assert!(!glob_matches(b"STRIPE_*", b"PAYPAL_KEY"));
        assert!(!glob_matches(b"KEY", b"KEYS"));
    }

    fn covers(author: &str, candidate: &str) -> Result<(), String> {
        role(author).covers(&role(candidate))
    }

    #[test]
    fn a_role_covers_itself_and_anything_narrower() {
        let wide = r#"{"scope": "everything", "environments": {"production": ["reveal"]}, "deny": ["payments/api/production/ROOT_*"]}"#;
        assert_eq!(covers(wide, wide), Ok(()));
        assert_eq!(
            covers(
                wide,
                r#"{"scope": {"projects": ["payments/api"]}, "off": ["reveal", "delete"], "deny": ["payments/api/production/ROOT_*", "payments/+/staging"]}"#
            ),
            Ok(())
        );
    }

    #[test]
    fn widening_the_scope_is_not_covered() {
        let apps = r#"{"scope": {"applications": ["payments"]}}"#;
        assert!(covers(apps, r#"{"scope": "everything"}"#).is_err());
        assert!(covers(apps, r#"{"scope": {"applications": ["billing"]}}"#).is_err());
        assert!(covers(apps, r#"{"scope": {"projects": ["billing/api"]}}"#).is_err());
        assert_eq!(
            covers(apps, r#"{"scope": {"projects": ["payments/api"]}}"#),
            Ok(())
        );
        let projects = r#"{"scope": {"projects": ["payments/api"]}}"#;
        let err = covers(projects, r#"{"scope": {"applications": ["payments"]}}"#);
        assert_eq!(
            err,
            Err("it opens application 'payments' whole, and yours does not".into())
        );
    }

    #[test]
    fn turning_a_switched_off_verb_back_on_is_not_covered() {
        let author = r#"{"scope": "everything", "environments": {"production": ["reveal"]}}"#;
        assert_eq!(
            covers(author, r#"{"scope": "everything"}"#),
            Err("it leaves 'reveal' on at */*/production, where yours switches it off".into())
        );
        let by_type = r#"{"scope": "everything", "off_by_type": {"certificate": ["reveal"]}}"#;
        assert!(covers(by_type, r#"{"scope": {"projects": ["a/b"]}}"#).is_err());
        let per_project = r#"{"scope": "everything", "projects": {"a/b": {"off": ["write"]}}}"#;
        assert!(covers(per_project, r#"{"scope": {"applications": ["a"]}}"#).is_err());
        assert_eq!(
            covers(per_project, r#"{"scope": {"projects": ["a/c"]}}"#),
            Ok(())
        );
    }

    #[test]
    fn switching_a_verb_off_only_inside_the_narrower_scope_is_enough() {
        assert_eq!(
            covers(
                r#"{"scope": "everything", "off": ["reveal"]}"#,
                r#"{"scope": {"projects": ["a/b"]}, "projects": {"a/b": {"off": ["reveal"]}}}"#
            ),
            Ok(())
        );
    }

    #[test]
    fn machines_and_policies_switched_off_stay_off() {
        let author = r#"{"scope": "everything", "machines": false}"#;
        assert!(covers(author, r#"{"scope": "everything"}"#).is_err());
        assert_eq!(
            covers(author, r#"{"scope": "everything", "machines": false}"#),
            Ok(())
        );
        let author = r#"{"scope": "everything", "projects": {"a/b": {"policies": false}}}"#;
        assert!(covers(author, r#"{"scope": {"projects": ["a/b"]}}"#).is_err());
    }

    #[test]
    fn a_role_without_the_authors_deny_rule_is_not_covered() {
        assert_eq!(
            covers(
                r#"{"scope": "everything", "deny": ["payments/+/production/STRIPE_*"]}"#,
                r#"{"scope": {"projects": ["billing/api"]}}"#
            ),
            Err("it lacks your deny rule 'payments/+/production/STRIPE_*'".into())
        );
    }

    #[test]
    fn nothing_covers_only_a_role_that_opens_nothing() {
        let nothing = AccessRole::nothing();
        assert!(
            nothing
                .covers(&role(r#"{"scope": {"projects": ["a/b"]}}"#))
                .is_err()
        );
        assert_eq!(
            nothing.covers(&role(r#"{"scope": {"projects": []}}"#)),
            Ok(())
        );
    }

    #[test]
    fn oversized_role_files_are_refused_before_they_are_compared() {
        let projects: Vec<String> = (0..=MAX_SCOPE_ENTRIES).map(|i| format!("a/p{i}")).collect();
        let spec = AccessRoleSpec {
            scope: ScopeSpec::Projects(projects),
            everywhere: SwitchesSpec::default(),
            projects: BTreeMap::new(),
            deny: Vec::new(),
        };
        let err = AccessRole::compile(&spec).err().map(|e| e.to_string());
        assert!(
            err.as_deref()
                .is_some_and(|e| e.contains("at most 5000 scope entries")),
            "{err:?}"
        );
        let environments = (0..=MAX_ENVIRONMENT_NAMES)
            .map(|i| (format!("e{i}"), vec!["reveal".to_owned()]))
            .collect();
        let spec = AccessRoleSpec {
            scope: ScopeSpec::Everything,
            everywhere: SwitchesSpec {
                environments,
                ..SwitchesSpec::default()
            },
            projects: BTreeMap::new(),
            deny: Vec::new(),
        };
        assert!(AccessRole::compile(&spec).is_err());
    }

    #[test]
    fn comparing_the_largest_roles_allowed_stays_within_a_request() {
        let spec = |offset: usize| AccessRoleSpec {
            scope: ScopeSpec::Projects(
                (0..MAX_SCOPE_ENTRIES)
                    .map(|i| format!("a{}/p{i}", i % 7))
                    .collect(),
            ),
            everywhere: SwitchesSpec {
                environments: (0..MAX_ENVIRONMENT_NAMES)
                    .map(|i| (format!("e{}", i + offset), vec!["write".to_owned()]))
                    .collect(),
                ..SwitchesSpec::default()
            },
            projects: (0..MAX_PROJECT_SWITCHES)
                .map(|i| (format!("b/q{}", i + offset), SwitchesSpec::default()))
                .collect(),
            deny: Vec::new(),
        };
        let (author, candidate) = (
            AccessRole::compile(&spec(0)).unwrap_or_else(|e| panic!("{e}")),
            AccessRole::compile(&spec(1000)).unwrap_or_else(|e| panic!("{e}")),
        );
        // The answer matters here, not the time: a role this large must still be compared
        // exactly (timings belong in benchmarks).
        assert!(author.covers(&candidate).is_err());
        assert_eq!(author.covers(&author), Ok(()));
    }

    #[test]
    fn malformed_role_files_are_refused_with_the_reason() {
        for bad in [
            r#"{"scope": "everything", "off": ["peek"]}"#,
            r#"{"scope": "everything", "deny": ["a/b/c/d/e"]}"#,
            r#"{"scope": "everything", "deny": ["a//b"]}"#,
            r#"{"scope": "everything", "deny": ["a+/b"]}"#,
            r#"{"scope": {"projects": ["not-a-project-path"]}}"#,
            r#"{"scope": "everything", "off_by_type": {"pdf": ["reveal"]}}"#,
            r#"{"scope": "everything", "environments": {"Prod uction": ["reveal"]}}"#,
        ] {
            let compiled = serde_json::from_str::<AccessRoleSpec>(bad)
                .map_err(|e| e.to_string())
                .and_then(|spec| AccessRole::compile(&spec).map_err(|e| e.to_string()));
            assert!(compiled.is_err(), "{bad}");
        }
        assert!(
            serde_json::from_str::<AccessRoleSpec>(r#"{"scope": "everything", "nope": 1}"#)
                .is_err()
        );
    }
}
