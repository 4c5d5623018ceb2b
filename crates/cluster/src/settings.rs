//! `opencapf settings`: the cluster settings an administrator may change, by name, each change
//! audited (CUCM's CAPF service parameters and `set web-security` values).

use opencapf_model::{ClusterSettings, SubjectFields, TlsSettings, TlsVersion};
use opencapf_store::settings::{TLS_CBC, TLS_EMPTY_FRAGMENTS, TLS_MIN_VERSION, TLS_NULL_SHA};
use opencapf_store::{audit, settings, Topic};
use serde::Serialize;

use crate::credentials::REQUIRE_SUDI;
use crate::est::{EST_APPROVAL, EST_POP};
use crate::{parse_switch, Cluster, Error, Result};

/// The settings `settings set` knows, in the order `settings show` lists them.
pub const SETTING_KEYS: &[&str] = &[
    "lsc.validity_days",
    "capf.operation_expires_days",
    "capf.require_sudi",
    "device.key_order",
    "device.rsa_bits",
    "device.ec_bits",
    "subject.organization",
    "subject.organizational_unit",
    "subject.locality",
    "subject.state",
    "subject.country",
    TLS_MIN_VERSION,
    TLS_CBC,
    TLS_NULL_SHA,
    TLS_EMPTY_FRAGMENTS,
    EST_APPROVAL,
    EST_POP,
];

/// One setting and its value (`null` when absent).
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Setting {
    pub key: &'static str,
    pub value: Option<String>,
    pub description: &'static str,
}

fn describe(key: &str) -> &'static str {
    match key {
        "lsc.validity_days" => "validity of new LSCs, in days (CUCM: Duration of Certificate Validity)",
        "capf.operation_expires_days" => "default deadline of a CAPF operation, in days (CAPF Operation Expires in)",
        "capf.require_sudi" => "By Existing Certificate needs the session-bound SUDI signature (on/off)",
        "device.key_order" => "Key Order of new devices' CAPF settings: rsa, ec or ec-rsa",
        "device.rsa_bits" => "RSA key size of new devices: 1024, 2048, 3072 or 4096",
        "device.ec_bits" => "EC key size of new devices: 256, 384 or 521",
        "subject.organization" => "O of new CAPF and CallManager certificates, copied into LSCs",
        "subject.organizational_unit" => "OU of new certificates",
        "subject.locality" => "L of new certificates",
        "subject.state" => "ST of new certificates",
        TLS_MIN_VERSION => "lowest TLS version phones may use: 1.0, 1.1 or 1.2 (1.0 for fleets with 79xx phones)",
        TLS_CBC => "the AES-SHA CBC suites 79xx-era phones need are offered (on/off)",
        TLS_NULL_SHA => "NULL-SHA (integrity, no encryption) offered to Authenticated devices only, as CUCM (on/off)",
        TLS_EMPTY_FRAGMENTS => "TLS 1.0 CBC: an empty record before each record, as capfd sends 79xx phones (on/off)",
        EST_APPROVAL => "EST enrolment by a maker's certificate: auto, or manual (waits for `est approve`)",
        EST_POP => "EST requests must carry the TLS channel binding, RFC 7030 proof of possession (on/off)",
        _ => "C of new certificates (two letters)",
    }
}

fn subject_field<'a>(s: &'a mut SubjectFields, key: &str) -> Option<&'a mut Option<String>> {
    Some(match key {
        "subject.organization" => &mut s.organization,
        "subject.organizational_unit" => &mut s.organizational_unit,
        "subject.locality" => &mut s.locality,
        "subject.state" => &mut s.state,
        "subject.country" => &mut s.country,
        _ => return None,
    })
}

fn switch(on: bool) -> String {
    if on { "on" } else { "off" }.to_owned()
}

fn tls_value(t: &TlsSettings, key: &str) -> Option<String> {
    match key {
        TLS_MIN_VERSION => Some(t.min_version.token().to_owned()),
        TLS_CBC => Some(switch(t.cbc)),
        TLS_NULL_SHA => Some(switch(t.null_sha)),
        TLS_EMPTY_FRAGMENTS => Some(switch(t.empty_fragments)),
        _ => None,
    }
}

