//! What a secret carries besides its name: a type, a note, tags and the value itself.
//! Values are zeroized on drop and redacted in debug output.

use crate::error::{Error, ErrorCode};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use zeroize::Zeroizing;

/// Largest secret value, in bytes (a certificate chain fits comfortably).
pub const MAX_VALUE_BYTES: usize = 64 * 1024;
/// Longest note, in characters.
pub const MAX_NOTE_CHARS: usize = 2000;
/// Most tags on one secret.
pub const MAX_TAGS: usize = 32;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 64;

/// The kind of a secret; decides how it is shown and, later, which access rules apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SecretType {
    /// Anything else.
    #[default]
    Generic,
    /// A password.
    Password,
    /// An API key or token for another service.
    ApiKey,
    /// A certificate (PEM).
    Certificate,
    /// An SSH private key.
    SshKey,
    /// A database or service connection string.
    ConnectionString,
}

impl SecretType {
    /// Every type, in display order.
    pub const ALL: [SecretType; 6] = [
        Self::Generic,
        Self::Password,
        Self::ApiKey,
        Self::Certificate,
        Self::SshKey,
        Self::ConnectionString,
    ];

    /// The wire and storage form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Generic => "generic",
            Self::Password => "password",
            Self::ApiKey => "api_key",
            Self::Certificate => "certificate",
            Self::SshKey => "ssh_key",
            Self::ConnectionString => "connection_string",
        }
    }
}

impl FromStr for SecretType {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Self::ALL
            .into_iter()
            .find(|t| t.as_str() == s)
            .ok_or_else(|| {
                let names: Vec<&str> = Self::ALL.iter().map(|t| t.as_str()).collect();
                Error::new(
                    ErrorCode::InvalidValue,
                    format!("unknown secret type; use one of: {}", names.join(", ")),
                )
            })
    }
}

impl fmt::Display for SecretType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A free-text note: at most 2000 characters, no control characters but newline and tab.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Note(String);

impl Note {
    /// Checks a note.
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.chars().count() > MAX_NOTE_CHARS {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("note is longer than {MAX_NOTE_CHARS} characters"),
            ));
        }
        if s.chars().any(|c| c.is_control() && c != '\n' && c != '\t') {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                "note must not contain control characters other than newline and tab",
            ));
        }
        Ok(Self(s.to_owned()))
    }

    /// The note text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts a note read back from storage.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

/// Tags: at most 32, each 1–64 characters of letters, digits and `-_.:=`; kept sorted and
/// without duplicates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Tags(Vec<String>);

impl Tags {
    /// Checks, sorts and de-duplicates tags.
    pub fn parse(tags: &[String]) -> Result<Self, Error> {
        if tags.len() > MAX_TAGS {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("a secret may have at most {MAX_TAGS} tags"),
            ));
        }
        for tag in tags {
            let ok = !tag.is_empty()
                && tag.chars().count() <= MAX_TAG_CHARS
                && tag
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-_.:=".contains(c));
            if !ok {
                return Err(Error::new(
                    ErrorCode::InvalidValue,
                    format!(
                        "tag must be 1 to {MAX_TAG_CHARS} characters of letters, digits and -_.:="
                    ),
                ));
            }
        }
        let mut sorted = tags.to_vec();
        sorted.sort();
        sorted.dedup();
        Ok(Self(sorted))
    }

    /// The tags, sorted.
    pub fn as_slice(&self) -> &[String] {
        &self.0
    }

    /// Accepts tags read back from storage.
    pub fn from_trusted(tags: Vec<String>) -> Self {
        Self(tags)
    }
}

/// A plaintext secret value. Zeroized on drop, never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretValue(Zeroizing<String>);

impl SecretValue {
    /// Checks the size of a value (at most 64 KiB).
    pub fn new(value: String) -> Result<Self, Error> {
        let value = Zeroizing::new(value);
        if value.len() > MAX_VALUE_BYTES {
            return Err(Error::new(
                ErrorCode::InvalidValue,
                format!("secret value is larger than {MAX_VALUE_BYTES} bytes"),
            ));
        }
        Ok(Self(value))
    }

    /// Wraps a value that came out of decryption; it was size-checked when written.
    pub fn from_decrypted(value: String) -> Self {
        Self(Zeroizing::new(value))
    }

    /// The plaintext. Call only where the value must leave: encryption or the response.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretValue(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_types_round_trip_through_their_names() {
        for t in SecretType::ALL {
            assert_eq!(t.as_str().parse::<SecretType>().ok(), Some(t));
        }
        assert!("nuclear_codes".parse::<SecretType>().is_err());
    }

    #[test]
    fn notes_refuse_control_characters_but_keep_newlines() {
        assert!(Note::parse("line one\nline two\tok").is_ok());
        assert!(Note::parse("bell\u{7}").is_err());
        assert!(Note::parse(&"n".repeat(MAX_NOTE_CHARS + 1)).is_err());
    }

    #[test]
    fn tags_are_sorted_and_deduplicated() {
        let tags = Tags::parse(&["b".into(), "a".into(), "b".into()]).unwrap_or_default();
        assert_eq!(tags.as_slice(), ["a", "b"]);
        assert!(Tags::parse(&["has space".into()]).is_err());
        assert!(Tags::parse(&vec!["t".to_owned(); MAX_TAGS + 1]).is_err());
    }

    #[test]
    fn values_over_the_size_limit_are_refused() {
        assert!(SecretValue::new("v".repeat(MAX_VALUE_BYTES)).is_ok());
        assert_eq!(
            SecretValue::new("v".repeat(MAX_VALUE_BYTES + 1))
                .err()
                .map(|e| e.code()),
            Some(ErrorCode::InvalidValue)
        );
    }

    #[test]
    fn values_never_appear_in_debug_output() {
        let v = SecretValue::new("sk_live_123".into()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{v:?}").contains("sk_live"));
    }
}
