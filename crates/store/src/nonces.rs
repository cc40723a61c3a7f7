//! One-shot nonces of signed machine requests, taken in groups: each request waits for
//! its nonce to be committed (so a replay is refused on every node), but many requests
//! share one commit, so signing does not make every machine read a transaction of its
//! own. Spent nonces are swept once their requests' timestamps are past the window.

use crate::db::{Db, q};
use crate::now_ms;
use strongroom_core::Error;
use tokio::sync::{mpsc, oneshot};

/// Most nonces committed together.
const MAX_BATCH: usize = 512;
/// Spent nonces are swept once every this many batches.
const SWEEP_EVERY: u64 = 64;

struct Pending {
    machine: String,
    nonce: String,
    expires_at: i64,
    done: oneshot::Sender<Result<bool, Error>>,
}

/// A handle on the nonce task; clones share it.
#[derive(Debug, Clone)]
pub(crate) struct Nonces {
    queue: mpsc::Sender<Pending>,
}

impl Nonces {
    /// Starts the task on `db`; it ends when the last handle is dropped.
    pub(crate) fn start(db: Db) -> Self {
        let (queue, waiting) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(db, waiting));
        Self { queue }
    }

    /// Takes `nonce` for `machine` until `expires_at`; false if it was taken before.
    pub(crate) async fn take(
        &self,
        machine: &str,
        nonce: &str,
        expires_at: i64,
    ) -> Result<bool, Error> {
        let (done, answer) = oneshot::channel();
        self.queue
            .send(Pending {
                machine: machine.to_owned(),
                nonce: nonce.to_owned(),
                expires_at,
                done,
            })
            .await
            .map_err(|_| Error::internal("the nonce task has stopped"))?;
        answer
            .await
            .map_err(|_| Error::internal("the nonce task dropped a request"))?
    }
}

async fn run(db: Db, mut waiting: mpsc::Receiver<Pending>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    let mut batches = 0u64;
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        batches += 1;
        if batches.is_multiple_of(SWEEP_EVERY) {
            let _ = sweep(&db).await;
        }
        match take_all(&db, &batch).await {
            Ok(taken) => {
                for (pending, taken) in batch.drain(..).zip(taken) {
                    let _ = pending.done.send(Ok(taken));
                }
            }
            // A failed batch (a machine removed meanwhile, say) is tried again one by one.
            Err(_) => {
                for pending in batch.drain(..) {
                    let taken = take_all(&db, std::slice::from_ref(&pending))
                        .await
                        .map(|t| t.first().copied().unwrap_or(false));
                    let _ = pending.done.send(taken);
                }
            }
        }
    }
}

async fn take_all(db: &Db, batch: &[Pending]) -> Result<Vec<bool>, Error> {
    let mut tx = db.begin().await?;
    let mut taken = Vec::with_capacity(batch.len());
    for pending in batch {
        let inserted = tx
            .execute(
                q("INSERT INTO request_nonces (machine_id, nonce, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (machine_id, nonce) DO NOTHING")
                .bind(pending.machine.clone())
                .bind(pending.nonce.clone())
                .bind(pending.expires_at),
            )
            .await?;
        taken.push(inserted == 1);
    }
    tx.commit().await?;
    Ok(taken)
}

async fn sweep(db: &Db) -> Result<(), Error> {
    let mut tx = db.begin().await?;
    tx.execute(q("DELETE FROM request_nonces WHERE expires_at < $1").bind(now_ms()))
        .await?;
    tx.commit().await
}
