//! Organizations and their members: switching vaults, creating, converting, handing
//! over, leaving, deleting and restoring organizations; the roster; invites by email and
//! by link.

use super::{Ctx, read_password};
use crate::args::{
    InvitesCommand, LinksCommand, MembersCommand, OrgCommand, StepUpFlags, VaultsCommand,
};
use crate::failure::{CliResult, Failure};
use crate::output;
use strongroom_client::Client;
use strongroom_proto::{CreateLinkRequest, Sensitive, StepUpRequest, VaultInfo};

/// Re-authenticates before a sensitive action.
pub async fn step_up(client: &Client, flags: &StepUpFlags) -> CliResult {
    let password = read_password(flags.password_stdin, "Password: ", false)?;
    client
        .step_up(&StepUpRequest {
            password: Sensitive::new(password),
            totp_code: flags.totp.clone(),
        })
        .await?;
    Ok(())
}

fn vault_line(v: &VaultInfo) -> String {
    format!("{} ({}, {}) as {}", v.name, v.kind, v.id, v.role)
}

pub async fn vaults(ctx: &Ctx, command: VaultsCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        VaultsCommand::List => {
            let vaults = client.vaults().await?;
            if ctx.json {
                return output::json(&vaults);
            }
            output::table(
                &["", "ID", "NAME", "KIND", "ROLE", "STATUS", "PLAN"],
                vaults
                    .into_iter()
                    .map(|v| {
                        let plan = if v.kind == "organization" {
                            v.plan
                        } else {
                            String::new()
                        };
                        vec![
                            if v.current { "*".into() } else { String::new() },
                            v.id,
                            v.name,
                            v.kind,
                            v.role,
                            v.status,
                            plan,
                        ]
                    })
                    .collect(),
            );
        }
        VaultsCommand::Use { vault } => {
            let vault = client.switch_vault(&vault).await?;
            if ctx.json {
                return output::json(&vault);
            }
            println!("Now acting in {}.", vault_line(&vault));
        }
    }
    Ok(())
}

pub async fn org(ctx: &Ctx, command: OrgCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        OrgCommand::Create { name } => {
            let vault = client.create_organization(&name).await?;
            if ctx.json {
                return output::json(&vault);
            }
            println!("Created organization {}.", vault_line(&vault));
            println!(
                "Act in it with `strongroom vaults use {}`, then invite people with `strongroom members invite EMAIL`.",
                vault.id
            );
        }
        OrgCommand::Convert {
            name,
            step_up: flags,
        } => {
            step_up(&client, &flags).await?;
            let vault = client.convert_vault(&name).await?;
            if ctx.json {
                return output::json(&vault);
            }
            println!(
                "Converted your personal vault into organization {}.",
                vault_line(&vault)
            );
            println!(
                "Its id and contents are unchanged; a new, empty personal vault was created for you."
            );
        }
        OrgCommand::Leave => {
            let personal = client.leave_vault().await?;
            if ctx.json {
                return output::json(&personal);
            }
            println!(
                "You left the organization. Now acting in {}.",
                vault_line(&personal)
            );
        }
        OrgCommand::Transfer {
            username,
            step_up: flags,
        } => {
            step_up(&client, &flags).await?;
            client.transfer_ownership(&username).await?;
            if ctx.json {
                return output::json(&serde_json::json!({"new_owner": username}));
            }
            println!("{username} now owns this organization; you are an admin.");
        }
        OrgCommand::Delete { step_up: flags } => {
            let current = client.whoami().await?.vault;
            step_up(&client, &flags).await?;
            client.delete_organization().await?;
            if ctx.json {
                return output::json(&serde_json::json!({"deleted": current.id}));
            }
            println!(
                "Deleted organization {}: nobody can use it from now on.",
                vault_line(&current)
            );
            println!(
                "Restore it within 30 days with `strongroom org restore {}`.",
                current.id
            );
        }
        OrgCommand::Restore { vault } => {
            let vault = client.restore_organization(&vault).await?;
            if ctx.json {
                return output::json(&vault);
            }
            println!("Restored organization {}.", vault_line(&vault));
        }
    }
    Ok(())
}

