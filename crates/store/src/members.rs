//! The roster and what is done to members: suspend, unsuspend, remove, change role, and
//! leaving on one's own. A change to another member is decided again inside its
//! transaction, on the rows it is about to touch (locked on PostgreSQL), so a concurrent
//! demotion of the actor or promotion of the target cannot slip between the decision and
//! the write.

use crate::audit::{Severity, record_member_action};
use crate::db::{Dialect, Row, Tx, q};
use crate::model::{CheckSubject, MemberRecord, Origin, Page, PageRequest, PlanUsage, VaultRecord};
use crate::vault_roles::{resolve_role, role_columns, role_from_row, role_name_from_row};
use crate::{Store, now_ms, paginate};
use strongroom_core::account::Username;
use strongroom_core::authz::{
    Action, Authorized, Member, Principal, Resource, Standing, VaultRole, authorize,
};
use strongroom_core::ids::{UserId, VaultId};
use strongroom_core::names::RoleName;
use strongroom_core::plan::Plan;
use strongroom_core::{Error, ErrorCode};

/// A change to another member.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MemberChange {
    /// Cut their access to the vault until unsuspended.
    Suspend,
    /// Give their access back.
    Unsuspend,
    /// Drop the membership.
    Remove,
    /// Give them another vault role, built-in or custom, by name.
    AssignRole(RoleName),
    /// Give them this access role, or take theirs away.
    SetAccessRole(Option<RoleName>),
}

impl MemberChange {
    fn audit_action(&self) -> &'static str {
        match self {
            Self::Suspend => "member.suspend",
            Self::Unsuspend => "member.unsuspend",
            Self::Remove => "member.remove",
            Self::AssignRole(_) => "member.assign_role",
            Self::SetAccessRole(_) => "member.assign_access_role",
        }
    }
}

fn member_from_row(row: &Row) -> Result<MemberRecord, Error> {
    Ok(MemberRecord {
        user_id: UserId::from_trusted(row.text("user_id")?),
        username: Username::from_trusted(row.text("username")?),
        role: role_from_row(row)?,
        role_name: role_name_from_row(row)?,
        access_role: row.opt_text("access_role")?,
        status: row.text("status")?,
        joined_at: row.i64("joined_at")?,
    })
}

/// The plan of `vault` and how many of its seats are taken: members plus pending,
/// unexpired invites.
fn plan_usage_query(vault: &str) -> crate::db::Q {
    q("SELECT v.plan, \
       CAST((SELECT COUNT(*) FROM memberships m WHERE m.vault_id = v.id) AS BIGINT) AS members, \
       CAST((SELECT COUNT(*) FROM invites i WHERE i.vault_id = v.id AND i.status = 'pending' \
             AND i.expires_at > $2) AS BIGINT) AS invites \
       FROM vaults v WHERE v.id = $1")
    .bind(vault)
    .bind(now_ms())
}

fn plan_usage_from_row(row: Option<Row>) -> Result<PlanUsage, Error> {
    let row = row.ok_or_else(|| Error::not_found("vault"))?;
    let plan: Plan = row.text("plan")?.parse()?;
    let used = u64::try_from(row.i64("members")? + row.i64("invites")?).unwrap_or(0);
    Ok(PlanUsage {
        plan,
        used,
        cap: plan.member_cap(),
    })
}

/// Seat usage read inside a transaction that is about to add a seat. On PostgreSQL the
/// vault row is locked first, so two concurrent invites or joins cannot both take the
/// last seat (SQLite already runs one writer at a time).
pub(crate) async fn plan_usage(tx: &mut Tx, vault: &str) -> Result<PlanUsage, Error> {
    if tx.dialect() == Dialect::Postgres {
        tx.optional(q("SELECT id FROM vaults WHERE id = $1 FOR UPDATE").bind(vault))
            .await?;
    }
    plan_usage_from_row(tx.optional(plan_usage_query(vault)).await?)
}

