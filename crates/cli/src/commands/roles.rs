//! `strongroom roles`: the vault roles and the management matrix each one holds.

use super::Ctx;
use crate::args::RolesCommand;
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
    }
    Ok(())
}
