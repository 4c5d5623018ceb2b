//! Private key files: written 0600 in a 0700 folder, atomically, never overwritten.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use opencapf_pki::PrivateKey;

use crate::{Result, StoreError};

pub const KEYS_DIR: &str = "keys";

/// Writes `key` as PKCS#8 PEM to `data_dir/keys/<name>.key` and returns the path relative to the
/// data folder. Fails if the file exists: a key is never replaced in place.
pub fn write(data_dir: &Path, name: &str, key: &PrivateKey) -> Result<String> {
    let dir = data_dir.join(KEYS_DIR);
    fs::create_dir_all(&dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(StoreError::io(format!("securing {}", dir.display())))?;
    let relative = format!("{KEYS_DIR}/{name}.key");
    write_pem(&data_dir.join(&relative), key)?;
    Ok(relative)
}

/// Writes a key to any path with mode 0600 from the first byte (no window where it is readable).
pub fn write_pem(path: &Path, key: &PrivateKey) -> Result<()> {
    let tmp = path.with_extension("key.tmp");
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(key.to_pem().as_bytes())?;
        f.sync_all()?;
        if path.exists() {
            return Err(std::io::Error::new(std::io::ErrorKind::AlreadyExists, "file exists"));
        }
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(StoreError::io(format!("writing private key {}", path.display())))
}

/// Reads a key named by a path relative to the data folder.
pub fn read(data_dir: &Path, relative: &str) -> Result<PrivateKey> {
    let path: PathBuf = data_dir.join(relative);
    let pem = fs::read(&path).map_err(StoreError::io(format!("reading private key {}", path.display())))?;
    Ok(PrivateKey::from_pem(&pem)?)
}

/// Removes a key file written by a change that then failed.
pub fn discard(data_dir: &Path, relative: &str) {
    let _ = fs::remove_file(data_dir.join(relative));
}

/// Reads the secret `data_dir/keys/<name>`, or creates it (0600, `len` bytes from `random`) if
/// there is none yet. A secret is never replaced: what it protects would become unreadable.
pub fn secret(data_dir: &Path, name: &str, len: usize, random: impl FnOnce(&mut [u8])) -> Result<Vec<u8>> {
    let dir = data_dir.join(KEYS_DIR);
    let path = dir.join(name);
    match fs::read(&path) {
        Ok(bytes) if bytes.len() == len => return Ok(bytes),
        Ok(_) => return Err(StoreError::Invalid(format!("{} is not a {len}-byte secret", path.display()))),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(StoreError::io(format!("reading {}", path.display()))(e)),
    }
    fs::create_dir_all(&dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(StoreError::io(format!("securing {}", dir.display())))?;
    let mut bytes = vec![0u8; len];
    random(&mut bytes);
    let created = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&path)?;
        f.write_all(&bytes)?;
        f.sync_all()
    })();
    match created {
        Ok(()) => Ok(bytes),
        // Another process created it first: use theirs.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            fs::read(&path).map_err(StoreError::io(format!("reading {}", path.display())))
        }
        Err(e) => Err(StoreError::io(format!("writing {}", path.display()))(e)),
    }
}

/// The files of `data_dir/keys/` (keys and secrets), by name; temporary files left out.
pub fn names(data_dir: &Path) -> Result<Vec<String>> {
    let dir = data_dir.join(KEYS_DIR);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io(format!("reading {}", dir.display()))(e)),
    };
    let mut names: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| !n.ends_with(".tmp"))
        .collect();
    names.sort();
    Ok(names)
}

/// The bytes of `data_dir/keys/<name>`.
pub fn read_raw(data_dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = data_dir.join(KEYS_DIR).join(checked_name(name)?);
    fs::read(&path).map_err(StoreError::io(format!("reading {}", path.display())))
}

/// Writes `data_dir/keys/<name>` (0600 from the first byte) unless it exists: a key restored from
/// the database never replaces a file.
pub fn restore(data_dir: &Path, name: &str, bytes: &[u8]) -> Result<()> {
    let dir = data_dir.join(KEYS_DIR);
    fs::create_dir_all(&dir).map_err(StoreError::io(format!("creating {}", dir.display())))?;
    fs::set_permissions(&dir, fs::Permissions::from_mode(0o700))
        .map_err(StoreError::io(format!("securing {}", dir.display())))?;
    let path = dir.join(checked_name(name)?);
    let tmp = dir.join(format!("{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(0o600).open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        // hard_link fails if the file exists: never replaced, even by a racing restore.
        match fs::hard_link(&tmp, &path) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
            _ => Ok(()),
        }
    })();
    let _ = fs::remove_file(&tmp);
    result.map_err(StoreError::io(format!("writing {}", path.display())))
}

/// A name from the database is a plain file name, never a path.
fn checked_name(name: &str) -> Result<&str> {
    if name.is_empty() || name.starts_with('.') || name.contains(['/', '\\', '\0']) {
        return Err(StoreError::Invalid(format!("{name:?} is not a key file name")));
    }
    Ok(name)
}
