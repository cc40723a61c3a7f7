//! Access policies on machines and tokens: written, listed and deleted by members who
//! hold the policies switch on the project a policy binds (or who see everything, for a
//! policy binding everything), audited. Loaded on every request of their subject, so a
//! new or deleted policy holds from the next one.

use crate::audit::{Severity, record_member_action};
use crate::db::{Row, q};
use crate::model::{Origin, PolicyRecord};
use crate::{Store, now_ms};
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::PolicyId;
use strongroom_core::names::{MachineName, PolicyName, ProjectPath, TokenName};
use strongroom_core::policy::{Policy, PolicySpec};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

/// Most policies binding one machine or token.
const MAX_POLICIES_PER_SUBJECT: i64 = 20;

/// Whom a policy binds.
#[derive(Debug, Clone)]
pub enum PolicySubject {
    /// A machine, by name.
    Machine(MachineName),
    /// A live token, by name.
    Token(TokenName),
}

/// `SELECT` of every column [`record_from_row`] reads, then `$filter`.
macro_rules! policy_select {
    ($filter:literal) => {
        concat!(
            "SELECT id, name, subject_kind, subject_name, application, project, spec, \
             created_by_name, created_at FROM policies ",
            $filter
        )
    };
}

fn project_of(row: &Row) -> Result<Option<ProjectPath>, Error> {
    let (app, project) = (row.text("application")?, row.text("project")?);
    if app.is_empty() {
        return Ok(None);
    }
    Ok(Some(format!("{app}/{project}").parse()?))
}

fn spec_of(row: &Row) -> Result<PolicySpec, Error> {
    serde_json::from_str(&row.text("spec")?)
        .map_err(|e| Error::internal(format!("stored policy does not parse: {e}")))
}

fn record_from_row(row: &Row) -> Result<PolicyRecord, Error> {
    Ok(PolicyRecord {
        id: PolicyId::from_trusted(row.text("id")?),
        name: row.text("name")?,
        subject_kind: row.text("subject_kind")?,
        subject: row.text("subject_name")?,
        project: project_of(row)?,
        spec: spec_of(row)?,
        created_by: row.text("created_by_name")?,
        created_at: row.i64("created_at")?,
    })
}

fn missing(name: &str) -> Error {
    Error::not_found(&format!("policy '{name}'"))
}

