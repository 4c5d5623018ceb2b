//! The CAPF settings of devices (`device set`): operation, authentication mode and string, key
//! order and sizes, with CUCM's key-size and authentication-string rules, for some devices or all
//! in one transaction.

use opencapf_model::{AuthMode, CapfUpdate, CertificateOperation, DeviceName, KeyOrder};
use opencapf_store::{audit, credentials, devices, Db};
use serde::Serialize;
use time::OffsetDateTime;

use crate::search::{self, DeviceQuery};
use crate::{Cluster, Error, Result};

/// Generated strings: 8 digits, inside CUCM's 4 to 10.
const GENERATED_AUTH_STRING_DIGITS: usize = 8;

/// The CAPF settings `device set` changes; `None` keeps each device's current value.
#[derive(Debug, Clone, Default)]
pub struct CapfSettings {
    pub operation: Option<CertificateOperation>,
    pub auth_mode: Option<AuthMode>,
    pub auth_string: Option<String>,
    pub generate_auth_string: bool,
    pub key_order: Option<KeyOrder>,
    pub rsa_bits: Option<u32>,
    pub ec_bits: Option<u32>,
    /// A device's pending operation may be replaced; without it `set_capf` refuses, so that
    /// operations scheduled a moment before are not replaced without a word.
    pub replace_pending: bool,
}

impl CapfSettings {
    /// The key-size and authentication-string rules, checked before anything is written.
    pub fn validate(&self) -> Result<()> {
        if let Some(bits) = self.rsa_bits {
            if !matches!(bits, 1024 | 2048 | 3072 | 4096) {
                return Err(Error::Invalid(format!(
                    "--rsa-bits {bits}: use 1024, 2048, 3072 or 4096 (512 is too weak to carry a SHA-512 signature)"
                )));
            }
        }
        if let Some(bits) = self.ec_bits {
            if !matches!(bits, 256 | 384 | 521) {
                return Err(Error::Invalid(format!("--ec-bits {bits}: use 256, 384 or 521")));
            }
        }
        if let Some(s) = &self.auth_string {
            if !(4..=10).contains(&s.len()) || !s.chars().all(|c| c.is_ascii_digit()) {
                return Err(Error::Invalid("the authentication string must be 4 to 10 digits".into()));
            }
        }
        if self.wants_string() && self.auth_mode.is_some_and(|m| m != AuthMode::AuthenticationString) {
            return Err(Error::Invalid("--auth-string and --generate-auth-string go with --auth string".into()));
        }
        Ok(())
    }

    /// Whether setting a device whose operation is `current` replaces a pending operation
    /// (cancelling one with `--operation none` does not).
    pub fn replaces(&self, current: CertificateOperation) -> bool {
        current != CertificateOperation::NoPendingOperation
            && self.operation != Some(CertificateOperation::NoPendingOperation)
    }

    fn wants_string(&self) -> bool {
        self.auth_string.is_some() || self.generate_auth_string
    }
}

/// Which devices `device set` changes.
#[derive(Debug, Clone)]
pub enum Selection {
    All,
    Names(Vec<DeviceName>),
    /// Every device a search matches, as BAT updates the phones of a query: its filters apply,
    /// its paging does not (all matching devices change, not one page).
    Query(DeviceQuery),
}

/// One device after `device set`.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct SetResult {
    pub device: String,
    pub operation: String,
    pub auth_mode: String,
    pub status: String,
    /// Only a generated string, shown once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_string: Option<String>,
}

