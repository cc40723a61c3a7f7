//! Sign-in throttling, kept in the database so every server node sees the same counts.
//! Failures are counted per key (an account name, a client address) in fixed windows; a
//! key at its limit is refused until its window ends, whether or not the account exists.

use crate::db::q;
use crate::{Store, now_ms};
use strongroom_core::Error;

/// A throttle rule: at most `max_failures` failed attempts per `window_ms`.
#[derive(Debug, Clone, Copy)]
pub struct ThrottleRule {
    /// Failures allowed per window.
    pub max_failures: i64,
    /// Window length in milliseconds.
    pub window_ms: i64,
}

impl Store {
    /// Seconds until `key` may try again, or `None` if it may try now.
    pub async fn throttle_wait(&self, key: &str, rule: ThrottleRule) -> Result<Option<u64>, Error> {
        let now = now_ms();
        let row = self
            .db
            .optional(
                q("SELECT window_start, failures FROM auth_throttle WHERE key = $1").bind(key),
            )
            .await?;
        let Some(row) = row else { return Ok(None) };
        let window_end = row.i64("window_start")?.saturating_add(rule.window_ms);
        if row.i64("failures")? >= rule.max_failures && window_end > now {
            let secs = (window_end - now + 999) / 1000;
            return Ok(Some(u64::try_from(secs).unwrap_or(1).max(1)));
        }
        Ok(None)
    }

    /// Counts one failed attempt against each key.
    pub async fn throttle_record_failure(
        &self,
        keys: &[&str],
        rule: ThrottleRule,
    ) -> Result<(), Error> {
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        for key in keys {
            tx.execute(
                q(
                    "INSERT INTO auth_throttle (key, window_start, failures) VALUES ($1, $2, 1) \
                   ON CONFLICT (key) DO UPDATE SET \
                   failures = CASE WHEN auth_throttle.window_start <= $3 THEN 1 \
                                   ELSE auth_throttle.failures + 1 END, \
                   window_start = CASE WHEN auth_throttle.window_start <= $3 THEN $2 \
                                       ELSE auth_throttle.window_start END",
                )
                .bind(*key)
                .bind(now)
                .bind(now - rule.window_ms),
            )
            .await?;
        }
        tx.commit().await
    }

    /// Forgets the failures of `key` (after a successful sign-in).
    pub async fn throttle_clear(&self, key: &str) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        tx.execute(q("DELETE FROM auth_throttle WHERE key = $1").bind(key))
            .await?;
        tx.commit().await
    }
}
