//! Dispatch from parsed arguments to the command implementations.

mod account;
mod audit;
mod broker;
mod machines;
mod org;
mod policies;
mod roles;
mod secrets;
mod server;
mod tokens;
mod tree;

use crate::args::{Cli, Command};
use crate::failure::{CliResult, Failure, exit};
use crate::state::CliState;
use std::io::{IsTerminal as _, Read as _};

/// What every client command gets.
pub struct Ctx {
    pub json: bool,
    pub server_flag: Option<String>,
    pub state: CliState,
}

impl Ctx {
    pub fn client(&self) -> CliResult<strongroom_client::Client> {
        self.state.client(self.server_flag.as_deref())
    }
}

pub async fn dispatch(cli: Cli) -> CliResult {
    match cli.command {
        Command::Server(args) => return server::run(args).await,
        Command::Admin(crate::args::AdminCommand::RotateRootKey(storage)) => {
            return server::rotate_root_key(storage, cli.json).await;
        }
        Command::Admin(crate::args::AdminCommand::SetPlan {
            vault,
            plan,
            storage,
        }) => return server::set_plan(storage, &vault, &plan, cli.json).await,
        Command::Admin(crate::args::AdminCommand::VerifyEmail { username, storage }) => {
            return server::verify_email(storage, &username, cli.json).await;
        }
        Command::Roles(crate::args::RolesCommand::Show { role })
            if role.parse::<strongroom_core::authz::VaultRole>().is_ok() =>
        {
            return roles::show_built_in(&role, cli.json);
        }
        Command::Openapi => {
            let doc = strongroom_server::openapi_document();
            let text = doc
                .to_pretty_json()
                .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
            println!("{text}");
            return Ok(());
        }
        _ => {}
    }
    let ctx = Ctx {
        json: cli.json,
        server_flag: cli.server,
        state: CliState::locate()?,
    };
    match cli.command {
        Command::Signup(a) => account::signup(&ctx, a).await,
        Command::Login(a) => account::login(&ctx, a).await,
        Command::Logout => account::logout(&ctx).await,
        Command::Whoami => account::whoami(&ctx).await,
        Command::StepUp(a) => account::step_up(&ctx, a).await,
        Command::Passwd(a) => account::passwd(&ctx, a).await,
        Command::Sessions(c) => account::sessions(&ctx, c).await,
        Command::Totp(c) => account::totp(&ctx, c).await,
        Command::Vaults(c) => org::vaults(&ctx, c).await,
        Command::Org(c) => org::org(&ctx, c).await,
        Command::Members(c) => org::members(&ctx, c).await,
        Command::Invites(c) => org::invites(&ctx, c).await,
        Command::Roles(c) => roles::roles(&ctx, c).await,
        Command::Machines(c) => machines::machines(&ctx, c).await,
        Command::Tokens(c) => tokens::tokens(&ctx, c).await,
        Command::Policies(c) => policies::policies(&ctx, c).await,
        Command::Allowlist(c) => policies::allowlist(&ctx, c).await,
        Command::Audit(c) => audit::run(&ctx, c).await,
        Command::Alerts(c) => audit::alerts(&ctx, c).await,
        Command::AccessRoles(c) => roles::access_roles(&ctx, c).await,
        Command::Check {
            username,
            action,
            resource,
        } => roles::check(&ctx, &username, &action, resource.as_deref()).await,
        Command::Links(c) => org::links(&ctx, c).await,
        Command::Join { link } => org::join(&ctx, &link).await,
        Command::VerifyEmail(a) => account::verify_email(&ctx, a).await,
        Command::ChangeEmail(a) => account::change_email(&ctx, a).await,
        Command::Apps(c) => tree::apps(&ctx, c).await,
        Command::Projects(c) => tree::projects(&ctx, c).await,
        Command::Envs(c) => tree::envs(&ctx, c).await,
        Command::Secrets(c) => secrets::secrets(&ctx, c).await,
        Command::Run(a) => secrets::run(&ctx, a).await,
        Command::Export(a) => secrets::export(&ctx, a).await,
        Command::Import(a) => secrets::import(&ctx, a).await,
        Command::Broker(a) => broker::broker(&ctx, a).await,
        Command::Server(_) | Command::Admin(_) | Command::Openapi => Ok(()),
    }
}

/// Reads a password: the first line of standard input with `--password-stdin`, else a
/// hidden prompt on a terminal.
pub fn read_password(from_stdin: bool, prompt: &str, confirm: bool) -> CliResult<String> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        let line = text.lines().next().unwrap_or("").to_owned();
        if line.is_empty() {
            return Err(Failure::usage("--password-stdin: standard input was empty"));
        }
        return Ok(line);
    }
    if !std::io::stdin().is_terminal() {
        return Err(Failure::usage(
            "no terminal to prompt for a password: pass --password-stdin",
        ));
    }
    let password = rpassword::prompt_password(prompt)?;
    if confirm && rpassword::prompt_password("Repeat it: ")? != password {
        return Err(Failure::usage("the two passwords differ"));
    }
    Ok(password)
}

/// Parses a path argument locally, so a typo fails fast with exit code 2.
pub fn parse_arg<T: std::str::FromStr<Err = strongroom_core::Error>>(s: &str) -> CliResult<T> {
    s.parse::<T>()
        .map_err(|e| Failure::usage(e.message().to_owned()))
}