impl Store {
    /// Writes a policy on a machine or token, binding `project` (or everything).
    pub async fn create_policy(
        &self,
        authz: &Authorized,
        name: &PolicyName,
        subject: &PolicySubject,
        project: Option<&ProjectPath>,
        spec: &PolicySpec,
        origin: &Origin,
    ) -> Result<PolicyRecord, Error> {
        authz.permit_policy(project)?;
        let id = new_id(PolicyId::from_random)?;
        Policy::compile(id.as_str(), name.as_str(), spec)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let (kind, subject_row) = match subject {
            PolicySubject::Machine(machine) => (
                "machine",
                tx.optional(
                    q("SELECT id, name FROM machines WHERE vault_id = $1 AND name = $2")
                        .bind(vault)
                        .bind(machine.as_str()),
                )
                .await?
                .ok_or_else(|| Error::not_found(&format!("machine '{machine}'")))?,
            ),
            PolicySubject::Token(token) => (
                "token",
                tx.optional(
                    q("SELECT id, name FROM tokens \
                       WHERE vault_id = $1 AND name = $2 AND revoked_at IS NULL")
                    .bind(vault)
                    .bind(token.as_str()),
                )
                .await?
                .ok_or_else(|| Error::not_found(&format!("token '{token}'")))?,
            ),
        };
        let bound = tx
            .one(
                q("SELECT COUNT(*) AS n FROM policies WHERE subject_id = $1")
                    .bind(subject_row.text("id")?),
            )
            .await?
            .i64("n")?;
        if bound >= MAX_POLICIES_PER_SUBJECT {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!(
                    "{kind} {} is already bound by {MAX_POLICIES_PER_SUBJECT} policies; merge \
                     some (each is checked on every one of its requests)",
                    subject_row.text("name")?
                ),
            ));
        }
        let spec_text = serde_json::to_string(spec)
            .map_err(|e| Error::internal(format!("policy does not serialize: {e}")))?;
        tx.execute(
            q(
                "INSERT INTO policies (id, vault_id, name, subject_kind, subject_id, subject_name, \
               application, project, spec, created_by_name, created_at) \
               SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, u.username, $10 FROM users u \
               WHERE u.id = $11",
            )
            .bind(id.as_str())
            .bind(vault)
            .bind(name.as_str())
            .bind(kind)
            .bind(subject_row.text("id")?)
            .bind(subject_row.text("name")?)
            .bind(project.map_or("", |p| p.application.as_str()))
            .bind(project.map_or("", |p| p.project.as_str()))
            .bind(spec_text.clone())
            .bind(now_ms())
            .bind(authz.actor()?.as_str()),
        )
        .await
        .map_err(|e| match e.code() {
            ErrorCode::AlreadyExists => Error::new(
                ErrorCode::AlreadyExists,
                format!("a policy named '{name}' already exists in this vault"),
            ),
            _ => e,
        })?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "policy.create",
            &format!(
                "{name} on {kind} {} ({}): {spec_text}",
                subject_row.text("name")?,
                project.map_or_else(|| "everything".to_owned(), ToString::to_string)
            ),
            Severity::Warning,
        )
        .await?;
        let row = tx
            .one(q(policy_select!("WHERE id = $1")).bind(id.as_str()))
            .await?;
        let record = record_from_row(&row)?;
        tx.commit().await?;
        Ok(record)
    }

    /// The vault's policies the caller may author, by name.
    pub async fn policies(&self, authz: &Authorized) -> Result<Vec<PolicyRecord>, Error> {
        authz.require(Action::ManagePolicies)?;
        let rows = self
            .db
            .all(
                q(policy_select!(
                    "WHERE vault_id = $1 ORDER BY name LIMIT 1000"
                ))
                .bind(authz.vault()?.as_str()),
            )
            .await?;
        let mut records = Vec::with_capacity(rows.len());
        for row in &rows {
            let record = record_from_row(row)?;
            if authz.permit_policy(record.project.as_ref()).is_ok() {
                records.push(record);
            }
        }
        Ok(records)
    }

    /// One policy, if the caller may author it.
    pub async fn policy(&self, authz: &Authorized, name: &str) -> Result<PolicyRecord, Error> {
        authz.require(Action::ManagePolicies)?;
        let row = self
            .db
            .optional(
                q(policy_select!("WHERE vault_id = $1 AND name = $2"))
                    .bind(authz.vault()?.as_str())
                    .bind(name),
            )
            .await?
            .ok_or_else(|| missing(name))?;
        let record = record_from_row(&row)?;
        authz
            .permit_policy(record.project.as_ref())
            .map_err(|_| missing(name))?;
        Ok(record)
    }

    /// Deletes a policy: its subject is no longer bound by it from its next request.
    pub async fn delete_policy(
        &self,
        authz: &Authorized,
        name: &str,
        origin: &Origin,
    ) -> Result<(), Error> {
        authz.require(Action::ManagePolicies)?;
        let vault = authz.vault()?.as_str();
        let mut tx = self.db.begin().await?;
        let row = tx
            .optional(
                q(policy_select!("WHERE vault_id = $1 AND name = $2"))
                    .bind(vault)
                    .bind(name),
            )
            .await?
            .ok_or_else(|| missing(name))?;
        let record = record_from_row(&row)?;
        authz.permit_policy(record.project.as_ref())?;
        tx.execute(q("DELETE FROM policies WHERE id = $1").bind(record.id.as_str()))
            .await?;
        record_member_action(
            &mut tx,
            origin,
            vault,
            authz.actor()?,
            "policy.delete",
            &format!("{name} on {} {}", record.subject_kind, record.subject),
            Severity::Warning,
        )
        .await?;
        tx.commit().await
    }

    /// The policies binding a machine or token, compiled, for its request.
    pub async fn runtime_policies(
        &self,
        subject_id: &str,
    ) -> Result<Vec<(Option<ProjectPath>, Policy)>, Error> {
        let rows = self
            .db
            .all(
                q("SELECT id, name, application, project, spec FROM policies \
                   WHERE subject_id = $1 ORDER BY name")
                .bind(subject_id),
            )
            .await?;
        rows.iter()
            .map(|row| {
                let policy = Policy::compile(&row.text("id")?, &row.text("name")?, &spec_of(row)?)?;
                Ok((project_of(row)?, policy))
            })
            .collect()
    }
}
