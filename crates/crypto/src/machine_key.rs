//! Machine identities: Ed25519 keypairs kept in the OpenSSH formats, so that a key made
//! by `ssh-keygen -t ed25519` works as well as one made by `strongroom machines keygen`.
//! The private key stays on the machine; the server stores only the public key.

use crate::random::random_bytes;
use ed25519_dalek::{Signature, SigningKey, VerifyingKey};
use ssh_key::private::{Ed25519Keypair, Ed25519PrivateKey, KeypairData};
use ssh_key::public::{Ed25519PublicKey, KeyData};
use ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey};
use std::fmt;
use strongroom_core::{Error, ErrorCode};
use zeroize::Zeroizing;

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidValue, message.into())
}

/// A machine's private key. Its debug output never shows the key.
pub struct MachineKey {
    signing: SigningKey,
}

impl fmt::Debug for MachineKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MachineKey")
            .field("public", &self.public().fingerprint())
            .finish_non_exhaustive()
    }
}

impl MachineKey {
    /// A new key from the operating system's random source.
    pub fn generate() -> Result<Self, Error> {
        let seed = Zeroizing::new(random_bytes::<32>()?);
        Ok(Self {
            signing: SigningKey::from_bytes(&seed),
        })
    }

    /// Reads an unencrypted OpenSSH Ed25519 private key file's text.
    pub fn from_openssh(text: &str) -> Result<Self, Error> {
        let key = PrivateKey::from_openssh(text.trim()).map_err(|_| {
            invalid("not an OpenSSH private key (make one with `strongroom machines keygen`)")
        })?;
        if key.is_encrypted() {
            return Err(invalid(
                "the private key is passphrase-protected; a machine key must be usable \
                 unattended (`ssh-keygen -t ed25519 -N ''`)",
            ));
        }
        match key.key_data() {
            KeypairData::Ed25519(pair) => Ok(Self {
                signing: SigningKey::from_bytes(&pair.private.to_bytes()),
            }),
            _ => Err(invalid(
                "a machine key must be Ed25519 (`ssh-keygen -t ed25519`)",
            )),
        }
    }

    /// The key in the OpenSSH private key format, for a file of mode 0600.
    pub fn to_openssh(&self, comment: &str) -> Result<Zeroizing<String>, Error> {
        let pair = Ed25519Keypair {
            public: Ed25519PublicKey(self.signing.verifying_key().to_bytes()),
            private: Ed25519PrivateKey::from_bytes(&self.signing.to_bytes()),
        };
        PrivateKey::new(KeypairData::Ed25519(pair), comment)
            .and_then(|key| key.to_openssh(LineEnding::LF))
            .map_err(|e| Error::internal(format!("encoding a machine key: {e}")))
    }

    /// The public half, which is what gets registered.
    pub fn public(&self) -> MachinePublicKey {
        MachinePublicKey(self.signing.verifying_key().to_bytes())
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 64] {
        use ed25519_dalek::Signer;
        self.signing.sign(message).to_bytes()
    }
}

/// A machine's public key.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct MachinePublicKey([u8; 32]);

impl fmt::Debug for MachinePublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fingerprint())
    }
}

impl MachinePublicKey {
    /// Reads an OpenSSH public key line (`ssh-ed25519 AAAA… comment`).
    pub fn parse(text: &str) -> Result<Self, Error> {
        let key = PublicKey::from_openssh(text.trim()).map_err(|_| {
            invalid(
                "not an OpenSSH public key: expected a line like `ssh-ed25519 AAAA… comment` \
                 (`strongroom machines keygen` prints one)",
            )
        })?;
        match key.key_data() {
            KeyData::Ed25519(public) => Self::from_bytes(&public.0),
            _ => Err(invalid(
                "a machine key must be Ed25519 (`ssh-keygen -t ed25519`)",
            )),
        }
    }

