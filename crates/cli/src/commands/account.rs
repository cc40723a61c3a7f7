//! Account commands: signup, login, logout, whoami, step-up, passwd, sessions, TOTP,
//! email verification and change.

use super::{Ctx, read_password};
use crate::args::{
    ChangeEmailArgs, LoginArgs, PasswdArgs, SessionsCommand, SignupArgs, StepUpArgs, TotpCommand,
    VerifyEmailArgs,
};
use crate::failure::CliResult;
use crate::output::{self, say};
use crate::state::SavedConfig;
use strongroom_proto::{
    ChangePasswordRequest, LoginRequest, LoginResponse, Sensitive, SignupRequest, StepUpRequest,
};

/// Saves the server and the session token, so later commands are signed in.
fn remember(ctx: &Ctx, server: &str, response: &LoginResponse) -> CliResult {
    let mut config = ctx.state.config()?;
    if config.server.as_deref() != Some(server) {
        config = SavedConfig {
            server: Some(server.to_owned()),
            ..config
        };
        ctx.state.save_config(&config)?;
    }
    ctx.state.save_token(response.token.expose())
}

fn signed_in_json(response: &LoginResponse) -> serde_json::Value {
    serde_json::json!({"user": response.user, "session": response.session})
}

pub async fn signup(ctx: &Ctx, args: SignupArgs) -> CliResult {
    let server = ctx.state.server(ctx.server_flag.as_deref())?;
    let password = read_password(args.password_stdin, "Choose a password: ", true)?;
    let client = ctx.state.anonymous_client(&server)?;
    let response = client
        .signup(&SignupRequest {
            username: args.username,
            email: args.email,
            password: Sensitive::new(password),
        })
        .await?;
    remember(ctx, &server, &response)?;
    if ctx.json {
        return output::json(&signed_in_json(&response));
    }
    println!(
        "Created account {} with personal vault {}; signed in to {server}.",
        response.user.username, response.user.personal_vault_id
    );
    println!(
        "A verification code was sent to {}: enter it with `strongroom verify-email CODE`.",
        response.user.email
    );
    println!("Next: `strongroom apps create NAME`, or turn on TOTP with `strongroom totp enroll`.");
    Ok(())
}

pub async fn login(ctx: &Ctx, args: LoginArgs) -> CliResult {
    let server = ctx.state.server(ctx.server_flag.as_deref())?;
    let password = read_password(args.password_stdin, "Password: ", false)?;
    let client = ctx.state.anonymous_client(&server)?;
    let response = client
        .login(&LoginRequest {
            username: args.username,
            password: Sensitive::new(password),
            totp_code: args.totp,
            recovery_code: args.recovery_code.map(Sensitive::new),
        })
        .await?;
    remember(ctx, &server, &response)?;
    if ctx.json {
        return output::json(&signed_in_json(&response));
    }
    println!("Signed in to {server} as {}.", response.user.username);
    Ok(())
}

pub async fn logout(ctx: &Ctx) -> CliResult {
    let result = ctx.client()?.logout().await;
    ctx.state.clear_token()?;
    match result {
        Err(e) if e.code() != Some("unauthenticated") => return Err(e.into()),
        _ => {}
    }
    if ctx.json {
        return output::json(&serde_json::json!({"signed_out": true}));
    }
    println!("Signed out.");
    Ok(())
}

pub async fn whoami(ctx: &Ctx) -> CliResult {
    let me = ctx.client()?.whoami().await?;
    if ctx.json {
        return output::json(&me);
    }
    println!(
        "{} <{}>{}",
        me.user.username,
        me.user.email,
        if me.user.email_verified {
            ""
        } else {
            " (unverified: `strongroom verify-email CODE`)"
        }
    );
    println!(
        "  vault    {} ({}, {}) as {}",
        me.vault.name, me.vault.kind, me.vault.id, me.vault.role
    );
    println!(
        "  TOTP     {}",
        if me.user.totp_enabled { "on" } else { "off" }
    );
    println!(
        "  session  {} until {}",
        me.session.id, me.session.expires_at
    );
    Ok(())
}

pub async fn step_up(ctx: &Ctx, args: StepUpArgs) -> CliResult {
    let password = read_password(args.password_stdin, "Password: ", false)?;
    let response = ctx
        .client()?
        .step_up(&StepUpRequest {
            password: Sensitive::new(password),
            totp_code: args.totp,
        })
        .await?;
    if ctx.json {
        return output::json(&response);
    }
    println!(
        "Re-authenticated: sensitive actions are allowed until {}.",
        response.valid_until
    );
    Ok(())
}