/// A member's standing in `vault`, read (and on PostgreSQL share-locked) inside `tx`.
async fn fresh_standing(tx: &mut Tx, vault: &str, user: &UserId) -> Result<Standing, Error> {
    let deleted = tx
        .optional(q("SELECT deleted_at FROM vaults WHERE id = $1").bind(vault))
        .await?
        .ok_or_else(|| Error::not_found("vault"))?
        .opt_i64("deleted_at")?;
    if deleted.is_some() {
        return Ok(Standing::VaultDeleted);
    }
    let sql = match tx.dialect() {
        Dialect::Sqlite => concat!(
            "SELECT m.status, ",
            role_columns!(),
            " FROM memberships m ",
            crate::vault_roles::role_join!(),
            " \
             WHERE m.vault_id = $1 AND m.user_id = $2"
        ),
        Dialect::Postgres => concat!(
            "SELECT m.status, ",
            role_columns!(),
            " FROM memberships m ",
            crate::vault_roles::role_join!(),
            " \
             WHERE m.vault_id = $1 AND m.user_id = $2 FOR SHARE OF m"
        ),
    };
    let Some(row) = tx.optional(q(sql).bind(vault).bind(user.as_str())).await? else {
        return Ok(Standing::NotMember);
    };
    Ok(if row.text("status")? == "suspended" {
        Standing::Suspended
    } else {
        Standing::Active(role_from_row(&row)?)
    })
}

impl Store {
    /// The plan and seat usage of the vault the proof is for.
    pub async fn plan_usage(&self, authz: &Authorized) -> Result<PlanUsage, Error> {
        authz.require(Action::ViewMembers)?;
        plan_usage_from_row(
            self.db
                .optional(plan_usage_query(authz.vault()?.as_str()))
                .await?,
        )
    }

    /// The usernames of the members who hold access role or custom vault role `role`
    /// (`access` picks which), for an effect preview. One query, whatever the roster's size.
    pub async fn role_holders(
        &self,
        authz: &Authorized,
        role: &RoleName,
        access: bool,
    ) -> Result<Vec<String>, Error> {
        authz.require(Action::ViewRoles)?;
        let sql = if access {
            "SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id \
             JOIN access_roles r ON r.id = m.access_role_id \
             WHERE m.vault_id = $1 AND r.name = $2 ORDER BY u.username"
        } else {
            "SELECT u.username FROM memberships m JOIN users u ON u.id = m.user_id \
             JOIN vault_roles r ON r.id = m.vault_role_id \
             WHERE m.vault_id = $1 AND r.name = $2 ORDER BY u.username"
        };
        let rows = self
            .db
            .all(q(sql).bind(authz.vault()?.as_str()).bind(role.as_str()))
            .await?;
        rows.iter().map(|r| r.text("username")).collect()
    }

