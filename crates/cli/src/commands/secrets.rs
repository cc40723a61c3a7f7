//! Secrets, and the environment-wide `run`, `export` and `import`.

use super::{Ctx, parse_arg};
use crate::args::{ExportArgs, FileFormat, ImportArgs, RunArgs, SecretsCommand, SetArgs};
use crate::failure::{CliResult, Failure, exit};
use crate::output;
use std::collections::BTreeMap;
use std::io::{IsTerminal as _, Read as _, Write as _};
use strongroom_core::dotenv;
use strongroom_core::names::{EnvironmentPath, SecretPath};
use strongroom_proto::{SecretWriteRequest, Sensitive};

fn read_value(args: &SetArgs) -> CliResult<String> {
    let bytes = match &args.value_file {
        Some(path) => std::fs::read(path).map_err(|e| {
            Failure::new(exit::ERROR, format!("cannot read {}: {e}", path.display()))
        })?,
        None => {
            let mut bytes = Vec::new();
            std::io::stdin().read_to_end(&mut bytes)?;
            if bytes.ends_with(b"\r\n") {
                bytes.truncate(bytes.len() - 2);
            } else if bytes.ends_with(b"\n") {
                bytes.truncate(bytes.len() - 1);
            }
            bytes
        }
    };
    String::from_utf8(bytes).map_err(|_| Failure::usage("secret values must be UTF-8 text"))
}

