//! Data keys and root-key rotation. A data key is generated here, wrapped under the
//! active root key, and only ever unwrapped in memory. Rotation rewraps every data key
//! under a new root key in small transactions, so reads never stop: every wrapped key is
//! at all times under a root key that is still in the key file.

use crate::db::{Dialect, Tx, q};
use crate::{Store, now_ms};
use strongroom_core::Error;
use strongroom_core::ids::DataKeyId;
use strongroom_crypto::random::new_id;
use strongroom_crypto::{Aad, DataKey, FileKeyring, RootKeyProvider};

const REWRAP_BATCH: i64 = 100;

/// What a root-key rotation did.
#[derive(Debug, Clone)]
pub struct RotationReport {
    /// The root key now wrapping every data key.
    pub new_root_key_id: String,
    /// Data keys rewrapped.
    pub rewrapped: u64,
    /// Root keys removed from the key file.
    pub retired: Vec<String>,
}

pub(crate) fn data_key_aad(data_key_id: &str, root_key_id: &str) -> Aad {
    Aad::new("strongroom/data-key/v1")
        .field(data_key_id)
        .field(root_key_id)
}

/// Creates, wraps and stores a fresh data key inside `tx`; returns its id.
pub(crate) async fn create_data_key(
    tx: &mut Tx,
    keys: &dyn RootKeyProvider,
    now: i64,
) -> Result<(DataKeyId, DataKey), Error> {
    let sql = match tx.dialect() {
        // SQLite serializes writers with BEGIN IMMEDIATE already.
        Dialect::Sqlite => "SELECT active_root_key_id FROM keyring_state WHERE id = 1",
        // Rotation's UPDATE of this row waits until data keys being wrapped under the old
        // root key are committed, so its rewrap pass cannot miss one.
        Dialect::Postgres => "SELECT active_root_key_id FROM keyring_state WHERE id = 1 FOR SHARE",
    };
    let root_key_id = tx.one(q(sql)).await?.text("active_root_key_id")?;
    insert_data_key(tx, keys, &root_key_id, now).await
}

async fn insert_data_key(
    tx: &mut Tx,
    keys: &dyn RootKeyProvider,
    root_key_id: &str,
    now: i64,
) -> Result<(DataKeyId, DataKey), Error> {
    let id = new_id(DataKeyId::from_random)?;
    let key = DataKey::generate()?;
    let wrapped = keys.wrap(root_key_id, &key, &data_key_aad(id.as_str(), root_key_id))?;
    tx.execute(
        q("INSERT INTO data_keys (id, root_key_id, wrapped, created_at) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(root_key_id)
            .bind(wrapped)
            .bind(now),
    )
    .await?;
    Ok((id, key))
}

impl Store {
    /// Unwraps a data key read from its row.
    pub(crate) fn unwrap_data_key(
        &self,
        data_key_id: &str,
        root_key_id: &str,
        wrapped: &[u8],
    ) -> Result<DataKey, Error> {
        self.keys.unwrap(
            root_key_id,
            wrapped,
            &data_key_aad(data_key_id, root_key_id),
        )
    }

    /// First start: records the active root key and creates the data key that seals
    /// account secrets (TOTP). Later starts: proves the key file opens this database.
    pub(crate) async fn ensure_keyring_state(&self) -> Result<(), Error> {
        let mut tx = self.db.begin().await?;
        let existing = tx
            .optional(q(
                "SELECT k.accounts_data_key_id, d.root_key_id, d.wrapped \
                         FROM keyring_state k JOIN data_keys d ON d.id = k.accounts_data_key_id \
                         WHERE k.id = 1",
            ))
            .await?;
        match existing {
            Some(row) => {
                drop(tx);
                let key = self
                    .unwrap_data_key(
                        &row.text("accounts_data_key_id")?,
                        &row.text("root_key_id")?,
                        &row.bytes("wrapped")?,
                    )
                    .map_err(|e| {
                        Error::internal(format!(
                            "the root key file does not open this database's keys: {}",
                            e.internal_detail().unwrap_or(e.message())
                        ))
                    })?;
                self.db
                    .set_chain_key(strongroom_crypto::audit_chain::ChainKey::derive(&key));
                let _ = self.accounts_key.set(key);
            }
            None => {
                let root_key_id = self.keys.active_key_id();
                let (id, key) =
                    insert_data_key(&mut tx, self.keys.as_ref(), &root_key_id, now_ms()).await?;
                tx.execute(
                    q(
                        "INSERT INTO keyring_state (id, active_root_key_id, accounts_data_key_id) \
                       VALUES (1, $1, $2)",
                    )
                    .bind(root_key_id)
                    .bind(id.as_str()),
                )
                .await?;
                tx.commit().await?;
                self.db
                    .set_chain_key(strongroom_crypto::audit_chain::ChainKey::derive(&key));
                let _ = self.accounts_key.set(key);
            }
        }
        Ok(())
    }

    /// The data key that seals account secrets.
    pub(crate) fn accounts_key(&self) -> Result<&DataKey, Error> {
        self.accounts_key
            .get()
            .ok_or_else(|| Error::internal("accounts data key not loaded"))
    }

    /// Rotates the root key with no downtime for reads: adds a new key to the key file
    /// and makes it active, switches the database to it (new data keys are wrapped under
    /// it from then on), rewraps every data key in small batches, and only then removes
    /// the old keys from the file.
    pub async fn rotate_root_key(&self, ring: &FileKeyring) -> Result<RotationReport, Error> {
        let new_id = ring.add_active_key()?;
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("UPDATE keyring_state SET active_root_key_id = $1 WHERE id = 1").bind(&new_id),
        )
        .await?;
        tx.commit().await?;

        let mut rewrapped = 0u64;
        loop {
            let mut tx = self.db.begin().await?;
            let rows = tx
                .all(
                    q(
                        "SELECT id, root_key_id, wrapped FROM data_keys WHERE root_key_id <> $1 \
                       ORDER BY id LIMIT $2",
                    )
                    .bind(&new_id)
                    .bind(REWRAP_BATCH),
                )
                .await?;
            if rows.is_empty() {
                break;
            }
            for row in rows {
                let id = row.text("id")?;
                let old_root = row.text("root_key_id")?;
                let key = self.unwrap_data_key(&id, &old_root, &row.bytes("wrapped")?)?;
                let wrapped = ring.wrap(&new_id, &key, &data_key_aad(&id, &new_id))?;
                rewrapped += tx
                    .execute(
                        q("UPDATE data_keys SET root_key_id = $1, wrapped = $2 \
                           WHERE id = $3 AND root_key_id = $4")
                        .bind(&new_id)
                        .bind(wrapped)
                        .bind(&id)
                        .bind(&old_root),
                    )
                    .await?;
            }
            tx.commit().await?;
        }

        let still_old = self
            .db
            .one(q("SELECT COUNT(*) AS n FROM data_keys WHERE root_key_id <> $1").bind(&new_id))
            .await?
            .i64("n")?;
        if still_old != 0 {
            return Err(Error::internal(format!(
                "{still_old} data keys are still under an old root key; run the rotation again"
            )));
        }
        let retired = ring.retain(&[])?;
        Ok(RotationReport {
            new_root_key_id: new_id,
            rewrapped,
            retired,
        })
    }
}
