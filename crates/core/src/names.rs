//! Validated names and paths. Parse, don't validate: once a value has one of these types
//! it is known to be safe to store, to put in a URL and to print.
//!
//! Applications, projects and environments share one rule (lowercase, digits, `.`, `-`,
//! `_`; at most 64 characters). Secret names are case-sensitive like environment
//! variables (letters, digits, `.`, `-`, `_`; at most 128 characters). Neither may be
//! empty, contain `..`, `/`, whitespace or control characters.

use crate::error::{Error, ErrorCode};
use std::fmt;
use std::str::FromStr;

/// Longest application, project or environment name.
pub const MAX_SEGMENT_LEN: usize = 64;
/// Longest secret name.
pub const MAX_SECRET_NAME_LEN: usize = 128;

fn describe_char(c: char) -> String {
    if c.is_control() {
        format!("a control character (U+{:04X})", c as u32)
    } else if c.is_whitespace() {
        "whitespace".to_owned()
    } else {
        format!("'{c}'")
    }
}

fn check_common(kind: &str, s: &str, max: usize) -> Result<(), Error> {
    let invalid = |why: String| Error::new(ErrorCode::InvalidName, format!("{kind} {why}"));
    if s.is_empty() {
        return Err(invalid("must not be empty".into()));
    }
    if s.chars().count() > max {
        return Err(invalid(format!("is longer than {max} characters")));
    }
    if s.contains("..") {
        return Err(invalid("must not contain '..'".into()));
    }
    Ok(())
}

fn validate_segment(kind: &str, s: &str) -> Result<(), Error> {
    check_common(kind, s, MAX_SEGMENT_LEN)?;
    let invalid = |why: String| Error::new(ErrorCode::InvalidName, format!("{kind} {why}"));
    if let Some(c) = s
        .chars()
        .find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '.' | '-' | '_'))
    {
        return Err(invalid(format!(
            "contains {}: use lowercase letters, digits, '.', '-' and '_'",
            describe_char(c)
        )));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        return Err(invalid("must start with a letter or a digit".into()));
    }
    Ok(())
}

fn validate_secret_name(s: &str) -> Result<(), Error> {
    check_common("secret name", s, MAX_SECRET_NAME_LEN)?;
    if let Some(c) = s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_')))
    {
        return Err(Error::new(
            ErrorCode::InvalidName,
            format!(
                "secret name contains {}: use letters, digits, '.', '-' and '_'",
                describe_char(c)
            ),
        ));
    }
    if !s.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_') {
        return Err(Error::new(
            ErrorCode::InvalidName,
            "secret name must start with a letter, a digit or '_'",
        ));
    }
    Ok(())
}

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident, $validate:expr) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The name as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Accepts a name read back from storage without re-checking it.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }
        }

        impl FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                ($validate)(s)?;
                Ok(Self(s.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = Error;
            fn try_from(s: String) -> Result<Self, Error> {
                ($validate)(s.as_str())?;
                Ok(Self(s))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&self.0, f)
            }
        }
    };
}

name_type!(
    /// The name of an application, unique in its vault.
    ApplicationName,
    |s| validate_segment("application name", s)
);
name_type!(
    /// The name of a project, unique in its application.
    ProjectName,
    |s| validate_segment("project name", s)
);
name_type!(
    /// The name of an environment, unique in its project.
    EnvironmentName,
    |s| validate_segment("environment name", s)
);
name_type!(
    /// The name of an organization, unique among the organizations of one owner. The same
    /// rule as application names, so it can name a vault in a URL or a KV namespace.
    OrganizationName,
    |s| validate_segment("organization name", s)
);
name_type!(
    /// The name of an access role (or a custom vault role), unique in its vault.
    RoleName,
    |s| validate_segment("role name", s)
);
name_type!(
    /// The name of a machine, unique in its vault.
    MachineName,
    |s| validate_segment("machine name", s)
);
name_type!(
    /// The name of an agent or CI token, unique among a vault's live tokens.
    TokenName,
    |s| validate_segment("token name", s)
);
name_type!(
    /// The name of an access policy, unique in its vault.
    PolicyName,
    |s| validate_segment("policy name", s)
);
name_type!(
    /// The name of an alert rule, unique in its vault.
    AlertName,
    |s| validate_segment("alert name", s)
);
name_type!(
    /// The name of a secret, unique in its environment.
    SecretName,
    validate_secret_name
);

impl EnvironmentName {
    /// The environments every new project starts with.
    pub fn defaults() -> [EnvironmentName; 3] {
        [
            Self("development".into()),
            Self("staging".into()),
            Self("production".into()),
        ]
    }
}

