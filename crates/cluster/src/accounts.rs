//! Accounts and API tokens of the admin pages and the REST API (`opencapf admin ...`).
//!
//! Passwords are kept as argon2id PHC strings (the OWASP default parameters of the `argon2`
//! crate), hashed on a blocking thread so that a login does not stall the servers' tasks. An
//! unknown account name costs the same hash as a wrong password, so a login's timing does not
//! tell which names exist. API tokens are 256 random bits shown once; the store keeps their
//! SHA-256.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use aws_lc_rs::digest;
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opencapf_model::{Account, AccountRole, ApiToken};
use opencapf_store::{accounts, audit, web_sessions};

use crate::{Cluster, Error, Result};

/// The account the first start creates, with a one-time password.
pub const FIRST_ADMIN: &str = "admin";
/// NIST SP 800-63B: at least 8 characters; 12 for accounts that can change a PKI.
pub const MIN_PASSWORD_LEN: usize = 12;
/// A bound on the work one login can ask of argon2.
pub const MAX_PASSWORD_LEN: usize = 256;
/// What an API token's secret starts with, so that a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "ocapf_";

/// An account or token name: letters, digits, `.`, `_`, `-`, `@`, up to 64.
fn check_name(what: &str, name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'@'));
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "{what} name '{}' is not valid: use 1 to 64 letters, digits, '.', '_', '-' or '@'",
            opencapf_model::printable(name)
        )))
    }
}

fn check_password(password: &str) -> Result<()> {
    let n = password.chars().count();
    if n < MIN_PASSWORD_LEN {
        return Err(Error::Invalid(format!("the password is too short: use at least {MIN_PASSWORD_LEN} characters")));
    }
    if password.len() > MAX_PASSWORD_LEN {
        return Err(Error::Invalid(format!("the password is too long: use at most {MAX_PASSWORD_LEN} bytes")));
    }
    Ok(())
}

pub(crate) fn random_bytes<const N: usize>() -> [u8; N] {
    let mut b = [0u8; N];
    SystemRandom::new().fill(&mut b).expect("the system random generator works");
    b
}

async fn hash_password(password: &str) -> Result<String> {
    let password = zeroize::Zeroizing::new(password.to_owned());
    blocking(move || {
        let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes make a valid salt");
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|e| Error::Invalid(format!("hashing the password: {e}")))
    })
    .await
}

/// Whether `password` matches the PHC string `hash` (constant time inside argon2).
async fn verify_password(hash: String, password: &str) -> Result<bool> {
    let password = zeroize::Zeroizing::new(password.to_owned());
    blocking(move || {
        let parsed = PasswordHash::new(&hash).map_err(|e| Error::Invalid(format!("a stored password hash: {e}")))?;
        Ok(Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
}

async fn blocking<T: Send + 'static>(f: impl FnOnce() -> Result<T> + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(|e| Error::Invalid(format!("the password task failed: {e}")))?
}

/// A hash of a password nobody has, verified when the account does not exist.
fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let salt = SaltString::encode_b64(&random_bytes::<16>()).expect("16 bytes make a valid salt");
        let secret = hex::encode(random_bytes::<32>());
        Argon2::default().hash_password(secret.as_bytes(), &salt).expect("argon2 hashes").to_string()
    })
}

pub(crate) fn token_hash(secret: &str) -> String {
    hex::encode(digest::digest(&digest::SHA256, secret.as_bytes()).as_ref())
}

/// A password for the first start: 20 characters from an alphabet without look-alikes
/// (about 110 bits).
fn one_time_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    random_bytes::<20>().iter().map(|b| ALPHABET[usize::from(*b) % ALPHABET.len()] as char).collect()
}

