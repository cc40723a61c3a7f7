//! The tree inside a vault: applications → projects → environments. A new project gets
//! its own data key and the environments development, staging and production, in the
//! same transaction.

use crate::db::{Row, q};
use crate::keys::create_data_key;
use crate::model::Origin;
use crate::model::{NodeRecord, Page, PageRequest};
use crate::{Store, now_ms, paginate_filtered};
use strongroom_core::authz::{Action, Authorized};
use strongroom_core::ids::{ApplicationId, EnvironmentId, ProjectId};
use strongroom_core::names::{
    ApplicationName, EnvironmentName, EnvironmentPath, ProjectName, ProjectPath,
};
use strongroom_core::{Error, ErrorCode};
use strongroom_crypto::random::new_id;

/// Refuses, as not found, a project that does not exist in `vault`.
pub(crate) async fn require_project(
    tx: &mut crate::db::Tx,
    vault: &str,
    project: &ProjectPath,
) -> Result<(), Error> {
    let found = tx
        .optional(
            q(
                "SELECT p.id FROM applications a JOIN projects p ON p.application_id = a.id \
               WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3",
            )
            .bind(vault)
            .bind(project.application.as_str())
            .bind(project.project.as_str()),
        )
        .await?;
    match found {
        Some(_) => Ok(()),
        None => Err(Error::not_found(&format!("project '{project}'"))),
    }
}

fn node(row: &Row) -> Result<NodeRecord, Error> {
    Ok(NodeRecord {
        id: row.text("id")?,
        name: row.text("name")?,
        created_at: row.i64("created_at")?,
    })
}

fn exists_error(what: String) -> impl FnOnce(Error) -> Error {
    move |e| match e.code() {
        ErrorCode::AlreadyExists => {
            Error::new(ErrorCode::AlreadyExists, format!("{what} already exists"))
        }
        _ => e,
    }
}

impl Store {
    /// Creates an application in the vault.
    pub async fn create_application(
        &self,
        authz: &Authorized,
        name: &ApplicationName,
        origin: &Origin,
    ) -> Result<NodeRecord, Error> {
        authz.require(Action::WriteStructure)?;
        let id = new_id(ApplicationId::from_random)?;
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        tx.execute(
            q("INSERT INTO applications (id, vault_id, name, created_at) VALUES ($1, $2, $3, $4)")
                .bind(id.as_str())
                .bind(authz.vault()?.as_str())
                .bind(name.as_str())
                .bind(now),
        )
        .await
        .map_err(exists_error(format!("application '{name}'")))?;
        record_structure(&mut tx, authz, origin, "application.create", name.as_str()).await?;
        tx.commit().await?;
        Ok(NodeRecord {
            id: id.to_string(),
            name: name.to_string(),
            created_at: now,
        })
    }

