//! Invites by email and invite links. An email invite is recorded the same way whether
//! the address has an account, is already a member or was already invited (one
//! conditional insert), so the inviter's answer says nothing about other people. Only an
//! account whose verified address matches may see or accept it.

use crate::access_roles::access_role_by_name;
use crate::audit::{Severity, record_member_action};
use crate::db::{Row, q};
use crate::members::plan_usage;
use crate::model::{
    InviteLinkRecord, InviteRecord, Origin, Page, PageRequest, ReceivedInvite, VaultRecord,
};
use crate::organizations::vault_as_member;
use crate::vault_roles::NamedRole;
use crate::{Store, decode_newest_first_cursor, now_ms, paginate};
use strongroom_core::account::Email;
use strongroom_core::authz::{Action, Authorized, VaultRole};
use strongroom_core::ids::{InviteId, InviteLinkId, VaultId};
use strongroom_core::names::RoleName;
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

/// How long an email invite stays open.
pub const INVITE_TTL_MS: i64 = 7 * 24 * 60 * 60 * 1000;

/// A new invite link to record.
#[derive(Debug, Clone)]
pub struct NewInviteLink {
    /// SHA-256 of the link's token.
    pub token_hash: String,
    /// Lifetime.
    pub ttl_ms: i64,
    /// Most joins it allows.
    pub max_uses: Option<i64>,
}

/// The name of the role an invite offers (`role` and `custom_role` columns); a custom
/// role deleted since reads as `custom`.
fn offered_role_name(row: &Row) -> Result<String, Error> {
    Ok(row.opt_text("custom_role")?.unwrap_or(row.text("role")?))
}

/// One line on the offered role: a custom role's description, or the built-in summary.
fn offered_role_summary(row: &Row) -> Result<String, Error> {
    let role = row.text("role")?;
    Ok(
        match (role.parse::<VaultRole>(), row.opt_text("role_description")?) {
            (Ok(built_in), _) => built_in.summary().to_owned(),
            (Err(_), Some(description)) if !description.is_empty() => description,
            (Err(_), _) => VaultRole::Custom(Default::default()).summary().to_owned(),
        },
    )
}

fn invite_from_row(row: &Row) -> Result<InviteRecord, Error> {
    Ok(InviteRecord {
        id: InviteId::from_trusted(row.text("id")?),
        email: row.text("email")?,
        role_name: offered_role_name(row)?,
        access_role: row.opt_text("access_role")?,
        inviter_username: row.text("inviter_username")?,
        status: row.text("status")?,
        created_at: row.i64("created_at")?,
        expires_at: row.i64("expires_at")?,
    })
}

fn link_from_row(row: &Row) -> Result<InviteLinkRecord, Error> {
    Ok(InviteLinkRecord {
        id: InviteLinkId::from_trusted(row.text("id")?),
        role: row.text("role")?.parse()?,
        creator_username: row.text("creator_username")?,
        created_at: row.i64("created_at")?,
        expires_at: row.i64("expires_at")?,
        max_uses: row.opt_i64("max_uses")?,
        uses: row.i64("uses")?,
        revoked_at: row.opt_i64("revoked_at")?,
    })
}

/// The caller's verified email key, or the error that says to verify first.
async fn verified_email_key(store: &Store, authz: &Authorized) -> Result<String, Error> {
    let row = store
        .db
        .one(
            q("SELECT email_key, email_verified_at FROM users WHERE id = $1")
                .bind(authz.actor()?.as_str()),
        )
        .await?;
    if row.opt_i64("email_verified_at")?.is_none() {
        return Err(Error::new(
            ErrorCode::EmailNotVerified,
            "verify your email address first: enter the code you were sent with \
             `strongroom verify-email CODE` (or ask for a new one with `strongroom verify-email --resend`)",
        ));
    }
    row.text("email_key")
}

/// Only organizations take members; a personal vault must be converted first.
async fn require_organization(tx: &mut crate::db::Tx, vault: &str) -> Result<(), Error> {
    let kind = tx
        .one(q("SELECT kind FROM vaults WHERE id = $1").bind(vault))
        .await?
        .text("kind")?;
    if kind == "organization" {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::Conflict,
            "a personal vault has no other members: convert it (`strongroom org convert`) or \
             create an organization (`strongroom org create NAME`) and invite people there",
        ))
    }
}