    /// The roster, by username.
    pub async fn members(
        &self,
        authz: &Authorized,
        page: &PageRequest,
    ) -> Result<Page<MemberRecord>, Error> {
        authz.require(Action::ViewMembers)?;
        let rows = self
            .db
            .all(
                q(concat!(
                    "SELECT m.user_id, u.username, m.status, m.joined_at, ar.name AS access_role, ",
                    role_columns!(),
                    " FROM memberships m JOIN users u ON u.id = m.user_id \
                     LEFT JOIN access_roles ar ON ar.id = m.access_role_id \
                     ",
                    crate::vault_roles::role_join!(),
                    " \
                     WHERE m.vault_id = $1 AND u.username > $2 ORDER BY u.username LIMIT $3"
                ))
                .bind(authz.vault()?.as_str())
                .bind(page.after.clone().unwrap_or_default())
                .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let members = rows
            .iter()
            .map(member_from_row)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(paginate(members, page.limit, |m| {
            m.username.as_str().to_owned()
        }))
    }

    /// Applies `change` to `target`, deciding it on fresh rows. The principal is the
    /// request's; its vault is the only one the change can touch.
    pub async fn change_member(
        &self,
        principal: &Principal,
        target: &Username,
        change: MemberChange,
        origin: &Origin,
    ) -> Result<MemberRecord, Error> {
        let Principal::Member(actor) = principal else {
            return Err(Error::new(
                ErrorCode::PermissionDenied,
                "permission denied: a machine reads the secrets it is attached to, and nothing \
                 else: this route is for members",
            ));
        };
        let vault = actor.vault_id.as_str();
        let mut tx = self.db.begin().await?;
        // The request's address was judged when the session was read; the rest is read
        // again here, in the transaction that makes the change.
        let standing = match actor.standing {
            Standing::OutsideAllowlist => Standing::OutsideAllowlist,
            _ => fresh_standing(&mut tx, vault, &actor.user_id).await?,
        };
        let sql = match tx.dialect() {
            Dialect::Sqlite => concat!(
                "SELECT m.user_id, u.username, m.status, m.joined_at, ar.name AS access_role, ",
                role_columns!(),
                " FROM memberships m JOIN users u ON u.id = m.user_id \
                 LEFT JOIN access_roles ar ON ar.id = m.access_role_id \
                 ",
                crate::vault_roles::role_join!(),
                " \
                 WHERE m.vault_id = $1 AND u.username = $2"
            ),
            Dialect::Postgres => concat!(
                "SELECT m.user_id, u.username, m.status, m.joined_at, ar.name AS access_role, ",
                role_columns!(),
                " FROM memberships m JOIN users u ON u.id = m.user_id \
                 LEFT JOIN access_roles ar ON ar.id = m.access_role_id \
                 ",
                crate::vault_roles::role_join!(),
                " \
                 WHERE m.vault_id = $1 AND u.username = $2 FOR UPDATE OF m"
            ),
        };
        let fresh = Principal::Member(Member {
            user_id: actor.user_id.clone(),
            vault_id: actor.vault_id.clone(),
            standing,
            access: actor.access.clone(),
        });
        let found = tx
            .optional(q(sql).bind(vault).bind(target.as_str()))
            .await?;
        let Some(row) = found else {
            // Decide first, so a caller with no business here learns nothing about who is
            // a member; then say the member does not exist.
            authorize(
                &fresh,
                Action::ManageMember,
                Resource::Member {
                    vault: &actor.vault_id,
                    role: VaultRole::Collaborator,
                },
            )?;
            return Err(Error::not_found(&format!("member '{target}'")));
        };
        let mut member = member_from_row(&row)?;
        let on_target = Resource::Member {
            vault: &actor.vault_id,
            role: member.role,
        };
        // Acting on this member at all comes first; only then are role names looked up,
        // so nobody learns which custom or access roles exist by trying to assign them.
        let proof = authorize(&fresh, Action::ManageMember, on_target)?;
        let now = now_ms();
        let detail = match &change {
            MemberChange::Suspend | MemberChange::Unsuspend => {
                let status = if change == MemberChange::Suspend {
                    "suspended"
                } else {
                    "active"
                };
                if member.status == status {
                    return Err(Error::new(
                        ErrorCode::Conflict,
                        format!("'{target}' is already {status}"),
                    ));
                }
                tx.execute(
                    q(
                        "UPDATE memberships SET status = $1, status_changed_at = $2 \
                       WHERE vault_id = $3 AND user_id = $4",
                    )
                    .bind(status)
                    .bind(now)
                    .bind(vault)
                    .bind(member.user_id.as_str()),
                )
                .await?;
                member.status = status.to_owned();
                target.as_str().to_owned()
            }
            MemberChange::Remove => {
                tx.execute(
                    q("DELETE FROM memberships WHERE vault_id = $1 AND user_id = $2")
                        .bind(vault)
                        .bind(member.user_id.as_str()),
                )
                .await?;
                target.as_str().to_owned()
            }
            MemberChange::AssignRole(name) => {
                let new = resolve_role(&mut tx, vault, name).await?;
                authorize(&fresh, Action::AssignRole(new.role), on_target)?;
                tx.execute(
                    q("UPDATE memberships SET role = $1, vault_role_id = $2 \
                       WHERE vault_id = $3 AND user_id = $4")
                    .bind(new.role.as_str())
                    .bind(new.custom_id.clone())
                    .bind(vault)
                    .bind(member.user_id.as_str()),
                )
                .await?;
                let previous = std::mem::replace(&mut member.role_name, new.name.clone());
                member.role = new.role;
                format!("{target}: {previous} -> {}", new.name)
            }
            MemberChange::SetAccessRole(name) => {
                let id = match name {
                    None => None,
                    Some(name) => {
                        let (id, role) =
                            crate::access_roles::access_role_by_name(self, &mut tx, vault, name)
                                .await?;
                        proof.permit_granting_access_role(&role)?;
                        Some(id)
                    }
                };
                tx.execute(
                    q("UPDATE memberships SET access_role_id = $1 WHERE vault_id = $2 AND user_id = $3")
                        .bind(id)
                        .bind(vault)
                        .bind(member.user_id.as_str()),
                )
                .await?;
                member.access_role = name.as_ref().map(|n| n.as_str().to_owned());
                format!(
                    "{target}: access role {}",
                    name.as_ref().map_or("none", |n| n.as_str())
                )
            }
        };
        let severity = match &change {
            MemberChange::Unsuspend => Severity::Notice,
            _ => Severity::Warning,
        };
        record_member_action(
            &mut tx,
            origin,
            vault,
            &actor.user_id,
            change.audit_action(),
            &detail,
            severity,
        )
        .await?;
        tx.commit().await?;
        Ok(member)
    }

    /// A member of the proof's vault as the next request would see them, for
    /// `strongroom check`: standing, vault role and access role (name and compiled).
    pub async fn check_subject(
        &self,
        authz: &Authorized,
        username: &Username,
    ) -> Result<CheckSubject, Error> {
        let vault = authz.vault()?.as_str();
        let row = self
            .db
            .optional(
                q(concat!(
                    "SELECT u.id, m.status, v.deleted_at, ar.id AS access_role_id, \
                     ar.name AS access_role, ar.version AS access_role_version, ",
                    role_columns!(),
                    " FROM users u JOIN memberships m ON m.user_id = u.id AND m.vault_id = $1 \
                     JOIN vaults v ON v.id = m.vault_id \
                     LEFT JOIN access_roles ar ON ar.id = m.access_role_id \
                     ",
                    crate::vault_roles::role_join!(),
                    " WHERE u.username = $2"
                ))
                .bind(vault)
                .bind(username.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found(&format!("member '{username}'")))?;
        if authz.action() == Action::ExplainOwnAccess && row.text("id")? != authz.actor()?.as_str()
        {
            return Err(Error::internal(
                "an own-access proof was used for another member",
            ));
        }
        let standing = if row.opt_i64("deleted_at")?.is_some() {
            Standing::VaultDeleted
        } else if row.text("status")? == "suspended" {
            Standing::Suspended
        } else {
            Standing::Active(role_from_row(&row)?)
        };
        let access = match (
            row.opt_text("access_role_id")?,
            row.opt_text("access_role")?,
            row.opt_i64("access_role_version")?,
        ) {
            (Some(id), Some(name), Some(version)) => {
                Some((name, self.compiled_access_role(&id, version).await?))
            }
            _ => None,
        };
        Ok(CheckSubject {
            standing,
            role_name: role_name_from_row(&row)?,
            access,
        })
    }

    /// The caller leaves the vault the proof is for. Their sessions acting there move to
    /// their personal vault, which is returned.
    pub async fn leave_vault(
        &self,
        authz: &Authorized,
        origin: &Origin,
    ) -> Result<VaultRecord, Error> {
        authz.require(Action::LeaveVault)?;
        let vault = authz.vault()?.as_str();
        let actor = authz.actor()?.as_str();
        let mut tx = self.db.begin().await?;
        let personal = VaultId::from_trusted(
            tx.one(q("SELECT personal_vault_id FROM users WHERE id = $1").bind(actor))
                .await?
                .text("personal_vault_id")?,
        );
        if personal.as_str() == vault {
            return Err(Error::new(
                ErrorCode::Conflict,
                "you cannot leave your personal vault",
            ));
        }
        // The audit entry goes first: it names the member while they still are one.
        let username = tx
            .one(q("SELECT username FROM users WHERE id = $1").bind(actor))
            .await?
            .text("username")?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "member.leave",
            &username,
            Severity::Notice,
        )
        .await?;
        let n = tx
            .execute(
                q("DELETE FROM memberships WHERE vault_id = $1 AND user_id = $2 AND role <> 'owner'")
                    .bind(vault)
                    .bind(actor),
            )
            .await?;
        if n != 1 {
            return Err(Error::new(
                ErrorCode::Conflict,
                "the owner cannot leave; transfer ownership first (`strongroom org transfer USERNAME`)",
            ));
        }
        tx.execute(
            q("UPDATE sessions SET vault_id = $1 WHERE user_id = $2 AND vault_id = $3")
                .bind(personal.as_str())
                .bind(actor)
                .bind(vault),
        )
        .await?;
        let record =
            crate::organizations::vault_as_member(&mut tx, personal.as_str(), authz.actor()?)
                .await?;
        tx.commit().await?;
        Ok(record)
    }
}
