//! `strongroom machines`: make a machine's keypair where it runs, and register, list,
//! disable, enable and remove machines in the current vault.

use super::Ctx;
use super::org::parse_hours;
use crate::args::MachinesCommand;
use crate::failure::{CliResult, Failure};
use crate::output;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use strongroom_crypto::machine_key::{MachineKey, MachinePublicKey};
use strongroom_proto::{MachineAttachment, MachineGrant, MachineInfo};

/// Writes `bytes` to a new file of mode `mode`; an existing file is replaced only with
/// `force`.
fn write_new(path: &Path, bytes: &[u8], mode: u32, force: bool) -> CliResult {
    if force {
        match std::fs::remove_file(path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(Failure::usage(format!(
                    "cannot replace {}: {e}",
                    path.display()
                )));
            }
        }
    }
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(path)
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::AlreadyExists => Failure::usage(format!(
                "{} exists; choose another --out, or add --force to replace it",
                path.display()
            )),
            _ => Failure::usage(format!("cannot write {}: {e}", path.display())),
        })?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

/// `machines keygen`: needs no server, and the private key never leaves this machine.
pub fn keygen(out: &Path, comment: Option<String>, force: bool, json: bool) -> CliResult {
    let comment = comment.unwrap_or_else(|| {
        std::fs::read_to_string("/etc/hostname")
            .map(|h| h.trim().to_owned())
            .unwrap_or_default()
    });
    let key = MachineKey::generate()?;
    let private = key.to_openssh(&comment)?;
    let public = key.public().to_openssh(&comment);
    let public_path = {
        let mut name = out.as_os_str().to_owned();
        name.push(".pub");
        std::path::PathBuf::from(name)
    };
    // Both files are checked before either is written, so a refusal leaves nothing behind.
    if !force
        && let Some(taken) = [out, public_path.as_path()]
            .into_iter()
            .find(|p| p.exists())
    {
        return Err(Failure::usage(format!(
            "{} exists; choose another --out, or add --force to replace it",
            taken.display()
        )));
    }
    write_new(out, private.as_bytes(), 0o600, force)?;
    write_new(&public_path, format!("{public}\n").as_bytes(), 0o644, force)?;
    if json {
        return output::json(&serde_json::json!({
            "private_key_file": out.display().to_string(),
            "public_key_file": public_path.display().to_string(),
            "public_key": public,
            "fingerprint": key.public().fingerprint(),
        }));
    }
    println!("{public}");
    eprintln!(
        "Wrote the private key to {} (mode 0600; it never leaves this machine) and the public \
         key to {}.\nRegister it with `strongroom machines register NAME --public-key {}`.",
        out.display(),
        public_path.display(),
        public_path.display()
    );
    Ok(())
}

/// A public key given as a file path or as the key line itself.
fn read_public_key(file_or_key: &str) -> CliResult<String> {
    if file_or_key.trim_start().starts_with("ssh-") {
        return Ok(file_or_key.to_owned());
    }
    let text = std::fs::read_to_string(file_or_key).map_err(|e| {
        Failure::usage(format!(
            "cannot read {file_or_key}: {e} (give a FILE.pub path or the `ssh-ed25519 AAAA…` line)"
        ))
    })?;
    if text.contains("PRIVATE KEY") {
        return Err(Failure::usage(format!(
            "{file_or_key} is a private key: register the public one ({file_or_key}.pub); \
             the private key must not leave the machine"
        )));
    }
    // Checked here too, so a typo is reported before anything is sent.
    MachinePublicKey::parse(&text)?;
    Ok(text.trim().to_owned())
}

fn print_machines(machines: Vec<MachineInfo>) {
    output::table(
        &["NAME", "STATUS", "FINGERPRINT", "EXPIRES", "REGISTERED BY"],
        machines
            .into_iter()
            .map(|m| {
                vec![
                    m.name,
                    m.status,
                    m.fingerprint,
                    m.expires_at.unwrap_or_else(|| "never".into()),
                    m.registered_by,
                ]
            })
            .collect(),
    );
}

fn environments(envs: &[String]) -> String {
    if envs.is_empty() {
        "every environment".into()
    } else {
        envs.join(", ")
    }
}

fn print_access(attachments: &[MachineAttachment], grants: &[MachineGrant]) {
    if attachments.is_empty() && grants.is_empty() {
        println!(
            "\nIt can read nothing yet: attach it with `strongroom machines attach NAME --project APP/PROJECT`."
        );
        return;
    }
    println!();
    output::table(
        &["ATTACHED TO", "ENVIRONMENTS", "VERBS", "BY"],
        attachments
            .iter()
            .map(|a| {
                vec![
                    a.project.clone(),
                    environments(&a.environments),
                    a.verbs.join(","),
                    a.attached_by.clone(),
                ]
            })
            .chain(grants.iter().map(|g| {
                vec![
                    g.path.clone(),
                    "(one secret)".into(),
                    g.verbs.join(","),
                    g.granted_by.clone(),
                ]
            }))
            .collect(),
    );
}

