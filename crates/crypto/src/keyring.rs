//! Root keys. A root key never encrypts a secret: it only wraps data keys. Keys live in
//! a key file (mode 0600, refused otherwise) that may hold several keys during a
//! rotation; data keys record which root key wrapped them. [`RootKeyProvider`] is the
//! seam where a KMS or HSM can later take the file's place.

use crate::envelope::{Aad, DataKey};
use crate::random::random_bytes;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::Write as _;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use strongroom_core::Error;
use zeroize::Zeroizing;

const FORMAT: &str = "strongroom-root-keyring-v1";

/// Wraps and unwraps data keys under root keys identified by id.
pub trait RootKeyProvider: Send + Sync + fmt::Debug {
    /// The root key that wraps new data keys.
    fn active_key_id(&self) -> String;
    /// Wraps `key` under root key `root_key_id`, bound to `aad`.
    fn wrap(&self, root_key_id: &str, key: &DataKey, aad: &Aad) -> Result<Vec<u8>, Error>;
    /// Unwraps a data key wrapped under `root_key_id` with the same `aad`.
    fn unwrap(&self, root_key_id: &str, wrapped: &[u8], aad: &Aad) -> Result<DataKey, Error>;
}

struct Keys {
    active: String,
    keys: BTreeMap<String, DataKey>,
}

#[derive(Serialize, Deserialize)]
struct KeyFile {
    format: String,
    active: String,
    keys: BTreeMap<String, String>,
}

/// Root keys kept in a file. Another process (`strongroom admin rotate-root-key`) may add
/// keys to the file while a server runs: a server that meets a key id it does not know
/// re-reads the file once before failing.
pub struct FileKeyring {
    path: PathBuf,
    state: RwLock<Arc<Keys>>,
}

impl fmt::Debug for FileKeyring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeyring")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn io_error(path: &Path, what: &str, e: std::io::Error) -> Error {
    Error::internal(format!("{what} {}: {e}", path.display()))
}

fn new_key_id() -> Result<String, Error> {
    Ok(format!("rk_{}", hex::encode(random_bytes::<8>()?)))
}

/// Refuses a key file that anyone but its owner can read or write.
pub fn check_key_file_permissions(path: &Path) -> Result<(), Error> {
    let meta = fs::metadata(path).map_err(|e| io_error(path, "cannot read", e))?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        return Err(Error::new(
            strongroom_core::ErrorCode::PermissionDenied,
            format!(
                "the root key file {} is accessible to other users (mode {mode:04o}); \
                 fix it with: chmod 600 {}",
                path.display(),
                path.display()
            ),
        ));
    }
    Ok(())
}

fn read_keys(path: &Path) -> Result<Keys, Error> {
    check_key_file_permissions(path)?;
    let text =
        Zeroizing::new(fs::read_to_string(path).map_err(|e| io_error(path, "cannot read", e))?);
    let file: KeyFile = serde_json::from_str(&text).map_err(|e| {
        Error::internal(format!(
            "root key file {} is malformed: {e}",
            path.display()
        ))
    })?;
    if file.format != FORMAT {
        return Err(Error::internal(format!(
            "root key file {} has unknown format {:?}",
            path.display(),
            file.format
        )));
    }
    let mut keys = BTreeMap::new();
    for (id, encoded) in file.keys {
        let raw = Zeroizing::new(STANDARD.decode(encoded.as_bytes()).map_err(|_| {
            Error::internal(format!("root key {id} in {} is not base64", path.display()))
        })?);
        let bytes: [u8; 32] = raw.as_slice().try_into().map_err(|_| {
            Error::internal(format!(
                "root key {id} in {} is not 32 bytes",
                path.display()
            ))
        })?;
        keys.insert(id, DataKey::from_bytes(bytes));
    }
    if !keys.contains_key(&file.active) {
        return Err(Error::internal(format!(
            "root key file {} names an active key it does not contain",
            path.display()
        )));
    }
    Ok(Keys {
        active: file.active,
        keys,
    })
}

/// Writes the key file atomically: a 0600 temporary file, fsync, rename, fsync the folder.
fn write_keys(path: &Path, keys: &Keys) -> Result<(), Error> {
    let file = KeyFile {
        format: FORMAT.into(),
        active: keys.active.clone(),
        keys: keys
            .keys
            .iter()
            .map(|(id, k)| (id.clone(), STANDARD.encode(k.expose())))
            .collect(),
    };
    let text = Zeroizing::new(
        serde_json::to_string_pretty(&file).map_err(|e| Error::internal(e.to_string()))?,
    );
    drop(file);
    let tmp = path.with_extension("tmp");
    let _ = fs::remove_file(&tmp);
    let mut out = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&tmp)
        .map_err(|e| io_error(&tmp, "cannot create", e))?;
    out.write_all(text.as_bytes())
        .and_then(|()| out.sync_all())
        .map_err(|e| io_error(&tmp, "cannot write", e))?;
    fs::rename(&tmp, path).map_err(|e| io_error(path, "cannot replace", e))?;
    if let Some(dir) = path.parent() {
        File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error(dir, "cannot sync", e))?;
    }
    Ok(())
}

impl FileKeyring {
    /// Loads the key file, creating it with one fresh key if it does not exist.
    /// Returns whether it was created.
    pub fn load_or_create(path: &Path) -> Result<(Self, bool), Error> {
        if path.exists() {
            return Ok((Self::load(path)?, false));
        }
        let active = new_key_id()?;
        let mut keys = BTreeMap::new();
        keys.insert(active.clone(), DataKey::generate()?);
        let keys = Keys { active, keys };
        write_keys(path, &keys)?;
        Ok((
            Self {
                path: path.to_owned(),
                state: RwLock::new(Arc::new(keys)),
            },
            true,
        ))
    }