impl Store {
    /// Invites `email` into the vault the proof is for, offering `role`. Returns whether a
    /// new invite was recorded (false when the address is already a member or already
    /// invited); the API must not pass this on to the inviter.
    pub async fn invite_by_email(
        &self,
        authz: &Authorized,
        email: &Email,
        role: &NamedRole,
        access_role: Option<&RoleName>,
        origin: &Origin,
    ) -> Result<bool, Error> {
        authz.require(Action::InviteMember(role.role))?;
        let vault = authz.vault()?.as_str();
        let now = now_ms();
        let id = new_id(InviteId::from_random)?;
        let mut tx = self.db.begin().await?;
        require_organization(&mut tx, vault).await?;
        // The role first, as deleting a role does, so the two never wait on each other.
        crate::vault_roles::confirm_unchanged(&mut tx, vault, role).await?;
        tx.execute(
            q(
                "UPDATE invites SET status = 'expired' WHERE vault_id = $1 AND email_key = $2 \
               AND status = 'pending' AND expires_at <= $3",
            )
            .bind(vault)
            .bind(email.key())
            .bind(now),
        )
        .await?;
        plan_usage(&mut tx, vault).await?.plan_check()?;
        let access_role_id = match access_role {
            None => None,
            Some(name) => {
                let (id, role) = access_role_by_name(self, &mut tx, vault, name).await?;
                authz.permit_granting_access_role(&role)?;
                Some(id)
            }
        };
        let inserted = tx
            .execute(
                q(
                    "INSERT INTO invites (id, vault_id, email, email_key, role, invited_by, \
                   inviter_username, created_at, expires_at, status, access_role_id, vault_role_id) \
                   SELECT $1, $2, $3, $4, $5, u.id, u.username, $6, $7, 'pending', $9, $10 FROM users u \
                   WHERE u.id = $8 \
                   AND NOT EXISTS (SELECT 1 FROM memberships m JOIN users x ON x.id = m.user_id \
                                   WHERE m.vault_id = $2 AND x.email_key = $4 \
                                   AND x.email_verified_at IS NOT NULL) \
                   AND NOT EXISTS (SELECT 1 FROM invites i WHERE i.vault_id = $2 \
                                   AND i.email_key = $4 AND i.status = 'pending')",
                )
                .bind(id.as_str())
                .bind(vault)
                .bind(email.as_str())
                .bind(email.key())
                .bind(role.role.as_str())
                .bind(now)
                .bind(now + INVITE_TTL_MS)
                .bind(authz.actor()?.as_str())
                .bind(access_role_id)
                .bind(role.custom_id.clone()),
            )
            .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "member.invite",
            &format!("{} as {}", email.as_str(), role.name),
            Severity::Notice,
        )
        .await?;
        tx.commit().await?;
        Ok(inserted == 1)
    }

    /// Whether an account uses `email`, for deciding to send an invite email. Call it off
    /// the request path: its answer must not shape the inviter's response.
    pub async fn has_account_with_email(&self, email: &Email) -> Result<bool, Error> {
        Ok(self
            .db
            .optional(q("SELECT id FROM users WHERE email_key = $1 LIMIT 1").bind(email.key()))
            .await?
            .is_some())
    }

    /// The vault's pending, unexpired invites, newest first.
    pub async fn pending_invites(
        &self,
        authz: &Authorized,
        page: &PageRequest,
    ) -> Result<Page<InviteRecord>, Error> {
        authz.require(Action::ManageInvites)?;
        let (before_created, before_id) = decode_newest_first_cursor(page.after.as_deref())?;
        let rows = self
            .db
            .all(
                q(
                    "SELECT i.id, i.email, i.role, i.inviter_username, i.status, i.created_at, \
                   i.expires_at, ar.name AS access_role, vr.name AS custom_role FROM invites i \
                   LEFT JOIN access_roles ar ON ar.id = i.access_role_id \
                   LEFT JOIN vault_roles vr ON vr.id = i.vault_role_id AND vr.vault_id = i.vault_id \
                   WHERE i.vault_id = $1 AND i.status = 'pending' AND i.expires_at > $2 \
                   AND (i.created_at < $3 OR (i.created_at = $3 AND i.id > $4)) \
                   ORDER BY i.created_at DESC, i.id LIMIT $5",
                )
                .bind(authz.vault()?.as_str())
                .bind(now_ms())
                .bind(before_created)
                .bind(before_id)
                .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let invites = rows
            .iter()
            .map(invite_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(invites, page.limit, |i| {
            format!("{}:{}", i.created_at, i.id)
        }))
    }

    /// Revokes a pending invite of the vault the proof is for.
    pub async fn revoke_invite(
        &self,
        authz: &Authorized,
        id: &InviteId,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageInvites)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE invites SET status = 'revoked', decided_at = $1 \
                   WHERE id = $2 AND vault_id = $3 AND status = 'pending'")
                .bind(now_ms())
                .bind(id.as_str())
                .bind(vault),
            )
            .await?;
        if n != 1 {
            return Err(Error::not_found("pending invite"));
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "member.invite_revoke",
            id.as_str(),
            Severity::Notice,
        )
        .await?;
        tx.commit().await
    }

    /// The invites waiting for the caller, across every organization. Needs a verified
    /// address: an unverified one proves nothing about whose invites they are.
    pub async fn received_invites(&self, authz: &Authorized) -> Result<Vec<ReceivedInvite>, Error> {
        authz.require(Action::ManageOwnAccount)?;
        let email_key = verified_email_key(self, authz).await?;
        let rows = self
            .db
            .all(
                q(
                    "SELECT i.id, i.vault_id, v.name AS vault_name, i.role, i.inviter_username, \
                   i.created_at, i.expires_at, vr.name AS custom_role, \
                   vr.description AS role_description FROM invites i \
                   JOIN vaults v ON v.id = i.vault_id \
                   LEFT JOIN vault_roles vr ON vr.id = i.vault_role_id AND vr.vault_id = i.vault_id \
                   WHERE i.email_key = $1 AND i.status = 'pending' AND i.expires_at > $2 \
                   AND v.deleted_at IS NULL ORDER BY i.created_at DESC, i.id LIMIT 1000",
                )
                .bind(email_key)
                .bind(now_ms()),
            )
            .await?;
        rows.iter()
            .map(|row| {
                Ok(ReceivedInvite {
                    id: InviteId::from_trusted(row.text("id")?),
                    vault_id: VaultId::from_trusted(row.text("vault_id")?),
                    vault_name: row.text("vault_name")?,
                    role_name: offered_role_name(row)?,
                    role_summary: offered_role_summary(row)?,
                    inviter_username: row.text("inviter_username")?,
                    created_at: row.i64("created_at")?,
                    expires_at: row.i64("expires_at")?,
                })
            })
            .collect()
    }

    /// Accepts (or declines) an invite addressed to the caller's verified email. Someone
    /// else's invite is "not found"; an answered, revoked or expired one says so.
    pub async fn answer_invite(
        &self,
        authz: &Authorized,
        id: &InviteId,
        accept: bool,
        origin: &Origin,
    ) -> Result<Option<VaultRecord>, Error> {
        authz.require(Action::ManageOwnAccount)?;
        let email_key = verified_email_key(self, authz).await?;
        let actor = authz.actor()?.as_str();
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(
                q(
                    "SELECT i.vault_id, i.role, i.vault_role_id, i.status, i.expires_at, \
                   i.access_role_id, v.deleted_at, vr.name AS custom_role FROM invites i \
                   JOIN vaults v ON v.id = i.vault_id \
                   LEFT JOIN vault_roles vr ON vr.id = i.vault_role_id AND vr.vault_id = i.vault_id \
                   WHERE i.id = $1 AND i.email_key = $2",
                )
                .bind(id.as_str())
                .bind(email_key),
            )
            .await?
            .ok_or_else(|| Error::not_found("invite"))?;
        let status = row.text("status")?;
        if status != "pending" || row.opt_i64("deleted_at")?.is_some() {
            return Err(Error::new(
                ErrorCode::InviteUnusable,
                match status.as_str() {
                    "accepted" | "declined" => "this invite was already answered",
                    "revoked" => "this invite was revoked; ask for a new one",
                    "expired" => "this invite has expired; ask for a new one",
                    _ => "this organization no longer accepts members",
                },
            ));
        }
        if row.i64("expires_at")? <= now {
            return Err(Error::new(
                ErrorCode::InviteExpired,
                "this invite has expired; ask for a new one",
            ));
        }
        let vault = row.text("vault_id")?;
        let role = row.text("role")?;
        let custom_role = row.opt_text("vault_role_id")?;
        if role == "custom" && custom_role.is_none() {
            return Err(Error::new(
                ErrorCode::InviteUnusable,
                "the role this invite offered no longer exists; ask for a new invite",
            ));
        }
        let role_name = offered_role_name(&row)?;
        // Conditional, so a revocation or another answer that commits meanwhile wins.
        let answered = tx
            .execute(
                q("UPDATE invites SET status = $1, decided_at = $2 \
                   WHERE id = $3 AND status = 'pending' AND expires_at > $2")
                .bind(if accept { "accepted" } else { "declined" })
                .bind(now)
                .bind(id.as_str()),
            )
            .await?;
        if answered != 1 {
            return Err(Error::new(
                ErrorCode::InviteUnusable,
                "this invite was revoked or answered meanwhile",
            ));
        }
        if !accept {
            record_member_action(
                &mut tx,
                origin,
                &vault,
                authz.actor()?,
                "member.invite_decline",
                id.as_str(),
                Severity::Info,
            )
            .await?;
            tx.commit().await?;
            return Ok(None);
        }
        // The invite held a seat; this only refuses when the plan was lowered since.
        plan_usage(&mut tx, &vault).await?.plan_check()?;
        tx.execute(
            q(
                "INSERT INTO memberships (vault_id, user_id, role, joined_at, access_role_id, \
               vault_role_id) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(vault.clone())
            .bind(actor)
            .bind(role)
            .bind(now)
            .bind(row.opt_text("access_role_id")?)
            .bind(custom_role),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::Conflict,
                "you are already a member of this organization",
            ),
            _ => e,
        })?;
        record_member_action(
            &mut tx,
            origin,
            &vault,
            authz.actor()?,
            "member.join",
            &format!("invite {} as {role_name}", id.as_str()),
            Severity::Notice,
        )
        .await?;
        let record = vault_as_member(&mut tx, &vault, authz.actor()?).await?;
        tx.commit().await?;
        Ok(Some(record))
    }

    /// Records a new invite link into the vault the proof is for (joining as Collaborator).
    pub async fn create_invite_link(
        &self,
        authz: &Authorized,
        new: NewInviteLink,
        origin: &Origin,
    ) -> Result<InviteLinkRecord, Error> {
        authz.require(Action::InviteMember(VaultRole::Collaborator))?;
        let vault = authz.vault()?.as_str();
        let id = new_id(InviteLinkId::from_random)?;
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        require_organization(&mut tx, vault).await?;
        tx.execute(
            q("INSERT INTO invite_links (id, vault_id, token_hash, role, created_by, creator_username, \
               created_at, expires_at, max_uses, uses) \
               SELECT $1, $2, $3, $4, u.id, u.username, $5, $6, $7, 0 FROM users u WHERE u.id = $8")
            .bind(id.as_str())
            .bind(vault)
            .bind(new.token_hash)
            .bind(VaultRole::Collaborator.as_str())
            .bind(now)
            .bind(now.saturating_add(new.ttl_ms))
            .bind(new.max_uses)
            .bind(authz.actor()?.as_str()),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "member.link_create",
            id.as_str(),
            Severity::Notice,
        )
        .await?;
        let row = tx
            .one(q("SELECT id, role, creator_username, created_at, expires_at, max_uses, uses, revoked_at \
                    FROM invite_links WHERE id = $1").bind(id.as_str()))
            .await?;
        let link = link_from_row(&row)?;
        tx.commit().await?;
        Ok(link)
    }

    /// The vault's invite links, newest first (revoked and expired ones included, marked).
    pub async fn invite_links(
        &self,
        authz: &Authorized,
        page: &PageRequest,
    ) -> Result<Page<InviteLinkRecord>, Error> {
        authz.require(Action::ManageInvites)?;
        let (before_created, before_id) = decode_newest_first_cursor(page.after.as_deref())?;
        let rows = self
            .db
            .all(
                q("SELECT id, role, creator_username, created_at, expires_at, max_uses, uses, revoked_at \
                   FROM invite_links WHERE vault_id = $1 \
                   AND (created_at < $2 OR (created_at = $2 AND id > $3)) \
                   ORDER BY created_at DESC, id LIMIT $4")
                .bind(authz.vault()?.as_str())
                .bind(before_created)
                .bind(before_id)
                .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let links = rows
            .iter()
            .map(link_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(links, page.limit, |l| {
            format!("{}:{}", l.created_at, l.id)
        }))
    }

    /// Revokes an invite link of the vault the proof is for.
    pub async fn revoke_invite_link(
        &self,
        authz: &Authorized,
        id: &InviteLinkId,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManageInvites)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let n = tx
            .execute(
                q("UPDATE invite_links SET revoked_at = $1 WHERE id = $2 AND vault_id = $3 AND revoked_at IS NULL")
                    .bind(now_ms())
                    .bind(id.as_str())
                    .bind(vault),
            )
            .await?;
        if n != 1 {
            return Err(Error::not_found("invite link"));
        }
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "member.link_revoke",
            id.as_str(),
            Severity::Notice,
        )
        .await?;
        tx.commit().await
    }

    /// Joins the caller to the organization of the link whose token hashes to
    /// `token_hash`, as Collaborator, if the link is live and the plan has room.
    pub async fn join_by_link(
        &self,
        authz: &Authorized,
        token_hash: &str,
        origin: &Origin,
    ) -> Result<VaultRecord, Error> {
        authz.require(Action::ManageOwnAccount)?;
        let actor = authz.actor()?.as_str();
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(
                q("SELECT l.id, l.vault_id, l.role, l.expires_at, l.max_uses, l.uses, l.revoked_at, \
                   v.deleted_at FROM invite_links l JOIN vaults v ON v.id = l.vault_id \
                   WHERE l.token_hash = $1")
                .bind(token_hash),
            )
            .await?
            .ok_or_else(|| Error::not_found("invite link"))?;
        if row.opt_i64("revoked_at")?.is_some() || row.opt_i64("deleted_at")?.is_some() {
            return Err(Error::new(
                ErrorCode::InviteUnusable,
                "this invite link was revoked; ask for a new one",
            ));
        }
        if row.i64("expires_at")? <= now {
            return Err(Error::new(
                ErrorCode::InviteExpired,
                "this invite link has expired; ask for a new one",
            ));
        }
        let link_id = row.text("id")?;
        let vault = row.text("vault_id")?;
        let role: VaultRole = row.text("role")?.parse()?;
        let already = tx
            .optional(
                q("SELECT role FROM memberships WHERE vault_id = $1 AND user_id = $2")
                    .bind(vault.clone())
                    .bind(actor),
            )
            .await?;
        if already.is_some() {
            return Err(Error::new(
                ErrorCode::Conflict,
                "you are already a member of this organization",
            ));
        }
        plan_usage(&mut tx, &vault).await?.plan_check()?;
        let counted = tx
            .execute(
                q("UPDATE invite_links SET uses = uses + 1 \
                   WHERE id = $1 AND (max_uses IS NULL OR uses < max_uses) \
                   AND revoked_at IS NULL AND expires_at > $2")
                .bind(link_id.clone())
                .bind(now),
            )
            .await?;
        if counted != 1 {
            return Err(Error::new(
                ErrorCode::InviteUnusable,
                "this invite link has been used up or revoked; ask for a new one",
            ));
        }
        tx.execute(
            q("INSERT INTO memberships (vault_id, user_id, role, joined_at) VALUES ($1, $2, $3, $4)")
                .bind(vault.clone())
                .bind(actor)
                .bind(role.as_str())
                .bind(now),
        )
        .await?;
        record_member_action(
            &mut tx,
            origin,
            &vault,
            authz.actor()?,
            "member.join",
            &format!("link {link_id} as {role}"),
            Severity::Notice,
        )
        .await?;
        let record = vault_as_member(&mut tx, &vault, authz.actor()?).await?;
        tx.commit().await?;
        Ok(record)
    }
}
