//! The journal: every plaintext a member or machine sees is recorded (and counted against
//! a member's hourly reveal limit and a policy's caps) before it leaves the server, and
//! so is every read and refusal the server's audit layer records. Recording each in a
//! transaction of its own would make every read a commit; instead one task drains the
//! queue and commits whatever is waiting in one transaction, then answers each request.
//! A request whose record did not commit gets an error, never its answer.

use crate::audit::{AuditActor, AuditEntry, actor_named};
use crate::db::{Db, Tx, q};
use crate::model::Origin;
use crate::now_ms;
use std::collections::HashMap;
use strongroom_core::audit::{Outcome, Severity};
use strongroom_core::authz::Actor;
use strongroom_core::policy::ReadCaps;
use strongroom_core::{Error, ErrorCode};
use tokio::sync::{mpsc, oneshot};

/// The hourly window reveals are counted in.
const HOUR_MS: i64 = 3_600_000;
/// The windows of policy rate caps.
const MINUTE_MS: i64 = 60_000;
const DAY_MS: i64 = 86_400_000;
/// Most records committed together.
const MAX_BATCH: usize = 512;

/// One member's reveal of one or more values.
#[derive(Debug, Clone)]
pub(crate) struct RevealRecord {
    /// The vault.
    pub vault: String,
    /// Who saw the values: a member, or a machine.
    pub actor: Actor,
    /// The secret paths revealed (one entry each).
    pub targets: Vec<String>,
    /// What was asked for: the secret's path, or the environment's for a bulk reveal (a
    /// refusal is one entry naming it).
    pub asked_for: String,
    /// Where the request came from.
    pub origin: Origin,
    /// The read caps of the access policies binding a machine or token there.
    pub caps: Vec<ReadCaps>,
    /// `secret.reveal`, or `secret.use` for a brokered call.
    pub action: &'static str,
    /// What the entry adds in words (for a use: the call made).
    pub detail: String,
}

/// What waits to be journaled.
enum Work {
    /// A reveal or use, counted against `limit` reveals per member per hour.
    Reveal {
        record: RevealRecord,
        limit: Option<u32>,
    },
    /// An entry the server's audit layer made (a read, a refusal).
    Entry(AuditEntry),
}

struct Pending {
    work: Work,
    done: oneshot::Sender<Result<(), Error>>,
}

impl Pending {
    /// Batches are sorted by this (vault, then actor) so counters are locked in one order.
    fn sort_key(&self) -> (&str, &str) {
        match &self.work {
            Work::Reveal { record, .. } => (&record.vault, actor_id(&record.actor)),
            Work::Entry(entry) => (&entry.vault, &entry.actor.id),
        }
    }
}

/// A handle on the journal task; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct Journal {
    queue: mpsc::Sender<Pending>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending").finish_non_exhaustive()
    }
}

impl Journal {
    /// Starts the journal task on `db`; it ends when the last handle is dropped.
    pub(crate) fn start(db: Db) -> Self {
        let (queue, waiting) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, waiting));
        Self { queue }
    }

    /// Records `record` and counts it against `limit` reveals per member per hour; returns
    /// once it is committed, or the reason it was refused.
    pub(crate) async fn record(
        &self,
        record: RevealRecord,
        limit: Option<u32>,
    ) -> Result<(), Error> {
        self.submit(Work::Reveal { record, limit }).await
    }

    /// Appends `entry`; returns once it is committed.
    pub(crate) async fn append(&self, entry: AuditEntry) -> Result<(), Error> {
        self.submit(Work::Entry(entry)).await
    }

    async fn submit(&self, work: Work) -> Result<(), Error> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending { work, done })
            .await
            .map_err(|_| Error::internal("the reveal journal has stopped"))?;
        answer
            .await
            .map_err(|_| Error::internal("the reveal journal dropped a record"))?
    }
}

async fn run(db: Db, mut waiting: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        // Counters are taken in (vault, member) order, so batches committing on several
        // nodes lock them in the same order and cannot deadlock.
        batch.sort_by(|a, b| a.sort_key().cmp(&b.sort_key()));
        match write_batch(&db, &batch).await {
            Ok(verdicts) => {
                for (pending, verdict) in batch.drain(..).zip(verdicts) {
                    let _ = pending.done.send(verdict);
                }
            }
            // One bad record must not fail the others: each is tried again on its own.
            Err(_) => {
                for pending in batch.drain(..) {
                    let verdict = match write_batch(&db, std::slice::from_ref(&pending)).await {
                        Ok(mut verdicts) => verdicts.pop().unwrap_or_else(|| {
                            Err(Error::internal("the reveal journal lost a verdict"))
                        }),
                        Err(e) => Err(same_error(&e)),
                    };
                    let _ = pending.done.send(verdict);
                }
            }
        }
    }
}

fn actor_id(actor: &Actor) -> &str {
    match actor {
        Actor::Member(user) => user.as_str(),
        Actor::Machine(machine) => machine.as_str(),
        Actor::Token(token, _) => token.as_str(),
    }
}

