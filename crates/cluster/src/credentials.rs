//! Credentials at rest and the `capf.require_sudi` setting.
//!
//! An authentication string is stored only as HMAC-SHA256 under the cluster's secret key
//! (`keys/auth-string.hmac`, 0600), so that a copy of `cluster.db` does not reveal it; the digits
//! are shown once, when they are set. Strings an older version stored in clear are hashed when
//! the cluster opens.

use std::path::Path;

use aws_lc_rs::hmac;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opencapf_store::{audit, credentials, keyfile, settings, Store};

use crate::{Cluster, Error, Result};

/// The key file, in the data folder's `keys/`.
const KEY_FILE: &str = "auth-string.hmac";
const KEY_LEN: usize = 32;
/// The settings key of "require the session-bound SUDI signature".
pub const REQUIRE_SUDI: &str = "capf.require_sudi";

/// The cluster's key for authentication strings.
#[derive(Clone)]
pub(crate) struct AuthKey(hmac::Key);

impl AuthKey {
    /// Reads the key file, creating it on first use.
    pub(crate) fn load(data_dir: &Path) -> Result<AuthKey> {
        let bytes = keyfile::secret(data_dir, KEY_FILE, KEY_LEN, |buf| {
            SystemRandom::new().fill(buf).expect("the system random generator works");
        })?;
        Ok(AuthKey(hmac::Key::new(hmac::HMAC_SHA256, &bytes)))
    }

    /// What the database keeps of a string (hex).
    pub(crate) fn hash(&self, digits: &str) -> String {
        hex::encode(hmac::sign(&self.0, digits.as_bytes()).as_ref())
    }

    /// Whether `presented` is the string of `stored` (compared in constant time).
    pub(crate) fn verify(&self, stored: &str, presented: &str) -> bool {
        hex::decode(stored).is_ok_and(|tag| hmac::verify(&self.0, presented.as_bytes(), &tag).is_ok())
    }

    /// Hashes every string an older version left in clear, and empties the clear column.
    pub(crate) async fn migrate(&self, store: &Store) -> Result<()> {
        // Every open comes here: the write lock (which `serve` contends for) only when there is
        // something to hash.
        if credentials::clear_strings(&mut store.read().await?).await?.is_empty() {
            return Ok(());
        }
        let mut db = store.write().await?;
        for (name, digits) in credentials::clear_strings(&mut db).await? {
            credentials::replace_clear_string(&mut db, &name, &self.hash(&digits)).await?;
        }
        db.commit().await
    }
}

impl Cluster {
    /// Whether By Existing Certificate requires the session-bound SudiData signature
    /// (`capf.require_sudi`, off by default): a replayed AuthResponse then fails.
    /// Kept between calls once `serve` follows the change feed (every CAPF session asks).
    pub async fn require_sudi(&self) -> Result<bool> {
        let read = || async {
            let value = settings::get(&mut self.store.read().await?, REQUIRE_SUDI).await?;
            Ok(value.as_deref() == Some("on"))
        };
        let Some(followed) = self.kept.followed() else { return read().await };
        let version = followed.version(&[opencapf_store::Topic::Settings]).await;
        Ok(*followed.require_sudi.get(version, read).await?)
    }

    /// Turns `capf.require_sudi` on or off, audited.
    pub async fn set_require_sudi(&self, on: bool, actor: &str) -> Result<()> {
        let value = if on { "on" } else { "off" };
        let mut db = self.store.write().await?;
        settings::set(&mut db, REQUIRE_SUDI, value).await?;
        audit::record(&mut db, actor, "settings.set", REQUIRE_SUDI, value).await?;
        db.commit().await?;
        self.changed(&[opencapf_store::Topic::Settings]);
        Ok(())
    }
}

/// `on`/`off` (also `true`/`false`, `yes`/`no`) as a setting's value.
pub(crate) fn parse_switch(value: &str) -> Result<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "on" | "true" | "yes" => Ok(true),
        "off" | "false" | "no" => Ok(false),
        other => Err(Error::Invalid(format!("'{other}': use on or off"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_compare_whole_and_need_the_key() {
        let dir = tempfile::TempDir::new().unwrap();
        let key = AuthKey::load(dir.path()).unwrap();
        let stored = key.hash("123456");
        // What is stored is the HMAC in hex, not the digits. (Not "does not contain the digits":
        // 64 random hex characters hold "123456" about once in 280,000 keys.)
        assert_eq!(stored.len(), 64, "{stored}");
        assert!(stored.bytes().all(|b| b.is_ascii_hexdigit()), "{stored}");
        assert_eq!(key.hash("123456"), stored, "the same key gives the same hash");
        assert!(key.verify(&stored, "123456"));
        for presented in ["12345", "1234567", "", "654321"] {
            assert!(!key.verify(&stored, presented), "{presented}");
        }
        assert!(!key.verify("not hex", "123456"));
        // The same file gives the same key; another cluster's key does not match.
        assert!(AuthKey::load(dir.path()).unwrap().verify(&stored, "123456"));
        let other = tempfile::TempDir::new().unwrap();
        assert!(!AuthKey::load(other.path()).unwrap().verify(&stored, "123456"));
        let mode = std::os::unix::fs::PermissionsExt::mode(
            &std::fs::metadata(dir.path().join("keys").join(KEY_FILE)).unwrap().permissions(),
        );
        assert_eq!(mode & 0o777, 0o600);
    }
}
