//! A vault's IP allowlist: ranges its members', machines' and tokens' requests must come
//! from once it holds any. Changed by members with the IP allowlist cell, never in a way
//! that shuts out the member making the change.

use crate::audit::{Severity, record_member_action};
use crate::db::q;
use crate::model::{AllowlistEntry, Origin};
use crate::{Store, now_ms};
use std::net::IpAddr;
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::VaultId;
use strongroom_core::network::{self, CidrRange};
use strongroom_core::{Error, ErrorCode};

/// Most ranges on one allowlist.
const MAX_RANGES: usize = 500;

fn lock_out(ip: Option<IpAddr>, ranges: &[CidrRange]) -> Option<Error> {
    if ranges.is_empty() || ip.is_some_and(|ip| network::any_contains(ranges, ip)) {
        return None;
    }
    let ip = ip.map_or_else(|| "unknown".to_owned(), |ip| ip.to_string());
    Some(Error::new(
        ErrorCode::Conflict,
        format!(
            "this change would lock you out: your address {ip} would not be on the vault's IP \
             allowlist ({}); add a range that covers it first",
            network::format_list(ranges)
        ),
    ))
}

impl Store {
    /// The vault's allowlist (empty: every address is admitted).
    pub async fn vault_allowlist(&self, vault: &VaultId) -> Result<Vec<CidrRange>, Error> {
        self.db
            .all(q("SELECT cidr FROM ip_allowlist WHERE vault_id = $1").bind(vault.as_str()))
            .await?
            .iter()
            .map(|row| row.text("cidr")?.parse())
            .collect()
    }

    /// Whether a request from `ip` is admitted to `vault`.
    pub async fn admits(&self, vault: &VaultId, ip: Option<IpAddr>) -> Result<bool, Error> {
        let ranges = self.vault_allowlist(vault).await?;
        Ok(ranges.is_empty() || ip.is_some_and(|ip| network::any_contains(&ranges, ip)))
    }

    /// The allowlist with who added each range.
    pub async fn allowlist(&self, authz: &Authorized) -> Result<Vec<AllowlistEntry>, Error> {
        authz.require(Action::ManageIpAllowlist)?;
        self.db
            .all(
                q(
                    "SELECT cidr, note, added_by_name, created_at FROM ip_allowlist \
                   WHERE vault_id = $1 ORDER BY cidr",
                )
                .bind(authz.vault()?.as_str()),
            )
            .await?
            .iter()
            .map(|row| {
                Ok(AllowlistEntry {
                    cidr: row.text("cidr")?.parse()?,
                    note: row.text("note")?,
                    added_by: row.text("added_by_name")?,
                    created_at: row.i64("created_at")?,
                })
            })
            .collect()
    }

    /// Adds a range; refused if the list would then shut out `ip`, the actor's address.
    pub async fn allow_range(
        &self,
        authz: &Authorized,
        range: CidrRange,
        note: &str,
        ip: Option<IpAddr>,
        origin: &Origin,
    ) -> Result<(), Error> {
        self.change_allowlist(authz, range, Some(note), ip, origin)
            .await
    }

    /// Removes a range; refused if the list would then shut out `ip`.
    pub async fn disallow_range(
        &self,
        authz: &Authorized,
        range: CidrRange,
        ip: Option<IpAddr>,
        origin: &Origin,
    ) -> Result<(), Error> {
        self.change_allowlist(authz, range, None, ip, origin).await
    }

    async fn change_allowlist(
        &self,
        authz: &Authorized,
        range: CidrRange,
        add_with_note: Option<&str>,
        ip: Option<IpAddr>,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageIpAllowlist)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        // The list is read and changed in one transaction (locked on PostgreSQL through
        // the vault row), so two concurrent changes cannot together shut someone out.
        if matches!(tx.dialect(), crate::db::Dialect::Postgres) {
            tx.execute(q("SELECT id FROM vaults WHERE id = $1 FOR UPDATE").bind(vault))
                .await?;
        }
        let mut ranges: Vec<CidrRange> = tx
            .all(q("SELECT cidr FROM ip_allowlist WHERE vault_id = $1").bind(vault))
            .await?
            .iter()
            .map(|row| row.text("cidr")?.parse())
            .collect::<Result<_, Error>>()?;
        let present = ranges.contains(&range);
        let action = match add_with_note {
            Some(note) => {
                if present {
                    return Err(Error::new(
                        ErrorCode::AlreadyExists,
                        format!("{range} is already on the allowlist"),
                    ));
                }
                if ranges.len() >= MAX_RANGES {
                    return Err(Error::new(
                        ErrorCode::InvalidValue,
                        format!("an allowlist holds at most {MAX_RANGES} ranges; merge some"),
                    ));
                }
                ranges.push(range);
                if let Some(refusal) = lock_out(ip, &ranges) {
                    return Err(refusal);
                }
                tx.execute(
                    q("INSERT INTO ip_allowlist (vault_id, cidr, note, added_by_name, created_at) \
                       SELECT $1, $2, $3, u.username, $4 FROM users u WHERE u.id = $5")
                    .bind(vault)
                    .bind(range.to_string())
                    .bind(note.chars().take(200).collect::<String>())
                    .bind(now_ms())
                    .bind(authz.actor()?.as_str()),
                )
                .await?;
                "allowlist.add"
            }
            None => {
                if !present {
                    return Err(Error::not_found(&format!("range {range} on the allowlist")));
                }
                ranges.retain(|r| *r != range);
                if let Some(refusal) = lock_out(ip, &ranges) {
                    return Err(refusal);
                }
                tx.execute(
                    q("DELETE FROM ip_allowlist WHERE vault_id = $1 AND cidr = $2")
                        .bind(vault)
                        .bind(range.to_string()),
                )
                .await?;
                "allowlist.remove"
            }
        };
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            action,
            &range.to_string(),
            Severity::Critical,
        )
        .await?;
        tx.commit().await
    }
}
