//! Reading the audit log: filters, newest (or oldest) first, paged by entry number. Members with
//! View own see only their own entries, whatever they ask for; View others shows every
//! actor in the vault, machines and agents included. Each filter narrows one indexed
//! column (see migration 0013), so a page stays fast however long the log grows.

use crate::Store;
use crate::db::{Arg, Dialect, q_built};
use crate::model::Page;
use strongroom_core::Error;
use strongroom_core::audit::{ActorKind, Outcome, Severity};
use strongroom_core::authz::Authorized;

/// What to look for. Every filter is optional; they combine with "and".
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    /// The actor's username, machine name or token name as the entry recorded it.
    pub actor: Option<String>,
    /// The kind of actor.
    pub actor_kind: Option<ActorKind>,
    /// An action (`secret.reveal`), or every action of a family (`secret.*`).
    pub action: Option<String>,
    /// Targets starting with this (a path prefix: `payments/api/`).
    pub target_prefix: Option<String>,
    /// This severity or higher.
    pub min_severity: Option<Severity>,
    /// The outcome.
    pub outcome: Option<Outcome>,
    /// At or after this time (ms since the epoch).
    pub since: Option<i64>,
    /// Before this time (ms since the epoch).
    pub until: Option<i64>,
    /// Oldest first instead of newest first (for exports).
    pub oldest_first: bool,
    /// Only entries past this number in the list's order (the previous page's cursor).
    pub past_seq: Option<i64>,
    /// At most this many entries.
    pub limit: u32,
}

/// One entry as the log shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEvent {
    /// Its number in the vault's chain, from 1.
    pub seq: i64,
    /// When (ms since the epoch).
    pub at: i64,
    /// Member, machine, agent, token, system or external.
    pub actor_kind: String,
    /// The actor's id.
    pub actor_id: String,
    /// The actor's name when they acted.
    pub actor_name: String,
    /// What was done.
    pub action: String,
    /// To what.
    pub target: String,
    /// Allowed, denied or error.
    pub outcome: String,
    /// Info, notice, warning or critical.
    pub severity: String,
    /// The client's address.
    pub ip: String,
    /// The client's user agent.
    pub user_agent: String,
    /// The request id.
    pub request_id: String,
    /// A refusal's reason, a brokered call, …
    pub detail: String,
}

/// The highest code point, for the upper end of a prefix range.
const PAST_ANY_SUFFIX: char = '\u{10FFFF}';

/// A `WHERE` clause built one condition at a time, values always bound.
struct Conditions {
    sql: Vec<String>,
    args: Vec<Arg>,
    /// PostgreSQL compares text by locale unless told to compare bytes, as SQLite does.
    bytewise: &'static str,
}

impl Conditions {
    fn new(dialect: Dialect) -> Self {
        Self {
            sql: Vec::new(),
            args: Vec::new(),
            bytewise: match dialect {
                Dialect::Sqlite => "",
                Dialect::Postgres => " COLLATE \"C\"",
            },
        }
    }

    fn next(&self) -> usize {
        self.args.len() + 1
    }

    fn equals(&mut self, column: &str, value: impl Into<Arg>) {
        self.sql.push(format!("{column} = ${}", self.next()));
        self.args.push(value.into());
    }

    fn compare(&mut self, column: &str, op: &str, value: i64) {
        self.sql.push(format!("{column} {op} ${}", self.next()));
        self.args.push(value.into());
    }

    /// `seq OP` the number of the first entry at or after `time`: entries' times never
    /// go back along the chain, so this turns a time bound into a range of the entry
    /// index (found with one seek in the time index). `$1` is the vault.
    fn seq_from_time(&mut self, op: &str, time: i64) {
        self.sql.push(format!(
            "seq {op} COALESCE((SELECT t.seq FROM audit_events t WHERE t.vault_id = $1 \
             AND t.at >= ${} ORDER BY t.at, t.seq LIMIT 1), {})",
            self.next(),
            i64::MAX
        ));
        self.args.push(time.into());
    }