fn split_path<'a, const N: usize>(s: &'a str, shape: &str) -> Result<[&'a str; N], Error> {
    let parts: Vec<&str> = s.split('/').collect();
    parts.try_into().map_err(|parts: Vec<&str>| {
        Error::new(
            ErrorCode::InvalidPath,
            format!(
                "expected a path of the form {shape} ({N} parts separated by '/'), got {} part{}",
                parts.len(),
                if parts.len() == 1 { "" } else { "s" }
            ),
        )
    })
}

/// `application/project`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct ProjectPath {
    /// The application.
    pub application: ApplicationName,
    /// The project inside it.
    pub project: ProjectName,
}

/// `application/project/environment`.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct EnvironmentPath {
    /// The project.
    pub project: ProjectPath,
    /// The environment inside it.
    pub environment: EnvironmentName,
}

/// `application/project/environment/NAME`: how a secret is addressed everywhere.
#[derive(Clone, PartialEq, Eq, Hash, Debug)]
pub struct SecretPath {
    /// The environment.
    pub environment: EnvironmentPath,
    /// The secret's name.
    pub name: SecretName,
}

impl FromStr for ProjectPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let [a, p] = split_path(s, "APP/PROJECT")?;
        Ok(Self {
            application: a.parse()?,
            project: p.parse()?,
        })
    }
}

impl FromStr for EnvironmentPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let [a, p, e] = split_path(s, "APP/PROJECT/ENV")?;
        Ok(Self {
            project: ProjectPath {
                application: a.parse()?,
                project: p.parse()?,
            },
            environment: e.parse()?,
        })
    }
}

impl FromStr for SecretPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        let [a, p, e, n] = split_path(s, "APP/PROJECT/ENV/NAME")?;
        Ok(Self {
            environment: EnvironmentPath {
                project: ProjectPath {
                    application: a.parse()?,
                    project: p.parse()?,
                },
                environment: e.parse()?,
            },
            name: n.parse()?,
        })
    }
}

impl fmt::Display for ProjectPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.application, self.project)
    }
}

impl fmt::Display for EnvironmentPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.project, self.environment)
    }
}

impl fmt::Display for SecretPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.environment, self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code_of<T: FromStr<Err = Error>>(s: &str) -> Option<ErrorCode> {
        s.parse::<T>().err().map(|e| e.code())
    }

    #[test]
    fn ordinary_names_are_accepted() {
        assert!("payments".parse::<ApplicationName>().is_ok());
        assert!("api-v2.internal_1".parse::<ProjectName>().is_ok());
        assert!("STRIPE_SECRET_KEY".parse::<SecretName>().is_ok());
        assert!("_private".parse::<SecretName>().is_ok());
    }

    #[test]
    fn path_tricks_are_refused_with_invalid_name() {
        for bad in [
            "..", "a..b", ".hidden", "-x", "a/b", "a\\b", "", "UPPER", "a b",
        ] {
            assert_eq!(
                code_of::<ApplicationName>(bad),
                Some(ErrorCode::InvalidName),
                "{bad:?}"
            );
        }
        for bad in ["..", "A..B", ".env", "a/b", "", "x\u{0}y", "tab\tname", "é"] {
            assert_eq!(
                code_of::<SecretName>(bad),
                Some(ErrorCode::InvalidName),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn control_characters_are_named_in_the_error() {
        let err = "bad\u{7}name".parse::<ProjectName>().err();
        assert!(err.is_some_and(|e| e.message().contains("U+0007")));
    }

    #[test]
    fn over_long_names_are_refused() {
        assert!(
            "a".repeat(MAX_SEGMENT_LEN)
                .parse::<EnvironmentName>()
                .is_ok()
        );
        assert!(
            "a".repeat(MAX_SEGMENT_LEN + 1)
                .parse::<EnvironmentName>()
                .is_err()
        );
        assert!(
            "A".repeat(MAX_SECRET_NAME_LEN)
                .parse::<SecretName>()
                .is_ok()
        );
        assert!(
            "A".repeat(MAX_SECRET_NAME_LEN + 1)
                .parse::<SecretName>()
                .is_err()
        );
    }

    #[test]
    fn secret_paths_need_exactly_four_segments() {
        let path: SecretPath = "payments/api/production/STRIPE_KEY"
            .parse()
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(path.to_string(), "payments/api/production/STRIPE_KEY");
        assert_eq!(path.environment.project.application.as_str(), "payments");
        for bad in ["a/b/c", "a/b/c/d/e", "a//c/D", "/a/b/c/D", "a/b/c/D/"] {
            assert!(bad.parse::<SecretPath>().is_err(), "{bad}");
        }
        assert_eq!(code_of::<SecretPath>("a/b/c"), Some(ErrorCode::InvalidPath));
        assert_eq!(
            code_of::<SecretPath>("a//c/D"),
            Some(ErrorCode::InvalidName)
        );
    }
}