/// Sets one `tls.*` setting in `t`, refusing a value it cannot take.
fn set_tls(t: &mut TlsSettings, key: &str, value: &str) -> Result<()> {
    let on = || parse_switch(value).map_err(|_| Error::Invalid(format!("{key} '{}': use on or off", value.trim())));
    match key {
        TLS_MIN_VERSION => {
            t.min_version = match value.trim().parse::<TlsVersion>() {
                // TLS 1.3 as a minimum would shut out every phone that has no TLS 1.3 (most).
                Ok(v) if v <= TlsVersion::Tls12 => v,
                _ => return Err(Error::Invalid(format!("{key} '{}': use 1.0, 1.1 or 1.2", value.trim()))),
            }
        }
        TLS_CBC => t.cbc = on()?,
        TLS_NULL_SHA => t.null_sha = on()?,
        TLS_EMPTY_FRAGMENTS => t.empty_fragments = on()?,
        _ => return Err(Error::Invalid(format!("unknown setting '{key}'"))),
    }
    Ok(())
}

fn value_of(s: &mut ClusterSettings, sudi: bool, tls: &TlsSettings, key: &str) -> Option<String> {
    if key.starts_with("tls.") {
        return tls_value(tls, key);
    }
    match key {
        "lsc.validity_days" => Some(s.lsc_validity_days.to_string()),
        "capf.operation_expires_days" => Some(s.capf_operation_expires_days.to_string()),
        "capf.require_sudi" => Some(if sudi { "on" } else { "off" }.to_string()),
        "device.key_order" => Some(s.key_defaults.key_order.token().to_string()),
        "device.rsa_bits" => Some(s.key_defaults.rsa_bits.to_string()),
        "device.ec_bits" => Some(s.key_defaults.ec_bits.to_string()),
        _ => subject_field(&mut s.subject, key).and_then(|v| v.clone()),
    }
}

fn days(key: &str, value: &str, max: u32) -> Result<u32> {
    match value.trim().parse::<u32>() {
        Ok(d) if (1..=max).contains(&d) => Ok(d),
        _ => Err(Error::Invalid(format!("{key} '{value}': a number of days from 1 to {max}"))),
    }
}

/// A key size CUCM offers (as `device set` checks them).
fn bits(key: &str, value: &str, allowed: &[u32]) -> Result<u32> {
    match value.trim().parse::<u32>() {
        Ok(b) if allowed.contains(&b) => Ok(b),
        _ => {
            let allowed: Vec<String> = allowed.iter().map(u32::to_string).collect();
            Err(Error::Invalid(format!("{key} '{value}': use {}", allowed.join(", "))))
        }
    }
}

impl Cluster {
    /// Every setting `settings set` knows, with its current value.
    pub async fn settings_list(&self) -> Result<Vec<Setting>> {
        let mut s = self.settings().await?;
        let sudi = self.require_sudi().await?;
        let tls = self.tls_settings().await?;
        let mut db = self.store.read().await?;
        let approval = settings::get(&mut db, EST_APPROVAL).await?.unwrap_or_else(|| "auto".into());
        let pop = settings::get(&mut db, EST_POP).await?.unwrap_or_else(|| "off".into());
        Ok(SETTING_KEYS
            .iter()
            .map(|&key| {
                let value = match key {
                    EST_APPROVAL => Some(approval.clone()),
                    EST_POP => Some(pop.clone()),
                    _ => value_of(&mut s, sudi, &tls, key),
                };
                Setting { key, value, description: describe(key) }
            })
            .collect())
    }

    /// The `tls.*` settings in one read: what the legacy TLS engine may offer.
    /// Kept between calls once `serve` follows the change feed.
    pub async fn tls_settings(&self) -> Result<TlsSettings> {
        let read = || async { settings::tls(&mut self.store.read().await?).await };
        let Some(followed) = self.kept.followed() else { return read().await };
        Ok(*followed.tls.get(followed.version(&[Topic::Settings]).await, read).await?)
    }

