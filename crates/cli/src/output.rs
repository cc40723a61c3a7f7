//! Printing: tables and sentences for people, JSON (the API's own shapes) for scripts.

use crate::failure::{CliResult, Failure, exit};
use comfy_table::{ContentArrangement, Table, presets::UTF8_BORDERS_ONLY};
use serde::Serialize;

pub fn json<T: Serialize + ?Sized>(value: &T) -> CliResult {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(exit::ERROR, e.to_string()))?;
    println!("{text}");
    Ok(())
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) {
    if rows.is_empty() {
        println!("(none)");
        return;
    }
    let mut table = Table::new();
    table
        .load_preset(UTF8_BORDERS_ONLY)
        .set_content_arrangement(ContentArrangement::Dynamic)
        .set_header(headers.to_vec());
    for row in rows {
        table.add_row(row);
    }
    println!("{table}");
}

/// A message for people; silent in --json mode, where the caller prints JSON instead.
pub fn say(json_mode: bool, message: impl AsRef<str>) {
    if !json_mode {
        println!("{}", message.as_ref());
    }
}