    /// The vault's applications, by name.
    pub async fn list_applications(
        &self,
        authz: &Authorized,
        page: &PageRequest,
    ) -> Result<Page<NodeRecord>, Error> {
        authz.require(Action::ReadStructure)?;
        let rows = self
            .db
            .all(
                q("SELECT id, name, created_at FROM applications WHERE vault_id = $1 AND name > $2 \
                   ORDER BY name LIMIT $3")
                    .bind(authz.vault()?.as_str())
                    .bind(page.after.clone().unwrap_or_default())
                    .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let nodes = rows.iter().map(node).collect::<Result<Vec<_>, _>>()?;
        Ok(paginate_filtered(
            nodes,
            page.limit,
            |n| authz.sees_application(&n.name),
            |n| n.name.clone(),
        ))
    }

    /// Creates a project with its data key and the three default environments.
    pub async fn create_project(
        &self,
        authz: &Authorized,
        path: &ProjectPath,
        origin: &Origin,
    ) -> Result<(NodeRecord, Vec<NodeRecord>), Error> {
        authz.require(Action::WriteStructure)?;
        let vault = authz.vault()?.as_str();
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        let app_id = tx
            .optional(
                q("SELECT id FROM applications WHERE vault_id = $1 AND name = $2")
                    .bind(vault)
                    .bind(path.application.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found(&format!("application '{}'", path.application)))?
            .text("id")?;
        let (data_key_id, _) = create_data_key(&mut tx, self.keys.as_ref(), now).await?;
        let project_id = new_id(ProjectId::from_random)?;
        tx.execute(
            q("INSERT INTO projects (id, vault_id, application_id, name, data_key_id, created_at) \
               VALUES ($1, $2, $3, $4, $5, $6)")
                .bind(project_id.as_str())
                .bind(vault)
                .bind(app_id)
                .bind(path.project.as_str())
                .bind(data_key_id.as_str())
                .bind(now),
        )
        .await
        .map_err(exists_error(format!("project '{path}'")))?;
        let mut environments = Vec::new();
        for env in EnvironmentName::defaults() {
            let env_id = new_id(EnvironmentId::from_random)?;
            tx.execute(
                q(
                    "INSERT INTO environments (id, vault_id, project_id, name, created_at) \
                   VALUES ($1, $2, $3, $4, $5)",
                )
                .bind(env_id.as_str())
                .bind(vault)
                .bind(project_id.as_str())
                .bind(env.as_str())
                .bind(now),
            )
            .await?;
            environments.push(NodeRecord {
                id: env_id.to_string(),
                name: env.to_string(),
                created_at: now,
            });
        }
        record_structure(&mut tx, authz, origin, "project.create", &path.to_string()).await?;
        tx.commit().await?;
        Ok((
            NodeRecord {
                id: project_id.to_string(),
                name: path.project.to_string(),
                created_at: now,
            },
            environments,
        ))
    }

    /// An application's projects, by name.
    pub async fn list_projects(
        &self,
        authz: &Authorized,
        application: &ApplicationName,
        page: &PageRequest,
    ) -> Result<Page<NodeRecord>, Error> {
        authz.require(Action::ReadStructure)?;
        let vault = authz.vault_for_application(application.as_str())?;
        let app = self
            .db
            .optional(
                q("SELECT id FROM applications WHERE vault_id = $1 AND name = $2")
                    .bind(vault)
                    .bind(application.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found(&format!("application '{application}'")))?;
        let rows = self
            .db
            .all(
                q("SELECT id, name, created_at FROM projects WHERE application_id = $1 AND name > $2 \
                   ORDER BY name LIMIT $3")
                    .bind(app.text("id")?)
                    .bind(page.after.clone().unwrap_or_default())
                    .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let nodes = rows.iter().map(node).collect::<Result<Vec<_>, _>>()?;
        Ok(paginate_filtered(
            nodes,
            page.limit,
            |n| authz.sees_project(application.as_str(), &n.name),
            |n| n.name.clone(),
        ))
    }

    async fn project_id(&self, vault: &str, path: &ProjectPath) -> Result<String, Error> {
        self.db
            .optional(
                q(
                    "SELECT p.id FROM projects p JOIN applications a ON a.id = p.application_id \
                   WHERE a.vault_id = $1 AND a.name = $2 AND p.name = $3",
                )
                .bind(vault)
                .bind(path.application.as_str())
                .bind(path.project.as_str()),
            )
            .await?
            .ok_or_else(|| Error::not_found(&format!("project '{path}'")))?
            .text("id")
    }

    /// Adds an environment to a project.
    pub async fn create_environment(
        &self,
        authz: &Authorized,
        path: &EnvironmentPath,
        origin: &Origin,
    ) -> Result<NodeRecord, Error> {
        authz.require(Action::WriteStructure)?;
        let vault = authz.vault()?.as_str();
        let project_id = self.project_id(vault, &path.project).await?;
        let id = new_id(EnvironmentId::from_random)?;
        let now = now_ms();
        let mut tx = self.db.begin().await?;
        tx.execute(
            q(
                "INSERT INTO environments (id, vault_id, project_id, name, created_at) \
               VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(id.as_str())
            .bind(vault)
            .bind(project_id)
            .bind(path.environment.as_str())
            .bind(now),
        )
        .await
        .map_err(exists_error(format!("environment '{path}'")))?;
        record_structure(
            &mut tx,
            authz,
            origin,
            "environment.create",
            &path.to_string(),
        )
        .await?;
        tx.commit().await?;
        Ok(NodeRecord {
            id: id.to_string(),
            name: path.environment.to_string(),
            created_at: now,
        })
    }

    /// A project's environments, by name.
    pub async fn list_environments(
        &self,
        authz: &Authorized,
        project: &ProjectPath,
        page: &PageRequest,
    ) -> Result<Page<NodeRecord>, Error> {
        authz.require(Action::ReadStructure)?;
        let vault = authz.vault_for(project.application.as_str(), project.project.as_str())?;
        let project_id = self.project_id(vault, project).await?;
        let rows = self
            .db
            .all(
                q("SELECT id, name, created_at FROM environments WHERE project_id = $1 AND name > $2 \
                   ORDER BY name LIMIT $3")
                    .bind(project_id)
                    .bind(page.after.clone().unwrap_or_default())
                    .bind(i64::from(page.limit) + 1),
            )
            .await?;
        let nodes = rows.iter().map(node).collect::<Result<Vec<_>, _>>()?;
        Ok(paginate_filtered(
            nodes,
            page.limit,
            |n| {
                authz.sees_environment(&EnvironmentPath {
                    project: project.clone(),
                    environment: EnvironmentName::from_trusted(n.name.clone()),
                })
            },
            |n| n.name.clone(),
        ))
    }
}

impl Store {
    /// Every environment of the vault the caller may see, as paths, in one query: what a
    /// role editor lays out and what an effect preview walks.
    pub async fn environment_paths(
        &self,
        authz: &Authorized,
    ) -> Result<Vec<EnvironmentPath>, Error> {
        authz.require(Action::ReadStructure)?;
        let vault = authz.vault()?.as_str();
        let rows = self
            .db
            .all(
                q("SELECT a.name AS app, p.name AS project, e.name AS env \
                   FROM environments e JOIN projects p ON p.id = e.project_id \
                   JOIN applications a ON a.id = p.application_id \
                   WHERE e.vault_id = $1 ORDER BY a.name, p.name, e.name")
                .bind(vault.to_owned()),
            )
            .await?;
        let mut paths = Vec::with_capacity(rows.len());
        for row in &rows {
            let path = EnvironmentPath {
                project: ProjectPath {
                    application: ApplicationName::from_trusted(row.text("app")?),
                    project: ProjectName::from_trusted(row.text("project")?),
                },
                environment: EnvironmentName::from_trusted(row.text("env")?),
            };
            if authz.sees_environment(&path) {
                paths.push(path);
            }
        }
        Ok(paths)
    }
}

/// Queues the entry for a change to the vault's shape, in the change's transaction.
async fn record_structure(
    tx: &mut crate::db::Tx,
    authz: &Authorized,
    origin: &Origin,
    action: &str,
    target: &str,
) -> Result<(), Error> {
    crate::audit::record_member_action(
        tx,
        origin,
        authz.vault()?.as_str(),
        authz.actor()?,
        action,
        target,
        crate::audit::Severity::Notice,
    )
    .await
}