    /// Changes one setting, audited with its old and new value. An empty value clears an
    /// optional subject field. New certificates and operations use it; issued ones keep theirs.
    pub async fn set_setting(&self, key: &str, value: &str, actor: &str) -> Result<Setting> {
        let Some(&key) = SETTING_KEYS.iter().find(|k| **k == key) else {
            return Err(Error::Invalid(format!("unknown setting '{key}'; known: {}", SETTING_KEYS.join(", "))));
        };
        if key == REQUIRE_SUDI {
            self.set_require_sudi(parse_switch(value)?, actor).await?;
            return Ok(Setting { key, value: Some(self.setting_value(key).await?), description: describe(key) });
        }
        if key.starts_with("tls.") {
            return self.set_tls_setting(key, value, actor).await;
        }
        if key.starts_with("est.") {
            return self.set_est_setting(key, value, actor).await;
        }
        let mut db = self.store.write().await?;
        let mut s = settings::load(&mut db).await?;
        let tls = TlsSettings::default();
        let old = value_of(&mut s, false, &tls, key);
        match key {
            "lsc.validity_days" => s.lsc_validity_days = days(key, value, 3650)?,
            "capf.operation_expires_days" => s.capf_operation_expires_days = days(key, value, 365)?,
            "device.key_order" => s.key_defaults.key_order = value.trim().parse()?,
            "device.rsa_bits" => s.key_defaults.rsa_bits = bits(key, value, &[1024, 2048, 3072, 4096])?,
            "device.ec_bits" => s.key_defaults.ec_bits = bits(key, value, &[256, 384, 521])?,
            _ => {
                let field = subject_field(&mut s.subject, key).expect("a subject key");
                *field = Some(value.trim().to_string()).filter(|v| !v.is_empty());
                if key == "subject.country" {
                    *field = field.as_ref().map(|c| c.to_ascii_uppercase());
                }
                s.subject.validate()?;
            }
        }
        let new = value_of(&mut s, false, &tls, key);
        settings::save(&mut db, &s).await?;
        let shown = |v: &Option<String>| v.clone().unwrap_or_else(|| "(none)".into());
        audit::record(&mut db, actor, "settings.set", key, &format!("{} -> {}", shown(&old), shown(&new))).await?;
        db.commit().await?;
        self.changed(&[Topic::Settings]);
        Ok(Setting { key, value: new, description: describe(key) })
    }

    /// One `tls.*` setting, checked, saved and audited with its old and new value.
    async fn set_tls_setting(&self, key: &'static str, value: &str, actor: &str) -> Result<Setting> {
        let mut db = self.store.write().await?;
        let mut t = settings::tls(&mut db).await?;
        let old = tls_value(&t, key).unwrap_or_default();
        set_tls(&mut t, key, value)?;
        let new = tls_value(&t, key);
        settings::save_tls(&mut db, &t).await?;
        let detail = format!("{old} -> {}", new.as_deref().unwrap_or_default());
        audit::record(&mut db, actor, "settings.set", key, &detail).await?;
        db.commit().await?;
        self.changed(&[Topic::Settings]);
        Ok(Setting { key, value: new, description: describe(key) })
    }

    /// `est.approval` (auto/manual) or `est.pop` (on/off), saved and audited.
    async fn set_est_setting(&self, key: &'static str, value: &str, actor: &str) -> Result<Setting> {
        let new = match key {
            EST_APPROVAL => match value.trim().to_ascii_lowercase().as_str() {
                v @ ("auto" | "manual") => v.to_owned(),
                _ => return Err(Error::Invalid(format!("{key} '{}': use auto or manual", value.trim()))),
            },
            _ => switch(
                parse_switch(value).map_err(|_| Error::Invalid(format!("{key} '{}': use on or off", value.trim())))?,
            ),
        };
        let mut db = self.store.write().await?;
        let old =
            settings::get(&mut db, key).await?.unwrap_or_else(|| if key == EST_POP { "off" } else { "auto" }.into());
        settings::set(&mut db, key, &new).await?;
        audit::record(&mut db, actor, "settings.set", key, &format!("{old} -> {new}")).await?;
        db.commit().await?;
        self.changed(&[Topic::Settings]);
        Ok(Setting { key, value: Some(new), description: describe(key) })
    }

    async fn setting_value(&self, key: &str) -> Result<String> {
        let all = self.settings_list().await?;
        Ok(all.into_iter().find(|s| s.key == key).and_then(|s| s.value).unwrap_or_default())
    }
}