impl Cluster {
    /// Adds an account (audited `account.add`).
    pub async fn add_account(&self, name: &str, role: AccountRole, password: &str, actor: &str) -> Result<Account> {
        check_name("account", name)?;
        check_password(password)?;
        let hash = hash_password(password).await?;
        let mut db = self.store.write().await?;
        let account = accounts::insert(&mut db, name, role, &hash, false, actor).await?;
        audit::record(&mut db, actor, "account.add", name, &format!("role {role}")).await?;
        db.commit().await?;
        Ok(account)
    }

    pub async fn accounts(&self) -> Result<Vec<Account>> {
        accounts::list(&mut self.store.read().await?).await
    }

    pub async fn account(&self, name: &str) -> Result<Account> {
        accounts::get(&mut self.store.read().await?, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no account {}", opencapf_model::printable(name))))
    }

    /// Removes an account, and with it its web sessions (a foreign key); the last administrator
    /// cannot go (nobody could change accounts after).
    pub async fn remove_account(&self, name: &str, actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        let account = accounts::get(&mut db, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no account {}", opencapf_model::printable(name))))?;
        if account.role.is_admin() && accounts::count_admins(&mut db).await? <= 1 {
            return Err(Error::Refused(format!("{name} is the last administrator: add another admin account first")));
        }
        accounts::delete(&mut db, name).await?;
        audit::record(&mut db, actor, "account.remove", name, "").await?;
        db.commit().await
    }

    /// Sets an account's password, ending its web sessions on every node. `must_change` when
    /// someone else chose it and its owner should replace it at the next login.
    pub async fn set_password(&self, name: &str, password: &str, must_change: bool, actor: &str) -> Result<()> {
        self.replace_password(name, password, must_change, None, actor).await
    }

    /// An account's owner replaces its password from the web session `session_id`: that session
    /// goes on, the account's other sessions end on every node.
    pub async fn change_password(&self, name: &str, password: &str, session_id: &str, actor: &str) -> Result<()> {
        self.replace_password(name, password, false, Some(session_id), actor).await
    }

    async fn replace_password(
        &self,
        name: &str,
        password: &str,
        must_change: bool,
        keep_session: Option<&str>,
        actor: &str,
    ) -> Result<()> {
        check_password(password)?;
        let hash = hash_password(password).await?;
        let mut db = self.store.write().await?;
        if !accounts::set_password(&mut db, name, &hash, must_change).await? {
            return Err(Error::NotFound(format!("no account {}", opencapf_model::printable(name))));
        }
        web_sessions::delete_account(&mut db, name, keep_session.map(token_hash).as_deref()).await?;
        audit::record(&mut db, actor, "account.password", name, "").await?;
        db.commit().await
    }

    /// Changes an account's role; the last administrator keeps theirs.
    pub async fn set_account_role(&self, name: &str, role: AccountRole, actor: &str) -> Result<Account> {
        let mut db = self.store.write().await?;
        let account = accounts::get(&mut db, name)
            .await?
            .ok_or_else(|| Error::NotFound(format!("no account {}", opencapf_model::printable(name))))?;
        if account.role.is_admin() && !role.is_admin() && accounts::count_admins(&mut db).await? <= 1 {
            return Err(Error::Refused(format!("{name} is the last administrator: add another admin account first")));
        }
        accounts::set_role(&mut db, name, role).await?;
        // Whoever is logged in as this account logs in again, under the new role.
        web_sessions::delete_account(&mut db, name, None).await?;
        audit::record(&mut db, actor, "account.role", name, &format!("role {role}")).await?;
        let account = accounts::get(&mut db, name).await?.expect("the account was just read");
        db.commit().await?;
        Ok(account)
    }

    /// The account whose name and password these are, or `None` (unknown name or wrong
    /// password: the caller must not tell which). Records the login time.
    pub async fn authenticate(&self, name: &str, password: &str) -> Result<Option<Account>> {
        if password.len() > MAX_PASSWORD_LEN {
            return Ok(None);
        }
        let found = accounts::credentials(&mut self.store.read().await?, name).await?;
        let (account, hash) = match found {
            Some((a, h)) => (Some(a), h),
            None => (None, decoy_hash().to_owned()),
        };
        let matches = verify_password(hash, password).await?;
        let Some(account) = account.filter(|_| matches) else { return Ok(None) };
        let mut db = self.store.write().await?;
        accounts::touch_login(&mut db, &account.name).await?;
        db.commit().await?;
        Ok(Some(account))
    }

    /// On a cluster without accounts, creates `admin` with a one-time password and returns it
    /// (shown once; the account must choose another at its first login). `None` when accounts
    /// exist.
    pub async fn ensure_first_admin(&self, actor: &str) -> Result<Option<String>> {
        if accounts::count(&mut self.store.read().await?).await? > 0 {
            return Ok(None);
        }
        let password = one_time_password();
        let hash = hash_password(&password).await?;
        let mut db = self.store.write().await?;
        // Another process may have created it meanwhile: then there is nothing to show.
        if accounts::count(&mut db).await? > 0 {
            return Ok(None);
        }
        accounts::insert(&mut db, FIRST_ADMIN, AccountRole::Admin, &hash, true, actor).await?;
        audit::record(&mut db, actor, "account.add", FIRST_ADMIN, "role admin, one-time password").await?;
        db.commit().await?;
        Ok(Some(password))
    }

    /// Creates an API token and returns it with its secret, which is shown only now.
    pub async fn create_token(&self, name: &str, role: AccountRole, actor: &str) -> Result<(ApiToken, String)> {
        check_name("token", name)?;
        let secret = format!("{TOKEN_PREFIX}{}", hex::encode(random_bytes::<32>()));
        let mut db = self.store.write().await?;
        let token = accounts::insert_token(&mut db, name, role, &token_hash(&secret), actor).await?;
        audit::record(&mut db, actor, "token.create", name, &format!("role {role}")).await?;
        db.commit().await?;
        Ok((token, secret))
    }

    pub async fn api_tokens(&self) -> Result<Vec<ApiToken>> {
        accounts::tokens(&mut self.store.read().await?).await
    }

    pub async fn revoke_token(&self, name: &str, actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        if !accounts::delete_token(&mut db, name).await? {
            return Err(Error::NotFound(format!("no API token {}", opencapf_model::printable(name))));
        }
        audit::record(&mut db, actor, "token.revoke", name, "").await?;
        db.commit().await
    }

    /// The token whose secret this is (the store is searched by its hash), or `None`.
    pub async fn token_caller(&self, secret: &str) -> Result<Option<ApiToken>> {
        if !secret.starts_with(TOKEN_PREFIX) || secret.len() > 128 {
            return Ok(None);
        }
        let token = accounts::token_by_hash(&mut self.store.read().await?, &token_hash(secret)).await?;
        // "Last used" to the minute: a script calling every second must not take the database's
        // write lock (which CAPF sessions wait for) every second.
        let recent = |t: &ApiToken| {
            t.last_used
                .as_deref()
                .and_then(|u| opencapf_model::parse_ts(u).ok())
                .is_some_and(|u| opencapf_model::now() - u < time::Duration::minutes(1))
        };
        if let Some(t) = token.as_ref().filter(|t| !recent(t)) {
            let mut db = self.store.write().await?;
            accounts::touch_token(&mut db, &t.name).await?;
            db.commit().await?;
        }
        Ok(token)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_passwords_are_checked() {
        assert!(check_name("account", "jane.doe@corp").is_ok());
        assert!(check_name("account", "").is_err());
        assert!(check_name("account", "a b").is_err());
        assert!(check_password("short").is_err());
        assert!(check_password(&"x".repeat(300)).is_err());
        assert!(check_password("correct horse battery").is_ok());
    }

    #[test]
    fn one_time_passwords_differ_and_avoid_look_alikes() {
        let (a, b) = (one_time_password(), one_time_password());
        assert_ne!(a, b);
        assert_eq!(a.len(), 20);
        assert!(!a.contains(['l', '1', 'O', '0', 'I']));
    }
}