fn same_error(e: &Error) -> Error {
    match e.code() {
        ErrorCode::Internal => {
            Error::internal(e.internal_detail().unwrap_or("journal write failed"))
        }
        code => Error::new(code, e.message()),
    }
}

/// Writes every record of the batch in one transaction; a refused record is recorded as
/// denied and answered with its reason.
async fn write_batch(db: &Db, batch: &[Pending]) -> Result<Vec<Result<(), Error>>, Error> {
    let mut tx = db.begin().await?;
    let now = now_ms();
    let mut names = HashMap::new();
    let mut verdicts = Vec::with_capacity(batch.len());
    for pending in batch {
        let (record, limit) = match &pending.work {
            Work::Entry(entry) => {
                tx.audit(entry.clone());
                verdicts.push(Ok(()));
                continue;
            }
            Work::Reveal { record, limit } => (record, *limit),
        };
        let counted = match count_against_limit(&mut tx, record, limit, now).await? {
            Ok(()) => count_against_caps(&mut tx, record, now).await?,
            refused => refused,
        };
        let actor = named(&mut tx, &mut names, &record.actor).await?;
        let verdict = match counted {
            Ok(()) => {
                for target in &record.targets {
                    tx.audit(reveal_entry(
                        record,
                        &actor,
                        target,
                        Outcome::Allowed,
                        &record.detail,
                    ));
                }
                Ok(())
            }
            Err(refusal) => {
                let target = match record.targets.as_slice() {
                    [one] => one.clone(),
                    many => format!("{} ({} values)", record.asked_for, many.len()),
                };
                tx.audit(reveal_entry(
                    record,
                    &actor,
                    &target,
                    Outcome::Denied,
                    refusal.message(),
                ));
                Err(refusal)
            }
        };
        verdicts.push(verdict);
    }
    tx.commit().await?;
    Ok(verdicts)
}

/// Names an actor once per batch.
async fn named(
    tx: &mut Tx,
    names: &mut HashMap<String, AuditActor>,
    actor: &Actor,
) -> Result<AuditActor, Error> {
    if let Some(found) = names.get(actor_id(actor)) {
        return Ok(found.clone());
    }
    let found = actor_named(tx, actor).await?;
    names.insert(found.id.clone(), found.clone());
    Ok(found)
}

/// Adds the record's reveals to the member's count for this hour, unless that would pass
/// the limit. One statement, so concurrent nodes cannot both take the last reveal.
async fn count_against_limit(
    tx: &mut Tx,
    record: &RevealRecord,
    limit: Option<u32>,
    now: i64,
) -> Result<Result<(), Error>, Error> {
    let (Some(limit), Actor::Member(member)) = (limit, &record.actor) else {
        return Ok(Ok(()));
    };
    let window = now - now.rem_euclid(HOUR_MS);
    let count = i64::try_from(record.targets.len()).unwrap_or(i64::MAX);
    if count > i64::from(limit) {
        return Ok(Err(Error::new(
            ErrorCode::RateLimited,
            format!(
                "{} holds {count} values you may reveal, more than the {limit} a member may \
                 reveal in an hour; reveal them a few at a time, or ask the operator to raise \
                 reveals_per_member_per_hour",
                record.asked_for
            ),
        )));
    }
    let counted = {
        tx.optional(
            q(
                "INSERT INTO reveal_windows (vault_id, user_id, window_start, reveals) \
                 VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (vault_id, user_id) DO UPDATE SET \
                 window_start = excluded.window_start, \
                 reveals = CASE WHEN reveal_windows.window_start = excluded.window_start \
                     THEN reveal_windows.reveals + excluded.reveals ELSE excluded.reveals END \
                 WHERE reveal_windows.window_start <> excluded.window_start \
                    OR reveal_windows.reveals + excluded.reveals <= $5 \
                 RETURNING reveals",
            )
            .bind(record.vault.clone())
            .bind(member.as_str())
            .bind(window)
            .bind(count)
            .bind(i64::from(limit)),
        )
        .await?
    };
    Ok(match counted {
        Some(_) => Ok(()),
        None => {
            let secs = u64::try_from((window + HOUR_MS - now + 999) / 1000).unwrap_or(1);
            Err(Error::new(
                ErrorCode::RateLimited,
                format!(
                    "you may reveal {limit} values an hour in this vault, and this would pass \
                     that; retry in {secs} seconds, or ask the operator to raise \
                     reveals_per_member_per_hour"
                ),
            )
            .with_retry_after(secs))
        }
    })
}

