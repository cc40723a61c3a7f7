//! The vault picker and the header's switcher: every vault the member belongs to, with
//! their role there, and a switch that needs no new sign-in.

use super::forms::{SwitchVault, WebForm};
use super::page::{Chrome, WebError, render};
use super::session::Member;
use crate::extract::{ApiJson, ClientMeta};
use crate::routes::vaults;
use crate::state::AppState;
use askama::Template;
use axum::extract::State;
use axum::response::{Html, Redirect};
use strongroom_proto::SwitchVaultRequest;

#[derive(Template)]
#[template(path = "vaults.html")]
struct VaultsPage {
    chrome: Chrome,
}

/// `GET /ui/vaults`.
pub async fn vaults_page(
    State(state): State<AppState>,
    member: Member,
) -> Result<Html<String>, WebError> {
    let chrome = Chrome::of(&state, &member.caller, &member.csrf, "vaults").await?;
    render(&VaultsPage { chrome })
}

/// `POST /ui/vaults/switch`: this session acts in another vault from now on.
pub async fn switch(
    State(state): State<AppState>,
    member: Member,
    meta: ClientMeta,
    WebForm(form): WebForm<SwitchVault>,
) -> Result<Redirect, WebError> {
    vaults::switch_vault(
        State(state),
        member.caller,
        meta,
        ApiJson(SwitchVaultRequest { vault: form.vault }),
    )
    .await?;
    Ok(Redirect::to("/ui/apps"))
}
