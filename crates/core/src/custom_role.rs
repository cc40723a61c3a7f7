//! The file a custom vault role is written in (JSON or TOML): a description and the cells
//! of the management matrix it holds. Authoring rules (plan, no escalation) live with the
//! decision in [`crate::authz`].

use crate::authz::VaultRole;
use crate::capability::Capabilities;
use crate::error::{Error, ErrorCode};
use crate::names::RoleName;
use serde::{Deserialize, Serialize};

/// A custom vault role as written in a role file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CustomRoleSpec {
    /// One line for role pickers and the roster.
    #[serde(default)]
    pub description: String,
    /// The cells it holds, by name (`strongroom roles show owner` lists them all).
    pub capabilities: Vec<String>,
}

/// Longest description kept.
const MAX_DESCRIPTION: usize = 200;

impl CustomRoleSpec {
    /// The cells, checked: known names, none twice, a description of one short line.
    pub fn cells(&self) -> Result<Capabilities, Error> {
        if self.description.chars().count() > MAX_DESCRIPTION
            || self.description.chars().any(char::is_control)
        {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("a role's description is one line of at most {MAX_DESCRIPTION} characters"),
            ));
        }
        Capabilities::parse_names(self.capabilities.iter().map(String::as_str))
    }
}

/// Refuses a custom role name that a built-in role already uses.
pub fn check_custom_name(name: &RoleName) -> Result<(), Error> {
    let taken = VaultRole::ALL
        .iter()
        .map(|r| r.as_str())
        .chain(["custom"])
        .any(|built_in| built_in == name.as_str());
    if taken {
        Err(Error::new(
            ErrorCode::AlreadyExists,
            format!("'{name}' is a built-in role; choose another name"),
        ))
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capability::Capability;

    #[test]
    fn a_role_file_lists_cells_by_name() {
        let spec: CustomRoleSpec = serde_json::from_str(
            r#"{"description": "Release managers", "capabilities": ["overview", "machines"]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            spec.cells().ok(),
            Some(Capabilities::of(&[
                Capability::Overview,
                Capability::Machines
            ]))
        );
    }

    #[test]
    fn unknown_cells_fields_and_long_descriptions_are_refused() {
        let unknown = CustomRoleSpec {
            description: String::new(),
            capabilities: vec!["everything".into()],
        };
        assert!(unknown.cells().is_err());
        let long = CustomRoleSpec {
            description: "x".repeat(201),
            capabilities: vec![],
        };
        assert!(long.cells().is_err());
        assert!(
            serde_json::from_str::<CustomRoleSpec>(
                r#"{"capabilities": [], "scope": "everything"}"#
            )
            .is_err()
        );
    }

    #[test]
    fn built_in_names_cannot_be_reused() {
        for name in ["owner", "admin", "developer", "collaborator", "custom"] {
            let name: RoleName = name.parse().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(
                check_custom_name(&name).err().map(|e| e.code()),
                Some(ErrorCode::AlreadyExists)
            );
        }
        let name: RoleName = "release-managers".parse().unwrap_or_else(|e| panic!("{e}"));
        assert!(check_custom_name(&name).is_ok());
    }
}