pub async fn machines(ctx: &Ctx, command: MachinesCommand) -> CliResult {
    if let MachinesCommand::Keygen {
        out,
        comment,
        force,
    } = command
    {
        return keygen(&out, comment, force, ctx.json);
    }
    let client = ctx.client()?;
    match command {
        MachinesCommand::Keygen { .. } => {}
        MachinesCommand::Register {
            name,
            public_key,
            expires,
        } => {
            let key = read_public_key(&public_key)?;
            let hours = expires.as_deref().map(parse_hours).transpose()?;
            let machine = client.register_machine(&name, &key, hours).await?;
            if ctx.json {
                return output::json(&machine);
            }
            println!(
                "Registered machine {} ({}). It can read nothing until it is attached to a project.",
                machine.name, machine.fingerprint
            );
        }
        MachinesCommand::List => {
            let machines = client.machines().await?;
            if ctx.json {
                return output::json(&machines);
            }
            print_machines(machines);
        }
        MachinesCommand::Show { name } => {
            let detail = client.machine(&name).await?;
            if ctx.json {
                return output::json(&detail);
            }
            println!("{}", detail.machine.public_key);
            print_machines(vec![detail.machine]);
            print_access(&detail.attachments, &detail.grants);
        }
        MachinesCommand::Attach {
            name,
            project,
            envs,
            verbs,
        } => {
            let attached = client
                .attach_machine(&name, &project, &envs, &verbs)
                .await?;
            if ctx.json {
                return output::json(&attached);
            }
            println!(
                "Attached machine {name} to {} ({}): it may {} there from its next request.",
                attached.project,
                environments(&attached.environments),
                attached.verbs.join(", ")
            );
        }
        MachinesCommand::Detach { name, project } => {
            client.detach_machine(&name, &project).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "detached": name, "project": project }));
            }
            println!("Detached machine {name} from {project}; its next request there is refused.");
        }
        MachinesCommand::Grant { name, path, verbs } => {
            let grant = client.grant_machine(&name, &path, &verbs).await?;
            if ctx.json {
                return output::json(&grant);
            }
            println!(
                "Granted {} to machine {name}: it may {} it.",
                grant.path,
                grant.verbs.join(", ")
            );
        }
        MachinesCommand::Revoke { name, path } => {
            client.revoke_machine_grant(&name, &path).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "revoked": path, "machine": name }));
            }
            println!("Took {path} back from machine {name}.");
        }
        MachinesCommand::Whoami => {
            let me = client.own_machine().await?;
            if ctx.json {
                return output::json(&me);
            }
            println!("Machine {} ({}) in vault {}.", me.name, me.id, me.vault);
            print_access(&me.attachments, &me.grants);
        }
        MachinesCommand::Approle {
            name,
            expires,
            token_ttl,
        } => {
            let request = strongroom_proto::IssueApproleRequest {
                expires_in_hours: expires.as_deref().map(parse_hours).transpose()?,
                token_ttl_minutes: token_ttl.as_deref().map(parse_minutes).transpose()?,
            };
            let issued = client.issue_approle(&name, &request).await?;
            if ctx.json {
                return output::json(&issued);
            }
            println!("role_id     {}", issued.role_id);
            println!("secret_id   {}", issued.secret_id.expose());
            println!(
                "\nThe secret id is shown only now; keep it like a password. {} logs in with \
                 both at POST /v1/auth/approle/login (for example `bao write auth/approle/login \
                 role_id=… secret_id=…`) and acts with a token good for {} minutes. Revoke it \
                 with `strongroom machines approle-revoke {} {}`.",
                issued.machine,
                issued.token_ttl_seconds / 60,
                issued.machine,
                issued.secret_id_accessor
            );
        }
        MachinesCommand::ApproleList { name } => {
            let listed = client.approle(&name).await?;
            if ctx.json {
                return output::json(&listed);
            }
            match &listed.role_id {
                Some(role) => println!("role_id {role}"),
                None => println!(
                    "No AppRole secret id issued yet: `strongroom machines approle {name}`."
                ),
            }
            let rows = listed
                .secret_ids
                .iter()
                .map(|s| {
                    vec![
                        s.id.clone(),
                        s.created_at.clone(),
                        s.created_by.clone(),
                        s.expires_at.clone().unwrap_or_else(|| "never".into()),
                        format!("{}m", s.token_ttl_seconds / 60),
                        s.revoked_at
                            .as_ref()
                            .map_or_else(|| "active".to_owned(), |at| format!("revoked {at}")),
                    ]
                })
                .collect::<Vec<_>>();
            if !rows.is_empty() {
                output::table(
                    &["ID", "ISSUED", "BY", "EXPIRES", "TOKEN TTL", "STATE"],
                    rows,
                );
            }
        }
        MachinesCommand::ApproleRevoke { name, id } => {
            client.revoke_approle(&name, &id).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "revoked": id }));
            }
            println!("Revoked secret id {id} of {name}, and every login token it gave out.");
        }
        MachinesCommand::Disable { name } => set_enabled(ctx, &client, &name, false).await?,
        MachinesCommand::Enable { name } => set_enabled(ctx, &client, &name, true).await?,
        MachinesCommand::Remove { name } => {
            client.remove_machine(&name).await?;
            if ctx.json {
                return output::json(&serde_json::json!({ "removed": name }));
            }
            println!("Removed machine {name}; its key is refused from now on.");
        }
    }
    Ok(())
}

async fn set_enabled(
    ctx: &Ctx,
    client: &strongroom_client::Client,
    name: &str,
    enable: bool,
) -> CliResult {
    let machine = client.set_machine_enabled(name, enable).await?;
    if ctx.json {
        return output::json(&machine);
    }
    println!(
        "Machine {} is {}{}.",
        machine.name,
        machine.status,
        if enable {
            ""
        } else {
            ": its next request is refused"
        }
    );
    Ok(())
}

/// `15m`, `1h`: a login token's lifetime in minutes.
fn parse_minutes(s: &str) -> CliResult<u32> {
    let bad = || {
        Failure::usage(format!(
            "--token-ttl {s:?}: use minutes or hours, like 15m or 1h"
        ))
    };
    let (number, unit) = s.split_at(s.len().saturating_sub(1));
    let n: u32 = number.parse().map_err(|_| bad())?;
    match unit {
        "m" => Ok(n),
        "h" => n.checked_mul(60).ok_or_else(bad),
        _ => Err(bad()),
    }
}
