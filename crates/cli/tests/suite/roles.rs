//! Vault roles: the management matrix of the built-in roles, and who may see it.

use crate::{expect_code, ok};
use strongroom_testkit::TestApp;

async fn roles_are_listed_to_those_who_may_view_them(app: TestApp) {
    let alice = app.signup("alice").await;
    let (_, members) = app
        .organization(&alice, "acme", &[("adm", "admin"), ("dev", "developer")])
        .await;
    let roles = ok(alice.client.roles().await);
    let names: Vec<&str> = roles.iter().map(|r| r.name.as_str()).collect();
    assert_eq!(names, vec!["owner", "admin", "developer", "collaborator"]);
    assert!(!roles[0].assignable && roles[1..].iter().all(|r| r.assignable));
    assert_eq!(
        ok(members[0].client.role("developer").await)
            .capabilities
            .len(),
        7
    );
    expect_code(members[0].client.role("nope").await, "not_found");
    expect_code(members[1].client.roles().await, "permission_denied");
}

crate::on_both_backends!(roles_are_listed_to_those_who_may_view_them);

#[test]
fn the_built_in_matrix_is_printed_without_a_server() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(["roles", "show", "collaborator", "--json"])
        .env("STRONGROOM_CONFIG_DIR", "/nonexistent/strongroom-test")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let role: serde_json::Value =
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        role["capabilities"],
        serde_json::json!(["overview", "audit.view_own"])
    );
    let table = std::process::Command::new(env!("CARGO_BIN_EXE_strongroom"))
        .args(["roles", "show", "owner"])
        .env("STRONGROOM_CONFIG_DIR", "/nonexistent/strongroom-test")
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&table.stdout);
    assert!(
        text.contains("organization.transfer") && text.contains("not assignable"),
        "{text}"
    );
}
