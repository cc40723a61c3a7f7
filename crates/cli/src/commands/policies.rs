//! `strongroom policies`: conditions on a machine's or token's access, written from flags
//! or a JSON file, listed, shown and deleted; and `strongroom allowlist`, the vault's IP
//! allowlist.

use super::Ctx;
use super::org::parse_hours;
use crate::args::{AllowlistCommand, PoliciesCommand};
use crate::failure::{CliResult, Failure};
use crate::output;
use serde_json::{Map, Value, json};
use strongroom_proto::{CreatePolicyRequest, PolicyInfo};

const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// `mon-fri` or `mon,wed,fri` as a list of days.
fn days(text: &str) -> CliResult<Vec<String>> {
    let bad = || {
        Failure::usage(format!(
            "--days {text:?}: use a range like mon-fri, or a list like mon,wed,fri"
        ))
    };
    if let Some((from, to)) = text.split_once('-') {
        let index = |d: &str| DAYS.iter().position(|x| *x == d.trim()).ok_or_else(bad);
        let (from, to) = (index(from)?, index(to)?);
        let mut list = Vec::new();
        let mut day = from;
        loop {
            list.push(DAYS[day].to_owned());
            if day == to {
                return Ok(list);
            }
            day = (day + 1) % 7;
        }
    }
    text.split(',')
        .map(|d| {
            let d = d.trim();
            DAYS.contains(&d).then(|| d.to_owned()).ok_or_else(bad)
        })
        .collect()
}

/// A relative expiry (30d, 12h) as an RFC 3339 time; anything else is passed as given.
fn expiry(text: &str) -> CliResult<String> {
    if text.ends_with('h') || text.ends_with('d') {
        let hours = parse_hours(text)?;
        let at = jiff::Timestamp::now()
            .checked_add(jiff::SignedDuration::from_hours(i64::from(hours)))
            .map_err(|e| Failure::usage(format!("--expires {text:?}: {e}")))?;
        return Ok(at.to_string());
    }
    Ok(text.to_owned())
}

fn print_policies(policies: &[PolicyInfo]) {
    output::table(
        &["NAME", "BINDS", "IN", "CONDITIONS", "BY"],
        policies
            .iter()
            .map(|p| {
                vec![
                    p.name.clone(),
                    format!("{} {}", p.subject_kind, p.subject),
                    p.project.clone().unwrap_or_else(|| "everything".into()),
                    p.spec.to_string(),
                    p.created_by.clone(),
                ]
            })
            .collect(),
    );
}

pub async fn policies(ctx: &Ctx, command: PoliciesCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        PoliciesCommand::Create {
            name,
            machine,
            token,
            project,
            cidrs,
            envs,
            expires,
            days: window_days,
            hours,
            time_zone,
            reads_per_minute,
            reads_per_day,
            max_reads,
            from_file,
        } => {
            let spec = match from_file {
                Some(file) => {
                    let text = std::fs::read_to_string(&file).map_err(|e| {
                        Failure::usage(format!("cannot read {}: {e}", file.display()))
                    })?;
                    serde_json::from_str(&text).map_err(|e| {
                        Failure::usage(format!("{} is not JSON: {e}", file.display()))
                    })?
                }
                None => {
                    let mut spec = Map::new();
                    if !cidrs.is_empty() {
                        spec.insert("cidrs".into(), json!(cidrs));
                    }
                    if !envs.is_empty() {
                        spec.insert("environments".into(), json!(envs));
                    }
                    if let Some(text) = expires {
                        spec.insert("expires_at".into(), json!(expiry(&text)?));
                    }
                    if let (Some(hours), Some(zone)) = (hours, time_zone) {
                        let (from, to) = hours.split_once('-').ok_or_else(|| {
                            Failure::usage(format!(
                                "--hours {hours:?}: use a range like 09:00-17:00"
                            ))
                        })?;
                        let listed = match window_days {
                            Some(text) => days(&text)?,
                            None => DAYS.iter().map(|d| (*d).to_owned()).collect(),
                        };
                        spec.insert(
                            "window".into(),
                            json!({"days": listed, "from": from, "to": to, "time_zone": zone}),
                        );
                    }
                    for (field, value) in [
                        ("reads_per_minute", reads_per_minute),
                        ("reads_per_day", reads_per_day),
                        ("max_reads", max_reads),
                    ] {
                        if let Some(v) = value {
                            spec.insert(field.into(), json!(v));
                        }
                    }
                    if spec.is_empty() {
                        return Err(Failure::usage(
                            "a policy needs at least one condition: --cidr, --env, --expires, \
                             --hours, --reads-per-minute, --reads-per-day or --max-reads",
                        ));
                    }
                    Value::Object(spec)
                }
            };
            let created = client
                .create_policy(&CreatePolicyRequest {
                    name,
                    machine,
                    token,
                    project,
                    spec,
                })
                .await?;
            if ctx.json {
                return output::json(&created);
            }
            println!(
                "Policy {} binds {} {} in {} from its next request: {}",
                created.name,
                created.subject_kind,
                created.subject,
                created.project.as_deref().unwrap_or("everything"),
                created.spec
            );
        }
        PoliciesCommand::List => {
            let policies = client.policies().await?;
            if ctx.json {
                return output::json(&policies);
            }
            print_policies(&policies);
        }
        PoliciesCommand::Show { name } => {
            let policy = client.policy(&name).await?;
            if ctx.json {
                return output::json(&policy);
            }
            print_policies(std::slice::from_ref(&policy));
        }
        PoliciesCommand::Delete { name } => {
            client.delete_policy(&name).await?;
            if ctx.json {
                return output::json(&json!({ "deleted": name }));
            }
            println!("Deleted policy {name}; it no longer binds from the next request.");
        }
    }
    Ok(())
}

pub async fn allowlist(ctx: &Ctx, command: AllowlistCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        AllowlistCommand::Add { cidr, note } => {
            client.allow_range(&cidr, &note).await?;
            if ctx.json {
                return output::json(&json!({ "added": cidr }));
            }
            println!(
                "Added {cidr}: requests in this vault must now come from a range on the allowlist."
            );
        }
        AllowlistCommand::List => {
            let ranges = client.allowlist().await?;
            if ctx.json {
                return output::json(&ranges);
            }
            if ranges.is_empty() {
                println!("The allowlist is empty: every address is admitted.");
                return Ok(());
            }
            output::table(
                &["RANGE", "NOTE", "ADDED BY", "ADDED"],
                ranges
                    .into_iter()
                    .map(|r| vec![r.cidr, r.note, r.added_by, r.created_at])
                    .collect(),
            );
        }
        AllowlistCommand::Remove { cidr } => {
            client.disallow_range(&cidr).await?;
            if ctx.json {
                return output::json(&json!({ "removed": cidr }));
            }
            println!("Removed {cidr} from the allowlist.");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn day_ranges_and_lists_become_day_names() {
        assert_eq!(days("mon-fri").ok().map(|d| d.len()), Some(5));
        assert_eq!(
            days("fri-mon").ok(),
            Some(vec!["fri".into(), "sat".into(), "sun".into(), "mon".into()])
        );
        assert_eq!(days("mon,wed").ok(), Some(vec!["mon".into(), "wed".into()]));
        assert!(days("someday").is_err());
    }
}
