//! Applications, projects and environments.

use super::{Ctx, parse_arg};
use crate::args::{AppsCommand, EnvsCommand, ProjectsCommand};
use crate::failure::CliResult;
use crate::output;
use strongroom_core::names::{ApplicationName, EnvironmentPath, ProjectPath};
use strongroom_proto::Node;

fn print_nodes(ctx: &Ctx, nodes: Vec<Node>) -> CliResult {
    if ctx.json {
        return output::json(&nodes);
    }
    output::table(
        &["NAME", "PATH", "CREATED"],
        nodes
            .into_iter()
            .map(|n| vec![n.name, n.path, n.created_at])
            .collect(),
    );
    Ok(())
}

pub async fn apps(ctx: &Ctx, command: AppsCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        AppsCommand::Create { name } => {
            parse_arg::<ApplicationName>(&name)?;
            let app = client.create_app(&name).await?;
            if ctx.json {
                return output::json(&app);
            }
            println!(
                "Created application {}. Next: strongroom projects create {}/PROJECT",
                app.name, app.name
            );
        }
        AppsCommand::List => print_nodes(ctx, client.apps().await?)?,
    }
    Ok(())
}

pub async fn projects(ctx: &Ctx, command: ProjectsCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        ProjectsCommand::Create { path } => {
            parse_arg::<ProjectPath>(&path)?;
            let created = client.create_project(&path).await?;
            if ctx.json {
                return output::json(&created);
            }
            let envs: Vec<&str> = created
                .environments
                .iter()
                .map(|e| e.name.as_str())
                .collect();
            println!(
                "Created project {} with environments {}.",
                created.project.path,
                envs.join(", ")
            );
        }
        ProjectsCommand::List { app } => {
            parse_arg::<ApplicationName>(&app)?;
            print_nodes(ctx, client.projects(&app).await?)?;
        }
    }
    Ok(())
}

pub async fn envs(ctx: &Ctx, command: EnvsCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        EnvsCommand::Create { path } => {
            parse_arg::<EnvironmentPath>(&path)?;
            let env = client.create_env(&path).await?;
            if ctx.json {
                return output::json(&env);
            }
            println!("Created environment {}.", env.path);
        }
        EnvsCommand::List { project } => {
            parse_arg::<ProjectPath>(&project)?;
            print_nodes(ctx, client.envs(&project).await?)?;
        }
    }
    Ok(())
}
