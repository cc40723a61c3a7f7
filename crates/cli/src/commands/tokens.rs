//! `strongroom tokens`: agent and CI tokens, created (the secret shown once), listed and
//! revoked by members who hold the kind's cell.

use super::Ctx;
use super::org::parse_hours;
use crate::args::TokensCommand;
use crate::failure::CliResult;
use crate::output;
use strongroom_proto::{CreateTokenRequest, TokenInfo};

fn print_tokens(tokens: Vec<TokenInfo>) {
    output::table(
        &[
            "NAME",
            "KIND",
            "SCOPE",
            "VERBS",
            "FROM",
            "EXPIRES",
            "STATUS",
            "CREATED BY",
        ],
        tokens
            .into_iter()
            .map(|t| {
                vec![
                    t.name,
                    t.kind,
                    t.scopes.join(" "),
                    t.verbs.join(","),
                    if t.cidrs.is_empty() {
                        "anywhere".into()
                    } else {
                        t.cidrs.join(" ")
                    },
                    t.expires_at.unwrap_or_else(|| "never".into()),
                    t.status,
                    t.created_by,
                ]
            })
            .collect(),
    );
}

pub async fn tokens(ctx: &Ctx, command: TokensCommand) -> CliResult {
    let client = ctx.client()?;
    match command {
        TokensCommand::Create {
            name,
            kind,
            scopes,
            verbs,
            expires,
            cidrs,
        } => {
            let verbs = if verbs.is_empty() {
                let default = if kind == "agent" { "use" } else { "reveal" };
                vec!["read".to_owned(), default.to_owned()]
            } else {
                verbs
            };
            let created = client
                .create_token(&CreateTokenRequest {
                    name,
                    kind,
                    scopes,
                    verbs,
                    expires_in_hours: expires.as_deref().map(parse_hours).transpose()?,
                    cidrs,
                })
                .await?;
            if ctx.json {
                return output::json(&serde_json::json!({
                    "token": created.token,
                    "secret": created.secret.expose(),
                }));
            }
            println!("{}", created.secret.expose());
            eprintln!(
                "Created {} token {} ({}; {}). This is the only time it is shown: store it \
                 now, and give it to the {} as STRONGROOM_TOKEN.",
                created.token.kind,
                created.token.name,
                created.token.scopes.join(" "),
                created.token.verbs.join(","),
                if created.token.kind == "agent" {
                    "agent (or to `strongroom broker`)"
                } else {
                    "CI job"
                }
            );
        }
        TokensCommand::List => {
            let tokens = client.tokens().await?;
            if ctx.json {
                return output::json(&tokens);
            }
            print_tokens(tokens);
        }
        TokensCommand::Revoke { name_or_id } => {
            let revoked = client.revoke_token(&name_or_id).await?;
            if ctx.json {
                return output::json(&revoked);
            }
            println!(
                "Revoked token {}: its next request is refused, on every server node.",
                revoked.name
            );
        }
    }
    Ok(())
}
