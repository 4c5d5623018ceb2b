//! The cluster key: every key file and secret of the data folder (`keys/`) is also kept in the
//! database sealed with it (AES-256-GCM, the file name as associated data), so that a node of a
//! PostgreSQL cluster restores a key another node made (a regenerated CAPF, a new web identity)
//! without anyone copying files. The cluster key itself (`keys/cluster.kek`, 32 random bytes,
//! 0600) never enters the database: it is the one file every node's folder needs, copied once
//! when the node is set up.
//!
//! [`Keyring::sync`] seals what the database lacks and restores what the folder lacks. It runs
//! when the cluster opens, after a use case writes a key, when a key file is missing, and
//! periodically in `serve`.

use std::path::Path;
use std::sync::Arc;

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opencapf_store::{keyfile, sealed_keys, Db, Store};

use crate::{Error, Result};

pub const KEK_FILE: &str = "cluster.kek";
const KEK_LEN: usize = 32;

/// The cluster key, loaded.
#[derive(Clone)]
pub(crate) struct Keyring(Arc<LessSafeKey>);

/// What a key synchronisation ([`Cluster::sync_keys`](crate::Cluster::sync_keys)) did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KeySync {
    /// Key files sealed into the database.
    pub sealed: Vec<String>,
    /// Key files restored from the database.
    pub restored: Vec<String>,
}

impl Keyring {
    /// Reads `keys/cluster.kek`, or makes it when the database holds no sealed key yet (a new
    /// cluster, or one made before the cluster key existed). A node whose folder lacks it while
    /// the database has sealed keys is refused: a new key could open none of them.
    pub(crate) async fn load(store: &Store) -> Result<Keyring> {
        let data_dir = store.data_dir();
        let path = data_dir.join(keyfile::KEYS_DIR).join(KEK_FILE);
        let present = path.is_file();
        if present {
            // Copied into place by hand, it may have come with the umask's mode: only the owner reads it.
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600));
        }
        if !present && !sealed_keys::names(&mut store.read().await?).await?.is_empty() {
            return Err(missing_kek(data_dir));
        }
        let bytes = keyfile::secret(data_dir, KEK_FILE, KEK_LEN, |buf| {
            SystemRandom::new().fill(buf).expect("the system random generator works");
        })?;
        let key =
            UnboundKey::new(&AES_256_GCM, &bytes).map_err(|_| Error::Invalid("the cluster key is unusable".into()))?;
        Ok(Keyring(Arc::new(LessSafeKey::new(key))))
    }

    /// Seals into the database every key file it lacks, and restores into the folder every sealed
    /// key the folder lacks.
    pub(crate) async fn sync(&self, store: &Store) -> Result<KeySync> {
        let data_dir = store.data_dir();
        let local: Vec<String> = keyfile::names(data_dir)?.into_iter().filter(|n| n != KEK_FILE).collect();
        let mut read = store.read().await?;
        let sealed = sealed_keys::names(&mut read).await?;
        let mut report = KeySync::default();
        let to_seal: Vec<&String> = local.iter().filter(|n| !sealed.contains(n)).collect();
        if !to_seal.is_empty() {
            let mut db = store.write().await?;
            for name in to_seal {
                if self.seal_name(&mut db, data_dir, name).await? {
                    report.sealed.push(name.clone());
                }
            }
            db.commit().await?;
        }
        for name in sealed.iter().filter(|n| !local.contains(n)) {
            let Some(bytes) = sealed_keys::get(&mut read, name).await? else { continue };
            let clear = self.open(name, &bytes).ok_or_else(|| wrong_kek(data_dir, name))?;
            keyfile::restore(data_dir, name, &clear)?;
            report.restored.push(name.clone());
        }
        Ok(report)
    }

    /// Seals one key file written by a use case, in the use case's transaction, so that the other
    /// nodes can restore it as soon as the change is visible to them.
    pub(crate) async fn seal_file(&self, db: &mut Db, data_dir: &Path, key_file: &str) -> Result<()> {
        let name = Path::new(key_file)
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::Invalid(format!("{key_file} is not a key file")))?;
        self.seal_name(db, data_dir, name).await.map(drop)
    }

    /// Seals `keys/<name>` into the database unless it is there; whether it was added.
    async fn seal_name(&self, db: &mut Db, data_dir: &Path, name: &str) -> Result<bool> {
        let bytes = keyfile::read_raw(data_dir, name)?;
        sealed_keys::put(db, name, &self.seal(name, &bytes)).await
    }

    /// Nonce (12 random bytes) followed by the ciphertext and its tag.
    fn seal(&self, name: &str, clear: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new().fill(&mut nonce).expect("the system random generator works");
        let mut out = clear.to_vec();
        self.0
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), Aad::from(name.as_bytes()), &mut out)
            .expect("AES-GCM seals any length a key file has");
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&out);
        sealed
    }

    fn open(&self, name: &str, sealed: &[u8]) -> Option<Vec<u8>> {
        if sealed.len() < NONCE_LEN {
            return None;
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).ok()?;
        let mut buf = body.to_vec();
        let clear = self.0.open_in_place(nonce, Aad::from(name.as_bytes()), &mut buf).ok()?;
        Some(clear.to_vec())
    }
}

fn missing_kek(data_dir: &Path) -> Error {
    Error::Refused(format!(
        "{} has no cluster key (keys/{KEK_FILE}) but the database holds keys sealed with one: copy \
         keys/{KEK_FILE} from a node of this cluster into {} (mode 0600)",
        data_dir.display(),
        data_dir.join(keyfile::KEYS_DIR).display()
    ))
}

fn wrong_kek(data_dir: &Path, name: &str) -> Error {
    Error::Refused(format!(
        "the key {name} in the database was sealed with another cluster key than {}: copy keys/{KEK_FILE} \
         from a node of this cluster",
        data_dir.join(keyfile::KEYS_DIR).join(KEK_FILE).display()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_key_opens_only_under_its_own_name_and_key() {
        let key = |b: u8| Keyring(Arc::new(LessSafeKey::new(UnboundKey::new(&AES_256_GCM, &[b; 32]).unwrap())));
        let (a, b) = (key(1), key(2));
        let sealed = a.seal("capf-0011.key", b"-----BEGIN PRIVATE KEY-----");
        assert_eq!(a.open("capf-0011.key", &sealed).as_deref(), Some(&b"-----BEGIN PRIVATE KEY-----"[..]));
        assert_eq!(a.open("tomcat-0011.key", &sealed), None, "bound to its name");
        assert_eq!(b.open("capf-0011.key", &sealed), None, "another cluster key");
        assert_eq!(a.open("capf-0011.key", &sealed[..5]), None);
    }
}
