//! Account fields: usernames, email addresses and passwords, each validated once at the
//! edge. Passwords are zeroized on drop and never printed.

use crate::error::{Error, ErrorCode};
use std::fmt;
use zeroize::Zeroizing;

/// Shortest accepted password, in characters.
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longest accepted password, in bytes: bounds the work argon2 does per sign-in.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// A username: 2–32 characters, lowercase letters, digits, `.`, `-`, `_`, starting with a
/// letter or digit. Input is lowercased first, so `Alice` and `alice` are one account.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    /// Parses and normalizes a username.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let s = input.to_ascii_lowercase();
        let invalid = |why: &str| Error::new(ErrorCode::InvalidAccount, format!("username {why}"));
        if s.len() < 2 || s.len() > 32 {
            return Err(invalid("must be 2 to 32 characters long"));
        }
        if !s
            .chars()
            .all(|c| matches!(c, 'a'..='z' | '0'..='9' | '.' | '-' | '_'))
        {
            return Err(invalid(
                "may contain only letters, digits, '.', '-' and '_'",
            ));
        }
        if !s.starts_with(|c: char| c.is_ascii_alphanumeric()) || s.contains("..") {
            return Err(invalid(
                "must start with a letter or digit and not contain '..'",
            ));
        }
        Ok(Self(s))
    }

    /// The normalized username.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts a username read back from storage.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// An email address, kept as typed; [`Email::key`] is the lowercase form used for
/// uniqueness.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Checks the shape `local@domain.tld`, at most 254 characters, no spaces or controls.
    pub fn parse(input: &str) -> Result<Self, Error> {
        let invalid = || {
            Error::new(
                ErrorCode::InvalidAccount,
                "email address must look like name@example.com (at most 254 characters)",
            )
        };
        if input.len() > 254 || input.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = input.rsplit_once('@').ok_or_else(invalid)?;
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..");
        if local.is_empty() || local.contains('@') || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(input.to_owned()))
    }

    /// The address as typed.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The lowercase form that decides whether two addresses are the same.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }

    /// Accepts an address read back from storage.
    pub fn from_trusted(s: String) -> Self {
        Self(s)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

/// A password in memory: zeroized on drop, redacted in debug output.
#[derive(Clone)]
pub struct Password(Zeroizing<String>);

impl Password {
    /// A candidate password for sign-in: only bounded in size, never judged.
    pub fn candidate(input: String) -> Result<Self, Error> {
        let input = Zeroizing::new(input);
        if input.len() > MAX_PASSWORD_BYTES {
            return Err(Error::new(
                ErrorCode::InvalidCredentials,
                "invalid username or password",
            ));
        }
        Ok(Self(input))
    }

    /// A new password chosen at sign-up or change: must meet the rules.
    pub fn new_choice(input: String) -> Result<Self, Error> {
        let input = Zeroizing::new(input);
        let chars = input.chars().count();
        if chars < MIN_PASSWORD_CHARS {
            return Err(Error::new(
                ErrorCode::InvalidPassword,
                format!("password must be at least {MIN_PASSWORD_CHARS} characters long"),
            ));
        }
        if input.len() > MAX_PASSWORD_BYTES {
            return Err(Error::new(
                ErrorCode::InvalidPassword,
                format!("password must be at most {MAX_PASSWORD_BYTES} bytes long"),
            ));
        }
        if input
            .chars()
            .all(|c| c == input.chars().next().unwrap_or(' '))
        {
            return Err(Error::new(
                ErrorCode::InvalidPassword,
                "password must not be one character repeated",
            ));
        }
        Ok(Self(input))
    }

    /// The password, for hashing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_lowercased_and_checked() {
        assert_eq!(
            Username::parse("Alice").map(|u| u.0),
            Ok("alice".to_owned())
        );
        for bad in [
            "a",
            "x".repeat(33).as_str(),
            "bob smith",
            "../root",
            ".bob",
            "böb",
        ] {
            assert!(Username::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn email_addresses_need_a_local_part_and_a_dotted_domain() {
        assert!(Email::parse("Alice@Example.com").is_ok());
        assert_eq!(
            Email::parse("Alice@Example.com").map(|e| e.key()),
            Ok("alice@example.com".into())
        );
        for bad in [
            "alice",
            "@example.com",
            "alice@",
            "alice@localhost",
            "a b@c.d",
            "a@.c",
            "a@c..d",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn new_passwords_must_meet_the_rules() {
        assert_eq!(
            Password::new_choice("short".into()).err().map(|e| e.code()),
            Some(ErrorCode::InvalidPassword)
        );
        assert!(Password::new_choice("aaaaaaaaaaaa".into()).is_err());
        assert!(Password::new_choice("x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
        assert!(Password::new_choice("correct horse battery".into()).is_ok());
    }

    #[test]
    fn passwords_never_appear_in_debug_output() {
        let p = Password::candidate("hunter2hunter2".into()).unwrap_or_else(|e| panic!("{e}"));
        assert!(!format!("{p:?}").contains("hunter2"));
    }
}