    /// Loads an existing key file.
    pub fn load(path: &Path) -> Result<Self, Error> {
        let keys = read_keys(path)?;
        Ok(Self {
            path: path.to_owned(),
            state: RwLock::new(Arc::new(keys)),
        })
    }

    /// Where the keys live.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn current(&self) -> Result<Arc<Keys>, Error> {
        self.state
            .read()
            .map(|s| Arc::clone(&s))
            .map_err(|_| Error::internal("keyring lock poisoned"))
    }

    fn replace(&self, keys: Keys) -> Result<(), Error> {
        *self
            .state
            .write()
            .map_err(|_| Error::internal("keyring lock poisoned"))? = Arc::new(keys);
        Ok(())
    }

    /// Re-reads the key file.
    pub fn reload(&self) -> Result<(), Error> {
        self.replace(read_keys(&self.path)?)
    }

    /// Ids of every root key in the file.
    pub fn key_ids(&self) -> Result<Vec<String>, Error> {
        Ok(self.current()?.keys.keys().cloned().collect())
    }

    /// Adds a fresh root key to the file and makes it the active one. Old keys stay until
    /// [`FileKeyring::retain`] removes them, so data keys wrapped by them still open.
    pub fn add_active_key(&self) -> Result<String, Error> {
        let on_disk = read_keys(&self.path)?;
        let id = new_key_id()?;
        let mut keys = on_disk.keys;
        keys.insert(id.clone(), DataKey::generate()?);
        let updated = Keys {
            active: id.clone(),
            keys,
        };
        write_keys(&self.path, &updated)?;
        self.replace(updated)?;
        Ok(id)
    }

    /// Removes every key except the active one and those in `keep`; returns the removed ids.
    pub fn retain(&self, keep: &[String]) -> Result<Vec<String>, Error> {
        let on_disk = read_keys(&self.path)?;
        let active = on_disk.active;
        let (kept, removed): (BTreeMap<_, _>, BTreeMap<_, _>) = on_disk
            .keys
            .into_iter()
            .partition(|(id, _)| *id == active || keep.contains(id));
        let updated = Keys { active, keys: kept };
        write_keys(&self.path, &updated)?;
        self.replace(updated)?;
        Ok(removed.into_keys().collect())
    }

    fn key(&self, id: &str) -> Result<DataKey, Error> {
        if let Some(k) = self.current()?.keys.get(id) {
            return Ok(k.clone());
        }
        self.reload()?;
        self.current()?.keys.get(id).cloned().ok_or_else(|| {
            Error::internal(format!(
                "root key {id} is not in the key file {}: the database was encrypted with \
                 another root key file",
                self.path.display()
            ))
        })
    }
}

impl RootKeyProvider for FileKeyring {
    fn active_key_id(&self) -> String {
        self.current().map(|k| k.active.clone()).unwrap_or_default()
    }

    fn wrap(&self, root_key_id: &str, key: &DataKey, aad: &Aad) -> Result<Vec<u8>, Error> {
        self.key(root_key_id)?.seal(aad, key.expose())
    }

    fn unwrap(&self, root_key_id: &str, wrapped: &[u8], aad: &Aad) -> Result<DataKey, Error> {
        let raw = self.key(root_key_id)?.open(aad, wrapped)?;
        let bytes: [u8; 32] = raw
            .as_slice()
            .try_into()
            .map_err(|_| Error::internal("unwrapped data key has the wrong length"))?;
        Ok(DataKey::from_bytes(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp() -> tempfile::TempDir {
        tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_new_key_file_is_created_with_mode_0600() {
        let dir = temp();
        let path = dir.path().join("root.key");
        let (_, created) = FileKeyring::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(created);
        let mode = fs::metadata(&path)
            .map(|m| m.permissions().mode() & 0o777)
            .unwrap_or(0);
        assert_eq!(mode, 0o600);
        let (_, created_again) =
            FileKeyring::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(!created_again);
    }

    #[test]
    fn a_key_file_readable_by_others_is_refused_with_the_fix() {
        let dir = temp();
        let path = dir.path().join("root.key");
        FileKeyring::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644))
            .unwrap_or_else(|e| panic!("{e}"));
        let err = FileKeyring::load(&path)
            .err()
            .unwrap_or_else(|| panic!("accepted a 0644 key file"));
        assert!(err.message().contains("chmod 600"), "{}", err.message());
    }

    #[test]
    fn rotation_keeps_old_keys_until_retired() {
        let dir = temp();
        let path = dir.path().join("root.key");
        let (ring, _) = FileKeyring::load_or_create(&path).unwrap_or_else(|e| panic!("{e}"));
        let old = ring.active_key_id();
        let dk = DataKey::generate().unwrap_or_else(|e| panic!("{e}"));
        let aad = Aad::new("t");
        let wrapped = ring.wrap(&old, &dk, &aad).unwrap_or_default();

        // Another process rotates; this instance learns the new key when it meets it.
        let other = FileKeyring::load(&path).unwrap_or_else(|e| panic!("{e}"));
        let new = other.add_active_key().unwrap_or_default();
        let rewrapped = other.wrap(&new, &dk, &aad).unwrap_or_default();
        assert!(ring.unwrap(&new, &rewrapped, &aad).is_ok());
        assert!(ring.unwrap(&old, &wrapped, &aad).is_ok());

        other.retain(&[]).unwrap_or_default();
        let fresh = FileKeyring::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(fresh.key_ids().unwrap_or_default(), vec![new]);
        assert!(fresh.unwrap(&old, &wrapped, &aad).is_err());
    }
}
