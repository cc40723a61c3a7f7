//! `strongroom audit`: list, export and verify the vault's audit log; and `strongroom
//! alerts`, the rules that send chosen entries to webhooks and email.

use super::Ctx;
use crate::args::{AlertsCommand, AuditCommand, AuditFilterArgs};
use crate::failure::{CliResult, Failure, exit};
use crate::output;
use serde_json::json;
use std::io::Write as _;
use strongroom_client::AuditFilter;
use strongroom_proto::{AlertInfo, AuditEntryInfo, CreateAlertRequest};

/// Entries fetched per request while exporting.
const EXPORT_PAGE: u32 = 1000;

pub async fn run(ctx: &Ctx, command: AuditCommand) -> CliResult {
    match command {
        AuditCommand::List { filter, limit } => list(ctx, &filter, limit).await,
        AuditCommand::Export { format, filter } => export(ctx, &format, &filter).await,
        AuditCommand::Verify => verify(ctx).await,
    }
}

async fn list(ctx: &Ctx, args: &AuditFilterArgs, limit: u32) -> CliResult {
    if !(1..=1000).contains(&limit) {
        return Err(Failure::usage("--limit must be between 1 and 1000"));
    }
    let filter = filter(args, false)?;
    let page = ctx.client()?.audit_page(&filter, limit, None).await?;
    if ctx.json {
        return output::json(&page.items);
    }
    if page.items.is_empty() {
        println!("No audit entries match.");
        return Ok(());
    }
    output::table(
        &[
            "#", "AT", "ACTOR", "ACTION", "TARGET", "OUTCOME", "SEVERITY", "IP",
        ],
        page.items
            .iter()
            .map(|e| {
                vec![
                    e.seq.to_string(),
                    e.at.clone(),
                    format!("{} ({})", e.actor_name, e.actor_kind),
                    e.action.clone(),
                    e.target.clone(),
                    match e.detail.as_str() {
                        "" => e.outcome.clone(),
                        detail => format!("{}: {detail}", e.outcome),
                    },
                    e.severity.clone(),
                    e.ip.clone(),
                ]
            })
            .collect(),
    );
    if page.next_cursor.is_some() {
        eprintln!("(more entries: raise --limit, narrow the filters, or use `audit export`)");
    }
    Ok(())
}

enum Format {
    JsonLines,
    Csv,
}

const CSV_HEADER: &str = "seq,at,actor_kind,actor_id,actor_name,action,target,outcome,\
                          severity,ip,user_agent,request_id,detail";

async fn export(ctx: &Ctx, format: &str, args: &AuditFilterArgs) -> CliResult {
    let format = match format {
        "jsonl" => Format::JsonLines,
        "csv" => Format::Csv,
        other => {
            return Err(Failure::usage(format!(
                "--format {other:?}: use jsonl or csv"
            )));
        }
    };
    let filter = filter(args, true)?;
    let client = ctx.client()?;
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let io = |e: std::io::Error| Failure::new(exit::ERROR, format!("cannot write: {e}"));
    if let Format::Csv = format {
        writeln!(out, "{CSV_HEADER}").map_err(io)?;
    }
    let mut cursor: Option<String> = None;
    let mut written = 0_u64;
    loop {
        let page = client
            .audit_page(&filter, EXPORT_PAGE, cursor.as_deref())
            .await?;
        for entry in &page.items {
            match format {
                Format::JsonLines => {
                    let line = serde_json::to_string(entry)
                        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
                    writeln!(out, "{line}").map_err(io)?;
                }
                Format::Csv => writeln!(out, "{}", csv_row(entry)).map_err(io)?,
            }
        }
        written += page.items.len() as u64;
        if written > 0 && written % 10_000 < u64::from(EXPORT_PAGE) {
            eprintln!("exported {written} entries…");
        }
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    out.flush().map_err(io)?;
    eprintln!("Exported {written} entries, oldest first.");
    Ok(())
}

async fn verify(ctx: &Ctx) -> CliResult {
    let report = ctx.client()?.verify_audit().await?;
    if ctx.json {
        output::json(&report)?;
    } else if let Some(broken) = &report.broken {
        println!(
            "The audit chain is broken at entry #{} ({}): {}",
            broken.seq, broken.kind, broken.message
        );
        println!(
            "{} entries before it hold. Compare with an exported or streamed copy of the log \
             to see what was there.",
            report.verified
        );
    } else {
        println!(
            "The audit chain holds: {} entries, from #1 to #{}.",
            report.verified, report.head_seq
        );
    }
    if report.broken.is_some() {
        return Err(Failure::silent(exit::TAMPERED));
    }
    Ok(())
}

pub async fn alerts(ctx: &Ctx, command: AlertsCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        AlertsCommand::Create {
            name,
            webhook,
            email,
            actions,
            severity,
            outcome,
            target,
            actor_kind,
        } => {
            let created = client
                .create_alert(&CreateAlertRequest {
                    name,
                    webhook,
                    email,
                    actions,
                    severity,
                    outcome,
                    target,
                    actor_kind,
                })
                .await?;
            if ctx.json {
                return output::json(&created);
            }
            println!(
                "Alert '{}' sends matching entries to {}.",
                created.alert.name, created.alert.destination
            );
            if let Some(secret) = &created.signing_secret {
                println!(
                    "Signing secret (shown once; keep it with the receiver): {}",
                    secret.expose()
                );
                println!(
                    "Each POST carries X-Strongroom-Signature: t=UNIX,v1=HEX, the HMAC-SHA256 of \
                     \"{{t}}.{{body}}\" under this secret, and X-Strongroom-Delivery, the same on \
                     every retry. Try it: strongroom alerts test {}",
                    created.alert.name
                );
            }
        }
        AlertsCommand::List => {
            let rules = client.alerts().await?;
            if ctx.json {
                return output::json(&rules);
            }
            if rules.is_empty() {
                println!(
                    "No alert rules. Create one with `strongroom alerts create NAME --webhook URL`."
                );
                return Ok(());
            }
            output::table(
                &["NAME", "SENDS TO", "WHEN", "BY"],
                rules
                    .iter()
                    .map(|r| {
                        vec![
                            r.name.clone(),
                            format!("{} {}", r.channel, r.destination),
                            conditions(r),
                            r.created_by.clone(),
                        ]
                    })
                    .collect(),
            );
        }
        AlertsCommand::Delete { name } => {
            client.delete_alert(&name).await?;
            if ctx.json {
                return output::json(&json!({ "deleted": name }));
            }
            println!("Deleted alert '{name}'.");
        }
        AlertsCommand::Test { name } => {
            let result = client.test_alert(&name).await?;
            if ctx.json {
                output::json(&result)?;
            } else if result.delivered {
                println!("Test alert {} delivered.", result.delivery_id);
            } else {
                println!(
                    "Test alert {} was not delivered: {}",
                    result.delivery_id, result.detail
                );
            }
            if !result.delivered {
                return Err(Failure::silent(exit::ERROR));
            }
        }
    }
    Ok(())
}