impl Cluster {
    /// `device set`: the CAPF information of some devices or all, one transaction. A pending
    /// operation completes by `deadline`.
    pub async fn set_capf(
        &self,
        selection: &Selection,
        s: &CapfSettings,
        deadline: OffsetDateTime,
        actor: &str,
        mut progress: impl FnMut(usize, usize),
    ) -> Result<Vec<SetResult>> {
        s.validate()?;
        let mut db = self.store.write().await?;
        let names = selected(&mut db, selection).await?;
        let mut results = Vec::new();
        let mut replaced = 0;
        for (i, name) in names.iter().enumerate() {
            let cur = devices::get(&mut db, name).await?;
            replaced += usize::from(s.replaces(cur.capf.operation));
            let op = s.operation.unwrap_or(cur.capf.operation);
            let mode = s.auth_mode.unwrap_or(if s.wants_string() {
                AuthMode::AuthenticationString
            } else {
                cur.capf.auth_mode
            });
            // The digits when given or generated; otherwise the current string is kept (as its
            // hash: the digits are not stored).
            let auth_string = if mode != AuthMode::AuthenticationString {
                None
            } else if s.generate_auth_string {
                Some(opencapf_pki::random_digits(GENERATED_AUTH_STRING_DIGITS))
            } else {
                s.auth_string.clone()
            };
            let hash = match &auth_string {
                Some(digits) => Some(self.auth_key.hash(digits)),
                None if mode != AuthMode::AuthenticationString => None,
                None => match credentials::auth_string_hash(&mut db, name).await? {
                    Some(current) => Some(current),
                    None => {
                        return Err(Error::Invalid(format!(
                            "{name}: By Authentication String needs --auth-string DIGITS or --generate-auth-string"
                        )))
                    }
                },
            };
            let pending = op != CertificateOperation::NoPendingOperation;
            let update = CapfUpdate {
                operation: op,
                auth_mode: mode,
                auth_string: auth_string.clone(),
                key_order: s.key_order.unwrap_or(cur.capf.key_order),
                rsa_bits: s.rsa_bits.unwrap_or(cur.capf.rsa_bits),
                ec_bits: s.ec_bits.unwrap_or(cur.capf.ec_bits),
                completes_by: pending.then_some(deadline),
            };
            devices::set_capf(&mut db, name, &update, hash.as_deref(), "set by administrator").await?;
            let after = devices::get(&mut db, name).await?;
            // The audit says a string was set, never which.
            let detail = format!(
                "{} / {} / {} RSA {} EC {}{}",
                op,
                mode,
                update.key_order,
                update.rsa_bits,
                update.ec_bits,
                if hash.is_some() { " / authentication string set" } else { "" }
            );
            audit::record(&mut db, actor, "device.set", name.as_str(), &detail).await?;
            results.push(SetResult {
                device: name.to_string(),
                operation: op.to_string(),
                auth_mode: mode.to_string(),
                status: after.capf.status,
                auth_string: if s.generate_auth_string { auth_string } else { None },
            });
            progress(i + 1, names.len());
        }
        if replaced > 0 && !s.replace_pending {
            return Err(Error::Conflict(format!(
                "this replaces the pending operation of {replaced} device(s): add --replace to replace them"
            )));
        }
        db.commit().await?;
        Ok(results)
    }

    /// How many of the selected devices have a pending operation `s` would replace (what
    /// `set_capf` refuses without [`CapfSettings::replace_pending`]), for a caller to ask first.
    pub async fn pending_replaced(&self, selection: &Selection, s: &CapfSettings) -> Result<usize> {
        let mut db = self.store.read().await?;
        let names: std::collections::BTreeSet<String> =
            selected(&mut db, selection).await?.iter().map(|n| n.to_string()).collect();
        // One read of every device rather than one per selected device.
        let all = devices::list(&mut db).await?;
        Ok(all.iter().filter(|d| names.contains(d.name.as_str()) && s.replaces(d.capf.operation)).count())
    }

    /// Saves a device's CAPF information as given (no rules applied): for setups and tests that
    /// need a state `device set` would not produce, such as a deadline in the past.
    pub async fn save_capf(&self, name: &DeviceName, update: &CapfUpdate, detail: &str, actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        let hash = update.auth_string.as_deref().map(|digits| self.auth_key.hash(digits));
        devices::set_capf(&mut db, name, update, hash.as_deref(), detail).await?;
        audit::record(&mut db, actor, "device.set", name.as_str(), detail).await?;
        db.commit().await
    }
}

/// The names `selection` picks, in name order; refused when it picks none.
async fn selected(db: &mut Db, selection: &Selection) -> Result<Vec<DeviceName>> {
    let names = match selection {
        Selection::All => devices::names(db).await?,
        Selection::Names(n) => n.clone(),
        Selection::Query(q) => search::matching(db, &by_name(q)).await?.into_iter().map(|r| r.device.name).collect(),
    };
    if names.is_empty() {
        return Err(Error::Invalid(match selection {
            Selection::Query(_) => "no device matches the search: nothing changed".into(),
            _ => "the cluster has no devices".into(),
        }));
    }
    Ok(names)
}

/// The query's filters in name order: a bulk change goes through devices in one known order,
/// whatever order a page showed them in.
fn by_name(q: &DeviceQuery) -> DeviceQuery {
    DeviceQuery { sort: search::DeviceSort::Name, descending: false, ..q.clone() }
}