pub async fn passwd(ctx: &Ctx, args: PasswdArgs) -> CliResult {
    let password = read_password(args.password_stdin, "New password: ", true)?;
    ctx.client()?
        .change_password(&ChangePasswordRequest {
            new_password: Sensitive::new(password),
        })
        .await?;
    if ctx.json {
        return output::json(&serde_json::json!({"password_changed": true}));
    }
    println!("Password changed; your other sessions were signed out.");
    Ok(())
}

pub async fn sessions(ctx: &Ctx, command: SessionsCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        SessionsCommand::List => {
            let sessions = client.sessions().await?;
            if ctx.json {
                return output::json(&sessions);
            }
            output::table(
                &["ID", "SIGNED IN", "LAST SEEN", "FROM", "CLIENT", ""],
                sessions
                    .into_iter()
                    .map(|s| {
                        vec![
                            s.id,
                            s.created_at,
                            s.last_seen_at,
                            s.ip,
                            s.user_agent,
                            if s.current {
                                "current".into()
                            } else {
                                String::new()
                            },
                        ]
                    })
                    .collect(),
            );
        }
        SessionsCommand::Revoke { id } => {
            client.revoke_session(&id).await?;
            if ctx.json {
                return output::json(&serde_json::json!({"revoked": id}));
            }
            say(ctx.json, format!("Revoked session {id}."));
        }
    }
    Ok(())
}

pub async fn totp(ctx: &Ctx, command: TotpCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        TotpCommand::Enroll => {
            let enrollment = client.totp_begin().await?;
            if ctx.json {
                return output::json(&enrollment);
            }
            println!("Add this account to your authenticator app:");
            println!("  secret  {}", enrollment.secret_base32.expose());
            println!("  URL     {}", enrollment.otpauth_url.expose());
            println!("Then finish with: strongroom totp confirm CODE");
        }
        TotpCommand::Confirm { code } => {
            let codes = client.totp_confirm(&code).await?;
            print_recovery_codes(ctx, &codes, "TOTP is on.")?;
        }
        TotpCommand::Disable => {
            client.totp_disable().await?;
            if ctx.json {
                return output::json(&serde_json::json!({"totp_enabled": false}));
            }
            println!("TOTP is off; your recovery codes were deleted.");
        }
        TotpCommand::RecoveryCodes => {
            let codes = client.regenerate_recovery_codes().await?;
            print_recovery_codes(
                ctx,
                &codes,
                "New recovery codes; the old ones no longer work.",
            )?;
        }
    }
    Ok(())
}

fn print_recovery_codes(
    ctx: &Ctx,
    codes: &strongroom_proto::RecoveryCodes,
    headline: &str,
) -> CliResult {
    if ctx.json {
        return output::json(codes);
    }
    println!(
        "{headline} Keep these recovery codes somewhere safe; each works once, and they are not shown again:"
    );
    for code in &codes.codes {
        println!("  {}", code.expose());
    }
    Ok(())
}

pub async fn verify_email(ctx: &Ctx, args: VerifyEmailArgs) -> CliResult {
    let client = ctx.client()?;
    if args.resend {
        client.resend_verification().await?;
        if ctx.json {
            return output::json(&serde_json::json!({"code_sent": true}));
        }
        println!(
            "A new code is on its way to your email address (without SMTP, the server prints it on its console)."
        );
        return Ok(());
    }
    let code = args.code.unwrap_or_default();
    let user = client.verify_email(&code).await?;
    if ctx.json {
        return output::json(&user);
    }
    println!(
        "Verified {}. Invites to it can now be accepted: `strongroom invites list`.",
        user.email
    );
    Ok(())
}

pub async fn change_email(ctx: &Ctx, args: ChangeEmailArgs) -> CliResult {
    let client = ctx.client()?;
    super::org::step_up(&client, &args.step_up).await?;
    let user = client.change_email(&args.email).await?;
    if ctx.json {
        return output::json(&user);
    }
    println!("Your email address is now {} (unverified).", user.email);
    println!("Enter the code sent to it with `strongroom verify-email CODE`.");
    Ok(())
}
