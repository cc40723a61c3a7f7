//! Opaque pagination cursors. A cursor names the list it belongs to, so a cursor from one
//! list given to another, or one that was altered, is refused with `invalid_cursor`.
//! Forging one gains nothing: every list query is scoped to the caller's vault anyway.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use strongroom_core::{Error, ErrorCode};

const MAX_CURSOR_LEN: usize = 1024;

fn invalid() -> Error {
    Error::new(
        ErrorCode::InvalidCursor,
        "invalid cursor: pass back next_cursor from the previous page unchanged",
    )
}

/// Encodes the sort key `after` for list `list`.
pub fn encode(list: &str, after: &str) -> String {
    URL_SAFE_NO_PAD.encode(format!("{list}\n{after}"))
}

/// Decodes a cursor of list `list` back into its sort key.
pub fn decode(list: &str, cursor: &str) -> Result<String, Error> {
    if cursor.len() > MAX_CURSOR_LEN {
        return Err(invalid());
    }
    let bytes = URL_SAFE_NO_PAD.decode(cursor).map_err(|_| invalid())?;
    let text = String::from_utf8(bytes).map_err(|_| invalid())?;
    let (kind, after) = text.split_once('\n').ok_or_else(invalid)?;
    if kind != list || after.is_empty() || after.chars().any(char::is_control) {
        return Err(invalid());
    }
    Ok(after.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_round_trips_within_its_list() {
        let c = encode("apps", "billing");
        assert_eq!(decode("apps", &c).ok().as_deref(), Some("billing"));
    }

    #[test]
    fn a_cursor_from_another_list_or_altered_is_refused() {
        let c = encode("apps", "billing");
        assert!(decode("secrets", &c).is_err());
        assert!(decode("apps", "!!!").is_err());
        assert!(decode("apps", &format!("{c}x")).is_err());
        assert!(decode("apps", &"A".repeat(5000)).is_err());
    }
}
