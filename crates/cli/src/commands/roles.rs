//! `strongroom roles`: the vault roles and the management matrix each one holds.

use super::Ctx;
use crate::args::{AccessRolesCommand, RolesCommand};
use crate::failure::CliResult;
use crate::output;
use strongroom_core::authz::VaultRole;
use strongroom_core::capability::Capability;
use strongroom_proto::RoleInfo;

/// The role's row, category by category, every cell marked held or not.
fn print_matrix(role: &RoleInfo) {
    println!("{}", role.summary);
    if !role.assignable {
        println!("(not assignable: ownership moves only by `strongroom org transfer`)");
    }
    let mut rows: Vec<Vec<String>> = Vec::new();
    for cell in Capability::ALL {
        let (category, label) = cell.category_and_cell();
        let held = role.capabilities.iter().any(|c| c == cell.as_str());
        rows.push(vec![
            category.to_owned(),
            label.to_owned(),
            if held { "yes" } else { "-" }.to_owned(),
            cell.as_str().to_owned(),
        ]);
    }
    output::table(&["CATEGORY", "CELL", "HELD", "NAME"], rows);
}

/// `roles show` for a built-in role: the matrix is part of the product, no server needed.
pub fn show_built_in(name: &str, json: bool) -> CliResult {
    let role: VaultRole = super::parse_arg(name)?;
    let info = strongroom_server::built_in_role(role);
    if json {
        return output::json(&info);
    }
    print_matrix(&info);
    Ok(())
}

pub async fn roles(ctx: &Ctx, command: RolesCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        RolesCommand::List => {
            let roles = client.roles().await?;
            if ctx.json {
                return output::json(&roles);
            }
            output::table(
                &["ROLE", "KIND", "ASSIGNABLE", "SUMMARY"],
                roles
                    .into_iter()
                    .map(|r| {
                        vec![
                            r.name,
                            r.kind,
                            if r.assignable { "yes" } else { "no" }.into(),
                            r.summary,
                        ]
                    })
                    .collect(),
            );
        }
        RolesCommand::Show { role } => {
            let info = client.role(&role).await?;
            if ctx.json {
                return output::json(&info);
            }
            print_matrix(&info);
        }
        RolesCommand::Create { name, from_file } => {
            let role = client
                .create_role(&name, read_role_file(&from_file)?)
                .await?;
            if ctx.json {
                return output::json(&role);
            }
            println!(
                "Created vault role {} ({} cells). Give it to a member with `strongroom members set-role USERNAME --vault-role {}`.",
                role.name,
                role.capabilities.len(),
                role.name
            );
        }
        RolesCommand::Edit { name, from_file } => {
            let role = client.edit_role(&name, read_role_file(&from_file)?).await?;
            if ctx.json {
                return output::json(&role);
            }
            println!(
                "Vault role {} now holds {} cells; its {} holders hold them from their next request.",
                role.name,
                role.capabilities.len(),
                role.members.unwrap_or(0)
            );
        }
        RolesCommand::Delete { name } => {
            client.delete_role(&name).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "deleted": name }));
            }
            println!("Deleted vault role {name}.");
        }
    }
    Ok(())
}

/// Reads a role file: TOML when the file name ends in `.toml`, JSON otherwise.
fn read_role_file(path: &std::path::Path) -> CliResult<serde_json::Value> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        crate::failure::Failure::usage(format!("cannot read {}: {e}", path.display()))
    })?;
    let parsed = if path.extension().is_some_and(|e| e == "toml") {
        toml::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
    } else {
        serde_json::from_str::<serde_json::Value>(&text).map_err(|e| e.to_string())
    };
    parsed.map_err(|e| {
        crate::failure::Failure::usage(format!("{} is not a valid role file: {e}", path.display()))
    })
}

pub async fn access_roles(ctx: &Ctx, command: AccessRolesCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        AccessRolesCommand::List => {
            let roles = client.access_roles().await?;
            if ctx.json {
                return output::json(&roles);
            }
            output::table(
                &["NAME", "MEMBERS", "VERSION", "UPDATED"],
                roles
                    .into_iter()
                    .map(|r| {
                        vec![
                            r.name,
                            r.members.to_string(),
                            r.version.to_string(),
                            r.updated_at,
                        ]
                    })
                    .collect(),
            );
        }
        AccessRolesCommand::Show { name } => {
            let role = client.access_role(&name).await?;
            if ctx.json {
                return output::json(&role);
            }
            println!(
                "{} (version {}, held by {} members):",
                role.name, role.version, role.members
            );
            output::json(&role.spec)?;
        }
        AccessRolesCommand::Create { name, from_file } => {
            let role = client
                .create_access_role(&name, read_role_file(&from_file)?)
                .await?;
            if ctx.json {
                return output::json(&role);
            }
            println!(
                "Created access role {}. Give it to a member with `strongroom members set-role USERNAME --access-role {}`.",
                role.name, role.name
            );
        }
        AccessRolesCommand::Edit { name, from_file } => {
            let role = client
                .edit_access_role(&name, read_role_file(&from_file)?)
                .await?;
            if ctx.json {
                return output::json(&role);
            }
            println!(
                "Access role {} is now at version {}; its {} holders see the change on their next request.",
                role.name, role.version, role.members
            );
        }
        AccessRolesCommand::Delete { name } => {
            client.delete_access_role(&name).await?;
            if ctx.json {
                return output::json(&serde_json::json!({"deleted": name}));
            }
            println!("Deleted access role {name}; its holders hold none now.");
        }
    }
    Ok(())
}

pub async fn check(ctx: &Ctx, username: &str, action: &str, resource: Option<&str>) -> CliResult {
    let resource = resource.filter(|r| *r != "vault");
    let answer = ctx.client()?.check(username, action, resource).await?;
    if ctx.json {
        output::json(&answer)?;
    } else {
        println!(
            "{}: {}",
            if answer.allowed { "allow" } else { "deny" },
            answer.reason
        );
    }
    if answer.allowed {
        Ok(())
    } else {
        Err(crate::failure::Failure::silent(
            crate::failure::exit::DENIED,
        ))
    }
}
