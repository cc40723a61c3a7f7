//! `strongroom`: one binary that runs the server and talks to it.
#![forbid(unsafe_code)]

mod args;
mod commands;
mod failure;
mod output;
mod state;

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = args::Cli::parse();
    let json_mode = cli.json;
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(failure::exit::ERROR);
        }
    };
    match runtime.block_on(commands::dispatch(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) if failure.message.is_empty() => ExitCode::from(failure.exit_code),
        Err(failure) => {
            if json_mode {
                let body = serde_json::json!({"error": {
                    "code": failure.code.as_deref().unwrap_or("cli_error"),
                    "message": failure.message,
                }});
                eprintln!("{body}");
            } else {
                eprintln!("error: {}", failure.message);
                if let Some(hint) = &failure.hint {
                    eprintln!("hint: {hint}");
                }
            }
            ExitCode::from(failure.exit_code)
        }
    }
}
