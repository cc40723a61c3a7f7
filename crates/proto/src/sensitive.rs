//! A string that must not leak: serialized as a plain JSON string, but printed as
//! `<redacted>` and zeroized when dropped.

use serde::{Deserialize, Serialize};
use std::fmt;
use zeroize::Zeroize;

/// A secret string on the wire (password, token, value).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct Sensitive(String);

impl Sensitive {
    /// Wraps a secret string.
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }

    /// The secret, for the one place that must use it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Takes the string out (the caller becomes responsible for it).
    pub fn into_inner(mut self) -> String {
        std::mem::take(&mut self.0)
    }
}

impl Drop for Sensitive {
    fn drop(&mut self) {
        self.0.zeroize();
    }
}

impl fmt::Debug for Sensitive {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl From<String> for Sensitive {
    fn from(s: String) -> Self {
        Self(s)
    }
}

impl From<&str> for Sensitive {
    fn from(s: &str) -> Self {
        Self(s.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sensitive_strings_serialize_plainly_but_never_debug_print() {
        let s = Sensitive::new("hunter2");
        assert_eq!(
            serde_json::to_string(&s).ok().as_deref(),
            Some("\"hunter2\"")
        );
        assert_eq!(format!("{s:?}"), "<redacted>");
    }
}