pub async fn members(ctx: &Ctx, command: MembersCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        MembersCommand::List => {
            let roster = client.members().await?;
            if ctx.json {
                return output::json(&roster);
            }
            let cap = roster.cap.map_or("unlimited".to_owned(), |c| c.to_string());
            println!(
                "Plan {}: {} of {} seats used (members and pending invites). Plans: {}",
                roster.plan, roster.used, cap, roster.billing_path
            );
            output::table(
                &["USERNAME", "VAULT ROLE", "STATUS", "JOINED"],
                roster
                    .items
                    .into_iter()
                    .map(|m| vec![m.username, m.vault_role, m.status, m.joined_at])
                    .collect(),
            );
        }
        MembersCommand::Invite {
            email,
            vault_role,
            access_role,
        } => {
            let sent = client
                .invite_with_access_role(&email, Some(&vault_role), access_role.as_deref())
                .await?;
            if ctx.json {
                return output::json(&sent);
            }
            println!(
                "Invited {email} as {} (expires in {} days): {}.",
                sent.vault_role, sent.expires_in_days, sent.message
            );
        }
        MembersCommand::Invites => {
            let invites = client.pending_invites().await?;
            if ctx.json {
                return output::json(&invites);
            }
            output::table(
                &["ID", "EMAIL", "VAULT ROLE", "INVITED BY", "EXPIRES"],
                invites
                    .into_iter()
                    .map(|i| vec![i.id, i.email, i.vault_role, i.invited_by, i.expires_at])
                    .collect(),
            );
        }
        MembersCommand::RevokeInvite { id } => {
            client.revoke_invite(&id).await?;
            output::say(ctx.json, format!("Revoked invite {id}."));
            if ctx.json {
                return output::json(&serde_json::json!({"revoked": id}));
            }
        }
        MembersCommand::Suspend { username } => {
            let m = client.suspend_member(&username).await?;
            if ctx.json {
                return output::json(&m);
            }
            println!(
                "Suspended {}: their access to this vault stops on their next request.",
                m.username
            );
        }
        MembersCommand::Unsuspend { username } => {
            let m = client.unsuspend_member(&username).await?;
            if ctx.json {
                return output::json(&m);
            }
            println!("{} is active again.", m.username);
        }
        MembersCommand::Remove { username } => {
            client.remove_member(&username).await?;
            if ctx.json {
                return output::json(&serde_json::json!({"removed": username}));
            }
            println!("Removed {username} from this vault.");
        }
        MembersCommand::SetRole {
            username,
            vault_role,
            access_role,
            no_access_role,
        } => {
            if vault_role.is_none() && access_role.is_none() && !no_access_role {
                return Err(Failure::usage(
                    "say what to change: --vault-role ROLE, --access-role NAME or --no-access-role",
                ));
            }
            let mut member = None;
            if let Some(role) = vault_role {
                member = Some(client.set_member_role(&username, &role).await?);
            }
            if access_role.is_some() || no_access_role {
                member = Some(
                    client
                        .set_member_access_role(&username, access_role.as_deref())
                        .await?,
                );
            }
            let Some(m) = member else { return Ok(()) };
            if ctx.json {
                return output::json(&m);
            }
            println!(
                "{} is now {} with {}.",
                m.username,
                m.vault_role,
                m.access_role
                    .as_deref()
                    .map_or("no access role".to_owned(), |r| format!("access role {r}"))
            );
        }
    }
    Ok(())
}

pub async fn invites(ctx: &Ctx, command: InvitesCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        InvitesCommand::List => {
            let invites = client.received_invites().await?;
            if ctx.json {
                return output::json(&invites);
            }
            output::table(
                &[
                    "ID",
                    "ORGANIZATION",
                    "INVITED BY",
                    "ROLE OFFERED",
                    "EXPIRES",
                ],
                invites
                    .into_iter()
                    .map(|i| {
                        vec![
                            i.id,
                            i.organization,
                            i.invited_by,
                            i.role_summary,
                            i.expires_at,
                        ]
                    })
                    .collect(),
            );
        }
        InvitesCommand::Accept { id } => {
            let vault = client.accept_invite(&id).await?;
            if ctx.json {
                return output::json(&vault);
            }
            println!("Joined {}.", vault_line(&vault));
            println!("Act in it with `strongroom vaults use {}`.", vault.id);
        }
        InvitesCommand::Decline { id } => {
            client.decline_invite(&id).await?;
            if ctx.json {
                return output::json(&serde_json::json!({"declined": id}));
            }
            println!("Declined invite {id}.");
        }
    }
    Ok(())
}

/// `12h` or `7d` as hours.
pub(crate) fn parse_hours(s: &str) -> CliResult<u32> {
    let bad = || {
        Failure::usage(format!(
            "--expires {s:?}: use hours or days, like 12h or 7d"
        ))
    };
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u32 = number.parse().map_err(|_| bad())?;
    match unit {
        "h" => Ok(n),
        "d" => n.checked_mul(24).ok_or_else(bad),
        _ => Err(bad()),
    }
}

pub async fn links(ctx: &Ctx, command: LinksCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        LinksCommand::Create { expires, max_uses } => {
            let created = client
                .create_link(&CreateLinkRequest {
                    expires_in_hours: Some(parse_hours(&expires)?),
                    max_uses,
                })
                .await?;
            if ctx.json {
                return output::json(&created);
            }
            println!(
                "Invite link {} (expires {}):",
                created.link.id, created.link.expires_at
            );
            println!("  {}", created.token.expose());
            println!(
                "It is shown only now. Whoever has it joins with `strongroom join {}`.",
                created.token.expose()
            );
        }
        LinksCommand::List => {
            let links = client.links().await?;
            if ctx.json {
                return output::json(&links);
            }
            output::table(
                &["ID", "STATE", "USES", "EXPIRES", "CREATED BY"],
                links
                    .into_iter()
                    .map(|l| {
                        let uses = match l.max_uses {
                            Some(max) => format!("{}/{max}", l.uses),
                            None => l.uses.to_string(),
                        };
                        vec![l.id, l.state, uses, l.expires_at, l.created_by]
                    })
                    .collect(),
            );
        }
        LinksCommand::Revoke { id } => {
            client.revoke_link(&id).await?;
            if ctx.json {
                return output::json(&serde_json::json!({"revoked": id}));
            }
            println!("Revoked invite link {id}.");
        }
    }
    Ok(())
}

pub async fn join(ctx: &Ctx, link: &str) -> CliResult {
    let vault = ctx.client()?.join(link).await?;
    if ctx.json {
        return output::json(&vault);
    }
    println!("Joined {}.", vault_line(&vault));
    println!("Act in it with `strongroom vaults use {}`.", vault.id);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_hours;

    #[test]
    fn link_lifetimes_are_given_in_hours_or_days() {
        assert_eq!(parse_hours("12h").ok(), Some(12));
        assert_eq!(parse_hours("7d").ok(), Some(168));
        for bad in ["", "7", "d", "7w", "-1d", "99999999999d"] {
            assert!(parse_hours(bad).is_err(), "{bad}");
        }
    }
}