/// Counts the record's reads against each access policy cap binding it, in order; if one
/// would pass its cap, the counts already taken are given back and the refusal names the
/// policy and the cap.
async fn count_against_caps(
    tx: &mut Tx,
    record: &RevealRecord,
    now: i64,
) -> Result<Result<(), Error>, Error> {
    let reads = i64::try_from(record.targets.len()).unwrap_or(i64::MAX);
    for (index, caps) in record.caps.iter().enumerate() {
        let verdict = count_against_cap(tx, caps, reads, now).await?;
        if let Err(refusal) = verdict {
            for counted in &record.caps[..index] {
                tx.execute(
                    q(
                        "UPDATE policy_counters SET minute_count = minute_count - $1, \
                       day_count = day_count - $1, total = total - $1 WHERE policy_id = $2",
                    )
                    .bind(reads)
                    .bind(counted.policy_id.clone()),
                )
                .await?;
            }
            return Ok(Err(refusal));
        }
    }
    Ok(Ok(()))
}

fn cap_value(cap: Option<u32>) -> i64 {
    cap.map_or(i64::MAX, i64::from)
}

/// Adds `reads` to one policy's counters unless a cap would be passed. One statement, so
/// concurrent nodes cannot both take the last read.
async fn count_against_cap(
    tx: &mut Tx,
    caps: &ReadCaps,
    reads: i64,
    now: i64,
) -> Result<Result<(), Error>, Error> {
    let minute = now - now.rem_euclid(MINUTE_MS);
    let day = now - now.rem_euclid(DAY_MS);
    let (per_minute, per_day, total) = (
        cap_value(caps.per_minute),
        cap_value(caps.per_day),
        cap_value(caps.total),
    );
    let fits_alone = reads <= per_minute && reads <= per_day && reads <= total;
    let counted =
        if fits_alone {
            tx.optional(
            q("INSERT INTO policy_counters (policy_id, minute_start, minute_count, day_start, \
               day_count, total) VALUES ($1, $2, $3, $4, $3, $3) \
               ON CONFLICT (policy_id) DO UPDATE SET \
               minute_count = CASE WHEN policy_counters.minute_start = excluded.minute_start \
                   THEN policy_counters.minute_count + excluded.minute_count \
                   ELSE excluded.minute_count END, \
               minute_start = excluded.minute_start, \
               day_count = CASE WHEN policy_counters.day_start = excluded.day_start \
                   THEN policy_counters.day_count + excluded.day_count \
                   ELSE excluded.day_count END, \
               day_start = excluded.day_start, \
               total = policy_counters.total + excluded.total \
               WHERE (CASE WHEN policy_counters.minute_start = excluded.minute_start \
                       THEN policy_counters.minute_count ELSE 0 END) + excluded.minute_count <= $5 \
                 AND (CASE WHEN policy_counters.day_start = excluded.day_start \
                       THEN policy_counters.day_count ELSE 0 END) + excluded.day_count <= $6 \
                 AND policy_counters.total + excluded.total <= $7 \
               RETURNING total")
            .bind(caps.policy_id.clone())
            .bind(minute)
            .bind(reads)
            .bind(day)
            .bind(per_minute)
            .bind(per_day)
            .bind(total),
        )
        .await?
        .is_some()
        } else {
            false
        };
    if counted {
        return Ok(Ok(()));
    }
    let row = tx
        .optional(
            q(
                "SELECT minute_start, minute_count, day_start, day_count, total \
               FROM policy_counters WHERE policy_id = $1",
            )
            .bind(caps.policy_id.clone()),
        )
        .await?;
    let (in_minute, in_day, so_far) = match row {
        Some(row) => (
            if row.i64("minute_start")? == minute {
                row.i64("minute_count")?
            } else {
                0
            },
            if row.i64("day_start")? == day {
                row.i64("day_count")?
            } else {
                0
            },
            row.i64("total")?,
        ),
        None => (0, 0, 0),
    };
    let policy = &caps.policy;
    let retry =
        |window: i64, size: i64| u64::try_from((window + size - now + 999) / 1000).unwrap_or(1);
    let refusal = if in_minute + reads > per_minute {
        Error::new(
            ErrorCode::PolicyDenied,
            format!("refused by access policy '{policy}': reads per minute capped at {per_minute}"),
        )
        .with_retry_after(retry(minute, MINUTE_MS))
    } else if in_day + reads > per_day {
        Error::new(
            ErrorCode::PolicyDenied,
            format!("refused by access policy '{policy}': reads per day (UTC) capped at {per_day}"),
        )
        .with_retry_after(retry(day, DAY_MS))
    } else {
        debug_assert!(so_far + reads > total);
        Error::new(
            ErrorCode::PolicyDenied,
            format!("refused by access policy '{policy}': all {total} reads it allows are used up"),
        )
    };
    Ok(Err(refusal))
}

/// The entry for one value of a reveal (or the refusal of all of them).
fn reveal_entry(
    record: &RevealRecord,
    actor: &AuditActor,
    target: &str,
    outcome: Outcome,
    detail: &str,
) -> AuditEntry {
    AuditEntry {
        vault: record.vault.clone(),
        actor: actor.clone(),
        action: record.action.to_owned(),
        target: target.to_owned(),
        outcome,
        severity: if outcome == Outcome::Allowed {
            Severity::Notice
        } else {
            Severity::Warning
        },
        origin: record.origin.clone(),
        detail: detail.to_owned(),
    }
}
