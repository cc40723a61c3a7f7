//! Opaque identifiers such as `vault_…`. Each kind has its own type and prefix, so an id
//! of one kind can never be passed where another is expected.

use crate::error::{Error, ErrorCode};
use std::fmt;

const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
/// Characters after the prefix: 128 random bits in base32.
const BODY_LEN: usize = 26;

fn encode_base32(bytes: &[u8; 16]) -> String {
    let mut out = String::with_capacity(BODY_LEN);
    let mut buffer: u32 = 0;
    let mut bits = 0;
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn is_valid(s: &str, prefix: &str) -> bool {
    s.strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('_'))
        .is_some_and(|body| body.len() == BODY_LEN && body.bytes().all(|b| ALPHABET.contains(&b)))
}

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            /// The prefix before the underscore.
            pub const PREFIX: &'static str = $prefix;

            /// A new id from 16 random bytes (the caller supplies the randomness).
            pub fn from_random(bytes: [u8; 16]) -> Self {
                Self(format!("{}_{}", $prefix, encode_base32(&bytes)))
            }

            /// The id as text.
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// Accepts an id read back from storage without re-checking it.
            pub fn from_trusted(s: String) -> Self {
                Self(s)
            }
        }

        impl std::str::FromStr for $name {
            type Err = Error;
            fn from_str(s: &str) -> Result<Self, Error> {
                if is_valid(s, $prefix) {
                    Ok(Self(s.to_owned()))
                } else {
                    Err(Error::new(
                        ErrorCode::InvalidRequest,
                        format!("not a valid {} id (expected {}_…)", $prefix, $prefix),
                    ))
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

id_type!(
    /// A user account.
    UserId,
    "usr"
);
id_type!(
    /// A vault: a user's personal vault or an organization. Never changes.
    VaultId,
    "vault"
);
id_type!(
    /// A sign-in session.
    SessionId,
    "sess"
);
id_type!(
    /// An application inside a vault.
    ApplicationId,
    "app"
);
id_type!(
    /// A project inside an application; owns one data key.
    ProjectId,
    "prj"
);
id_type!(
    /// An environment inside a project.
    EnvironmentId,
    "env"
);
id_type!(
    /// A secret (all of its versions).
    SecretId,
    "sec"
);
id_type!(
    /// An invitation of an email address into an organization.
    InviteId,
    "inv"
);
id_type!(
    /// An access role of a vault.
    AccessRoleId,
    "arole"
);
id_type!(
    /// A custom vault role (a row of the management matrix authored on enterprise plans).
    VaultRoleId,
    "vrole"
);
id_type!(
    /// A machine: a workload identified by its Ed25519 public key.
    MachineId,
    "mach"
);
id_type!(
    /// A token for an AI agent or a CI job (its secret is stored only hashed).
    TokenId,
    "tok"
);
id_type!(
    /// An access policy: conditions on a machine's or token's access.
    PolicyId,
    "pol"
);
id_type!(
    /// A shareable invite link (its token is separate and stored only hashed).
    InviteLinkId,
    "link"
);
id_type!(
    /// A wrapped data key.
    DataKeyId,
    "dk"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_carry_their_prefix_and_128_random_bits() {
        let id = VaultId::from_random([0xff; 16]);
        assert!(id.as_str().starts_with("vault_"));
        assert_eq!(id.as_str().len(), "vault_".len() + BODY_LEN);
        assert_eq!(id.as_str().parse::<VaultId>().ok(), Some(id));
    }

    #[test]
    fn an_id_of_another_kind_does_not_parse() {
        let user = UserId::from_random([7; 16]);
        assert!(user.as_str().parse::<VaultId>().is_err());
    }

    #[test]
    fn malformed_ids_are_refused() {
        for bad in [
            "",
            "vault_",
            "vault_../../etc",
            "vault_AAAAAAAAAAAAAAAAAAAAAAAAAA",
            "vaultx",
        ] {
            assert!(bad.parse::<VaultId>().is_err(), "{bad}");
        }
    }
}
id_type!(
    /// An alert rule: which audit entries to send where.
    AlertRuleId,
    "alert"
);
id_type!(
    /// One delivery of one alert (its id lets a receiver drop repeats).
    AlertDeliveryId,
    "dlv"
);
id_type!(
    /// An AppRole secret id issued to a machine (the id, not the secret).
    ApproleSecretId,
    "ars"
);
id_type!(
    /// One AppRole login: the short-lived token a machine got with a secret id.
    MachineLoginId,
    "mlog"
);