    /// The key from its 32 raw bytes, refusing points that are not valid keys.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        let bytes: [u8; 32] = bytes
            .try_into()
            .map_err(|_| invalid("an Ed25519 public key is 32 bytes"))?;
        let key = VerifyingKey::from_bytes(&bytes)
            .map_err(|_| invalid("not a valid Ed25519 public key"))?;
        if key.is_weak() {
            return Err(invalid("a weak Ed25519 public key is refused"));
        }
        Ok(Self(bytes))
    }

    /// The raw bytes, as stored.
    pub fn to_bytes(self) -> [u8; 32] {
        self.0
    }

    /// The OpenSSH public key line.
    pub fn to_openssh(self, comment: &str) -> String {
        PublicKey::new(KeyData::Ed25519(Ed25519PublicKey(self.0)), comment)
            .to_openssh()
            .unwrap_or_default()
    }

    /// The OpenSSH SHA-256 fingerprint (`SHA256:…`), which names the key in lists and
    /// signed requests.
    pub fn fingerprint(self) -> String {
        PublicKey::new(KeyData::Ed25519(Ed25519PublicKey(self.0)), "")
            .fingerprint(HashAlg::Sha256)
            .to_string()
    }

    /// Whether `signature` is this key's over `message` (strict verification: no
    /// malleable or small-order signatures).
    pub fn verify(self, message: &[u8], signature: &[u8]) -> bool {
        let (Ok(key), Ok(signature)) = (
            VerifyingKey::from_bytes(&self.0),
            Signature::from_slice(signature),
        ) else {
            return false;
        };
        key.verify_strict(message, &signature).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> MachineKey {
        MachineKey::generate().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_generated_key_round_trips_through_the_openssh_formats() {
        let key = key();
        let text = key.to_openssh("ci@build").unwrap_or_else(|e| panic!("{e}"));
        assert!(text.starts_with("-----BEGIN OPENSSH PRIVATE KEY-----"));
        let read = MachineKey::from_openssh(&text).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read.public(), key.public());
        let line = key.public().to_openssh("ci@build");
        assert!(line.starts_with("ssh-ed25519 AAAA") && line.ends_with(" ci@build"));
        assert_eq!(MachinePublicKey::parse(&line).ok(), Some(key.public()));
    }

    /// A throwaway key made by `ssh-keygen -t ed25519 -N '' -C test@example`, with the
    /// fingerprint `ssh-keygen -lf` printed for it.
    const SSH_KEYGEN_PRIVATE: &str = "-----BEGIN OPENSSH PRIVATE KEY-----
b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW
QyNTUxOQAAACDC2TRxi56ezgob4Y4AKF4egH7Kl2Qxdq32ASp+LB3WewAAAJDw5Guj8ORr
owAAAAtzc2gtZWQyNTUxOQAAACDC2TRxi56ezgob4Y4AKF4egH7Kl2Qxdq32ASp+LB3Wew
AAAEAYVZNKzHGI9Bh0mib9WcTQUhDxnitXlxMxi+qCenttf8LZNHGLnp7OChvhjgAoXh6A
fsqXZDF2rfYBKn4sHdZ7AAAADHRlc3RAZXhhbXBsZQE=
-----END OPENSSH PRIVATE KEY-----
";
    const SSH_KEYGEN_PUBLIC: &str = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIMLZNHGLnp7OChvhjgAoXh6AfsqXZDF2rfYBKn4sHdZ7 test@example";

    #[test]
    fn a_key_made_by_ssh_keygen_is_read_as_openssh_reads_it() {
        let key = MachineKey::from_openssh(SSH_KEYGEN_PRIVATE).unwrap_or_else(|e| panic!("{e}"));
        let public = MachinePublicKey::parse(SSH_KEYGEN_PUBLIC).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(key.public(), public);
        assert_eq!(
            public.fingerprint(),
            "SHA256:4Yfpg69r8YDR4g8OdP19dK+YeL21so8HOqdtKZC45u4"
        );
    }

    #[test]
    fn signatures_verify_only_for_their_key_and_message() {
        let (a, b) = (key(), key());
        let signature = a.sign(b"GET /api/v1/secrets");
        assert!(a.public().verify(b"GET /api/v1/secrets", &signature));
        assert!(!a.public().verify(b"GET /api/v1/secretz", &signature));
        assert!(!b.public().verify(b"GET /api/v1/secrets", &signature));
        assert!(!a.public().verify(b"GET /api/v1/secrets", &signature[..63]));
    }

    #[test]
    fn the_fingerprint_is_openssh_sha256() {
        let fingerprint = key().public().fingerprint();
        assert!(
            fingerprint.starts_with("SHA256:") && fingerprint.len() == 50,
            "{fingerprint}"
        );
    }

    #[test]
    fn other_key_types_and_garbage_are_refused_with_a_hint() {
        let rsa = "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAAAgQDYEcjFXQ7pm3C8vH0TI9Q7rz9vl6a3l8Da+eY6y2Ctx2Rd4J0S2J5nWf6y8C2x9xRdbG3y4Z5aQxYRqkJ+mHcR4c3m8bXm2Y8n6C4v3N6Q2V1M4k8wz5Lq9cXk2n3oQ7H6d2v8J1y3h4K5m6N7p8Q9r0S1t2U3v4W5x6Y7z8A9b0C1d2E3f4G5h6I7j8K9l0M1n2O3p4Q5 test";
        assert!(MachinePublicKey::parse(rsa).is_err());
        for garbage in ["", "ssh-ed25519", "ssh-ed25519 !!!", "hello"] {
            let err = MachinePublicKey::parse(garbage).err();
            assert!(
                err.is_some_and(|e| e.to_string().contains("OpenSSH public key")),
                "{garbage}"
            );
        }
        assert!(MachineKey::from_openssh("not a key").is_err());
        assert!(MachinePublicKey::from_bytes(&[0u8; 32]).is_err());
    }

    #[test]
    fn debug_output_never_shows_the_private_key() {
        let key = key();
        let shown = format!("{key:?}");
        let text = key.to_openssh("").unwrap_or_else(|e| panic!("{e}"));
        let body: String = text
            .lines()
            .nth(1)
            .unwrap_or_default()
            .chars()
            .take(20)
            .collect();
        assert!(shown.contains("SHA256:") && !shown.contains(&body));
    }
}