    fn starts_with(&mut self, column: &str, prefix: &str) {
        let (low, high) = (self.next(), self.next() + 1);
        let c = self.bytewise;
        self.sql
            .push(format!("{column}{c} >= ${low} AND {column}{c} < ${high}"));
        self.args.push(prefix.to_owned().into());
        self.args.push(format!("{prefix}{PAST_ANY_SUFFIX}").into());
    }

    fn one_of(&mut self, column: &str, values: &[&'static str]) {
        let start = self.next();
        let marks: Vec<String> = (start..start + values.len())
            .map(|n| format!("${n}"))
            .collect();
        self.sql.push(format!("{column} IN ({})", marks.join(", ")));
        self.args.extend(values.iter().map(|v| Arg::from(*v)));
    }
}

impl Store {
    /// A page of the vault's audit log, newest first.
    pub async fn audit_entries(
        &self,
        authorized: &Authorized,
        query: &AuditQuery,
    ) -> Result<Page<AuditEvent>, Error> {
        let vault = authorized.vault()?;
        let mut at = Conditions::new(self.db.dialect());
        at.equals("vault_id", vault.as_str());
        at.compare("seq", ">", 0);
        if !authorized.sees_all_audit_entries() {
            at.equals("actor_id", authorized.actor()?.as_str());
        }
        if let Some(actor) = &query.actor {
            at.equals("actor_name", actor.as_str());
        }
        if let Some(kind) = query.actor_kind {
            at.equals("actor_kind", kind.as_str());
        }
        match query.action.as_deref().map(|a| (a, a.strip_suffix('*'))) {
            Some((_, Some(family))) => at.starts_with("action", family),
            Some((action, None)) => at.equals("action", action),
            None => {}
        }
        if let Some(prefix) = &query.target_prefix {
            at.starts_with("target", prefix);
        }
        if let Some(min) = query.min_severity {
            let names: Vec<&'static str> = Severity::ALL
                .iter()
                .filter(|s| **s >= min)
                .map(|s| s.as_str())
                .collect();
            at.one_of("severity", &names);
        }
        if let Some(outcome) = query.outcome {
            at.equals("outcome", outcome.as_str());
        }
        if let Some(since) = query.since {
            at.compare("at", ">=", since);
            at.seq_from_time(">=", since);
        }
        if let Some(until) = query.until {
            at.compare("at", "<", until);
            at.seq_from_time("<", until);
        }
        let (past, order) = if query.oldest_first {
            (">", "ASC")
        } else {
            ("<", "DESC")
        };
        if let Some(seq) = query.past_seq {
            at.compare("seq", past, seq);
        }
        let limit_mark = at.next();
        let sql = format!(
            "SELECT seq, at, actor_kind, actor_id, actor_name, action, target, outcome, \
             severity, ip, user_agent, request_id, detail FROM audit_events WHERE {} \
             ORDER BY seq {order} LIMIT ${limit_mark}",
            at.sql.join(" AND ")
        );
        let mut statement = q_built(sql);
        for arg in at.args {
            statement = statement.bind(arg);
        }
        let rows = self
            .db
            .all(statement.bind(i64::from(query.limit) + 1))
            .await?;
        let items = rows.iter().map(event_of).collect::<Result<Vec<_>, _>>()?;
        Ok(crate::paginate(items, query.limit, |e| e.seq.to_string()))
    }
}

/// An entry from a row holding its columns.
pub(crate) fn event_of(row: &crate::db::Row) -> Result<AuditEvent, Error> {
    Ok(AuditEvent {
        seq: row.i64("seq")?,
        at: row.i64("at")?,
        actor_kind: row.text("actor_kind")?,
        actor_id: row.text("actor_id")?,
        actor_name: row.text("actor_name")?,
        action: row.text("action")?,
        target: row.text("target")?,
        outcome: row.text("outcome")?,
        severity: row.text("severity")?,
        ip: row.text("ip")?,
        user_agent: row.text("user_agent")?,
        request_id: row.text("request_id")?,
        detail: row.text("detail")?,
    })
}