/// A rule's conditions in a few words.
fn conditions(rule: &AlertInfo) -> String {
    let mut parts = Vec::new();
    if !rule.actions.is_empty() {
        parts.push(rule.actions.join(" or "));
    }
    if let Some(s) = &rule.severity {
        parts.push(format!("{s}+"));
    }
    if let Some(o) = &rule.outcome {
        parts.push(o.clone());
    }
    if let Some(t) = &rule.target {
        parts.push(format!("under {t}"));
    }
    if let Some(k) = &rule.actor_kind {
        parts.push(format!("by a {k}"));
    }
    if parts.is_empty() {
        "every entry".into()
    } else {
        parts.join(", ")
    }
}

/// The filters as the server takes them, with spans back from now made into times.
fn filter(args: &AuditFilterArgs, oldest_first: bool) -> CliResult<AuditFilter> {
    Ok(AuditFilter {
        actor: args.actor.clone(),
        actor_kind: args.actor_kind.clone(),
        action: args.action.clone(),
        target: args.target.clone(),
        severity: args.severity.clone(),
        outcome: args.outcome.clone(),
        since: args
            .since
            .as_deref()
            .map(|t| time("--since", t))
            .transpose()?,
        until: args
            .until
            .as_deref()
            .map(|t| time("--until", t))
            .transpose()?,
        oldest_first,
    })
}

/// `30m`, `24h`, `7d` back from now, as an RFC 3339 time; anything else as given.
fn time(flag: &str, text: &str) -> CliResult<String> {
    let unit_secs = match text.chars().last() {
        Some('m') => 60,
        Some('h') => 3600,
        Some('d') => 86_400,
        _ => return Ok(text.to_owned()),
    };
    let bad = || {
        Failure::usage(format!(
            "{flag} {text:?}: use a time (RFC 3339) or 30m, 24h, 7d"
        ))
    };
    let count: i64 = text[..text.len() - 1].parse().map_err(|_| bad())?;
    let span = jiff::SignedDuration::from_secs(count.checked_mul(unit_secs).ok_or_else(bad)?);
    let at = jiff::Timestamp::now()
        .checked_sub(span)
        .map_err(|_| bad())?;
    Ok(at.to_string())
}

/// One CSV record (RFC 4180). A field a spreadsheet would run as a formula (it starts
/// with `=`, `+`, `-`, `@`, a tab or a carriage return) gets a leading `'`, since user
/// agents and names come from whoever sent the request.
fn csv_row(e: &AuditEntryInfo) -> String {
    let seq = e.seq.to_string();
    [
        seq.as_str(),
        &e.at,
        &e.actor_kind,
        &e.actor_id,
        &e.actor_name,
        &e.action,
        &e.target,
        &e.outcome,
        &e.severity,
        &e.ip,
        &e.user_agent,
        &e.request_id,
        &e.detail,
    ]
    .iter()
    .map(|field| csv_field(field))
    .collect::<Vec<_>>()
    .join(",")
}

fn csv_field(field: &str) -> String {
    let defused = if field.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{field}")
    } else {
        field.to_owned()
    };
    if defused.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", defused.replace('"', "\"\""))
    } else {
        defused
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_with_separators_or_quotes_are_quoted() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
        assert_eq!(csv_field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_field("two\nlines"), "\"two\nlines\"");
    }

    #[test]
    fn csv_fields_a_spreadsheet_would_run_are_defused() {
        assert_eq!(csv_field("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_field("+1"), "'+1");
        assert_eq!(csv_field("@sum"), "'@sum");
    }

    #[test]
    fn spans_back_from_now_become_times_and_times_pass_through() {
        assert_eq!(
            time("--since", "2026-12-01T09:00:00Z").ok().as_deref(),
            Some("2026-12-01T09:00:00Z")
        );
        let day_ago: jiff::Timestamp = time("--since", "1d")
            .ok()
            .and_then(|t| t.parse().ok())
            .unwrap_or_default();
        let expected = jiff::Timestamp::now() - jiff::SignedDuration::from_hours(24);
        assert!((day_ago.as_second() - expected.as_second()).abs() <= 5);
        assert!(time("--since", "xd").is_err());
    }
}