pub async fn secrets(ctx: &Ctx, command: SecretsCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        SecretsCommand::Set(args) => {
            parse_arg::<SecretPath>(&args.path)?;
            let value = read_value(&args)?;
            let written = client
                .put_secret(
                    &args.path,
                    &SecretWriteRequest {
                        value: Sensitive::new(value),
                        secret_type: args.secret_type.clone(),
                        note: args.note.clone(),
                        tags: (!args.tags.is_empty()).then(|| args.tags.clone()),
                        expected_version: args.expected_version,
                    },
                )
                .await?;
            if ctx.json {
                return output::json(&written);
            }
            println!("Wrote {} version {}.", written.path, written.version);
        }
        SecretsCommand::Get { path, version } => {
            parse_arg::<SecretPath>(&path)?;
            let revealed = client.reveal(&path, version).await?;
            if ctx.json {
                return output::json(&revealed);
            }
            let mut stdout = std::io::stdout().lock();
            stdout.write_all(revealed.value.expose().as_bytes())?;
            if stdout.is_terminal() {
                stdout.write_all(b"\n")?;
            }
            stdout.flush()?;
        }
        SecretsCommand::Show { path } => {
            parse_arg::<SecretPath>(&path)?;
            let meta = client.secret(&path).await?;
            if ctx.json {
                return output::json(&meta);
            }
            println!("{}", meta.path);
            println!("  type     {}", meta.secret_type);
            println!("  version  {}", meta.version);
            println!("  updated  {}", meta.updated_at);
            println!("  created  {}", meta.created_at);
            println!("  tags     {}", meta.tags.join(", "));
            println!("  note     {}", meta.note);
        }
        SecretsCommand::List { env } => {
            parse_arg::<EnvironmentPath>(&env)?;
            let secrets = client.secrets(&env).await?;
            if ctx.json {
                return output::json(&secrets);
            }
            output::table(
                &["NAME", "TYPE", "VERSION", "UPDATED", "TAGS"],
                secrets
                    .into_iter()
                    .map(|s| {
                        vec![
                            s.name,
                            s.secret_type,
                            s.version.to_string(),
                            s.updated_at,
                            s.tags.join(","),
                        ]
                    })
                    .collect(),
            );
        }
        SecretsCommand::SetUse {
            path,
            destination,
            header,
            format,
        } => {
            parse_arg::<SecretPath>(&path)?;
            let meta = client
                .set_secret_use(
                    &path,
                    &strongroom_proto::SetUseRequest {
                        destination,
                        header,
                        format,
                    },
                )
                .await?;
            if ctx.json {
                return output::json(&meta);
            }
            println!(
                "{path} may now be used with {} (in {}), through `strongroom broker` or POST /api/v1/use.",
                meta.use_destination.unwrap_or_default(),
                meta.use_header.unwrap_or_default()
            );
        }
        SecretsCommand::ClearUse { path } => {
            parse_arg::<SecretPath>(&path)?;
            let meta = client.clear_secret_use(&path).await?;
            if ctx.json {
                return output::json(&meta);
            }
            println!("{path} can no longer be used through the broker.");
        }
        SecretsCommand::History { path } => {
            parse_arg::<SecretPath>(&path)?;
            let versions = client.versions(&path).await?;
            if ctx.json {
                return output::json(&versions);
            }
            output::table(
                &["VERSION", "TYPE", "WRITTEN", "BY", "STATE", "NOTE"],
                versions
                    .into_iter()
                    .map(|v| {
                        let note = match v.rolled_back_from {
                            Some(from) => format!("rollback to {from}"),
                            None => v.note,
                        };
                        let state = match (&v.destroyed_at, &v.deleted_at) {
                            (Some(at), _) => format!("destroyed {at}"),
                            (None, Some(at)) => format!("deleted {at}"),
                            (None, None) => "live".to_owned(),
                        };
                        vec![
                            v.version.to_string(),
                            v.secret_type,
                            v.created_at,
                            v.created_by.unwrap_or_default(),
                            state,
                            note,
                        ]
                    })
                    .collect(),
            );
        }
        SecretsCommand::DeleteVersion { path, versions } => {
            change_versions(ctx, &client, &path, "delete", &versions).await?;
        }
        SecretsCommand::Undelete { path, versions } => {
            change_versions(ctx, &client, &path, "undelete", &versions).await?;
        }
        SecretsCommand::Destroy { path, versions } => {
            change_versions(ctx, &client, &path, "destroy", &versions).await?;
        }
        SecretsCommand::Rollback { path, to } => {
            parse_arg::<SecretPath>(&path)?;
            let written = client.rollback(&path, to).await?;
            if ctx.json {
                return output::json(&written);
            }
            println!(
                "Rolled {} back to version {to}: it is now version {}.",
                written.path, written.version
            );
        }
        SecretsCommand::Delete { path } => {
            parse_arg::<SecretPath>(&path)?;
            client.delete_secret(&path).await?;
            done(
                ctx,
                "trashed",
                &path,
                &format!("Moved {path} to the trash (undo: strongroom secrets restore {path})."),
            )?;
        }
        SecretsCommand::Restore { path } => {
            parse_arg::<SecretPath>(&path)?;
            client.restore_secret(&path).await?;
            done(ctx, "restored", &path, &format!("Restored {path}."))?;
        }
        SecretsCommand::Purge { path } => {
            parse_arg::<SecretPath>(&path)?;
            client.purge_secret(&path).await?;
            done(
                ctx,
                "purged",
                &path,
                &format!("Destroyed {path} and all its versions."),
            )?;
        }
        SecretsCommand::Trash => {
            let trash = client.trash().await?;
            if ctx.json {
                return output::json(&trash);
            }
            output::table(
                &["PATH", "VERSION", "DELETED", "BY"],
                trash
                    .into_iter()
                    .map(|t| {
                        vec![
                            t.path,
                            t.version.to_string(),
                            t.deleted_at,
                            t.deleted_by.unwrap_or_default(),
                        ]
                    })
                    .collect(),
            );
        }
    }
    Ok(())
}

fn done(ctx: &Ctx, what: &str, path: &str, message: &str) -> CliResult {
    if ctx.json {
        return output::json(&serde_json::json!({ what: path }));
    }
    println!("{message}");
    Ok(())
}

fn is_env_var_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

async fn values(ctx: &Ctx, env: &str) -> CliResult<Vec<(String, Sensitive)>> {
    parse_arg::<EnvironmentPath>(env)?;
    let values = ctx.client()?.environment_values(env).await?;
    Ok(values
        .secrets
        .into_iter()
        .map(|s| (s.name, s.value))
        .collect())
}

pub async fn run(ctx: &Ctx, args: RunArgs) -> CliResult {
    let values = values(ctx, &args.env).await?;
    let unusable: Vec<&str> = values
        .iter()
        .filter(|(name, value)| !is_env_var_name(name) || value.expose().contains('\0'))
        .map(|(name, _)| name.as_str())
        .collect();
    if !unusable.is_empty() {
        return Err(Failure::new(
            exit::ERROR,
            format!(
                "cannot pass these secrets as environment variables (the name must be letters, digits \
                 and '_', not starting with a digit, and the value must not contain NUL): {}",
                unusable.join(", ")
            ),
        )
        .with_hint("rename them, or read them with `strongroom export --format json`"));
    }
    let (program, rest) = args
        .command
        .split_first()
        .ok_or_else(|| Failure::usage("give a command to run after --"))?;
    let mut command = std::process::Command::new(program);
    command.args(rest);
    for (name, value) in &values {
        command.env(name, value.expose());
    }
    use std::os::unix::process::CommandExt as _;
    let error = command.exec();
    Err(Failure::new(
        exit::ERROR,
        format!("cannot run {program}: {error}"),
    ))
}

pub async fn export(ctx: &Ctx, args: ExportArgs) -> CliResult {
    let values = values(ctx, &args.env).await?;
    let mut stdout = std::io::stdout().lock();
    match args.format {
        FileFormat::Dotenv => {
            for (name, value) in &values {
                writeln!(stdout, "{}", dotenv::render_line(name, value.expose()))?;
            }
        }
        FileFormat::Json => {
            let map: BTreeMap<&str, &str> = values
                .iter()
                .map(|(n, v)| (n.as_str(), v.expose()))
                .collect();
            let text = serde_json::to_string_pretty(&map)
                .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
            writeln!(stdout, "{text}")?;
        }
    }
    stdout.flush()?;
    Ok(())
}

pub async fn import(ctx: &Ctx, args: ImportArgs) -> CliResult {
    parse_arg::<EnvironmentPath>(&args.env)?;
    let text = if args.file.as_os_str() == "-" {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        text
    } else {
        std::fs::read_to_string(&args.file).map_err(|e| {
            Failure::new(
                exit::ERROR,
                format!("cannot read {}: {e}", args.file.display()),
            )
        })?
    };
    let entries: BTreeMap<String, String> = match args.format {
        FileFormat::Dotenv => dotenv::parse(&text)
            .map_err(|e| Failure::usage(format!("{}: {e}", args.file.display())))?,
        FileFormat::Json => {
            let value: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
                Failure::usage(format!("{}: not valid JSON: {e}", args.file.display()))
            })?;
            let object = value.as_object().ok_or_else(|| {
                Failure::usage("the JSON file must be an object of names to string values")
            })?;
            object
                .iter()
                .map(|(k, v)| {
                    v.as_str()
                        .map(|s| (k.clone(), s.to_owned()))
                        .ok_or_else(|| Failure::usage(format!("the value of {k} must be a string")))
                })
                .collect::<CliResult<_>>()?
        }
    };
    let count = entries.len();
    let secrets = entries
        .into_iter()
        .map(|(k, v)| (k, Sensitive::new(v)))
        .collect();
    let result = ctx.client()?.import(&args.env, secrets).await?;
    if ctx.json {
        return output::json(&result);
    }
    println!(
        "Imported {count} keys into {}: {} created, {} updated, {} unchanged.",
        args.env,
        result.created.len(),
        result.updated.len(),
        result.unchanged.len()
    );
    for name in &result.created {
        println!("  + {name}");
    }
    for name in &result.updated {
        println!("  ~ {name}");
    }
    Ok(())
}

/// Deletes, undeletes or destroys versions, and says which changed.
async fn change_versions(
    ctx: &Ctx,
    client: &strongroom_client::Client,
    path: &str,
    change: &str,
    versions: &[i64],
) -> CliResult {
    parse_arg::<SecretPath>(path)?;
    let changed = client.change_versions(path, change, versions).await?;
    if ctx.json {
        return output::json(&changed);
    }
    let done = match change {
        "delete" => "Deleted",
        "undelete" => "Undeleted",
        _ => "Destroyed",
    };
    if changed.changed.is_empty() {
        println!(
            "Nothing changed: those versions of {path} are already {change}d, destroyed or \
             do not exist (`strongroom secrets history {path}`)."
        );
    } else {
        let list = changed
            .changed
            .iter()
            .map(i64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        println!("{done} version(s) {list} of {path}.");
    }
    Ok(())
}
