//! Cluster settings, stored as key/value text.

use opencapf_model::{ClusterSettings, KeyDefaults, SubjectFields, TlsSettings};

use crate::{Db, Result, StoreError};

pub async fn set(db: &mut Db, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(db.c())
    .await?;
    Ok(())
}

pub async fn get(db: &mut Db, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = $1").bind(key).fetch_optional(db.c()).await?)
}

pub async fn save(db: &mut Db, s: &ClusterSettings) -> Result<()> {
    set(db, "hostname", &s.hostname).await?;
    let subject = serde_json::to_string(&s.subject).expect("plain struct");
    set(db, "subject", &subject).await?;
    set(db, "capf_operation_expires_days", &s.capf_operation_expires_days.to_string()).await?;
    set(db, "lsc_validity_days", &s.lsc_validity_days.to_string()).await?;
    set(db, "key_order", s.key_defaults.key_order.as_str()).await?;
    set(db, "rsa_bits", &s.key_defaults.rsa_bits.to_string()).await?;
    set(db, "ec_bits", &s.key_defaults.ec_bits.to_string()).await?;
    Ok(())
}

pub async fn load(db: &mut Db) -> Result<ClusterSettings> {
    let missing = |k: &str| StoreError::Invalid(format!("cluster setting '{k}' is missing"));
    let hostname = get(db, "hostname").await?.ok_or_else(|| missing("hostname"))?;
    let subject: SubjectFields = serde_json::from_str(&get(db, "subject").await?.ok_or_else(|| missing("subject"))?)
        .map_err(|e| StoreError::Invalid(format!("cluster setting 'subject': {e}")))?;
    let number = |v: Option<String>, k: &str| -> Result<u32> {
        v.ok_or_else(|| missing(k))?
            .parse()
            .map_err(|_| StoreError::Invalid(format!("cluster setting '{k}' is not a number")))
    };
    let capf_operation_expires_days =
        number(get(db, "capf_operation_expires_days").await?, "capf_operation_expires_days")?;
    let lsc_validity_days = number(get(db, "lsc_validity_days").await?, "lsc_validity_days")?;
    let key_defaults = key_defaults(db).await?;
    Ok(ClusterSettings { hostname, subject, capf_operation_expires_days, lsc_validity_days, key_defaults })
}

/// The key defaults of new devices; CUCM's for a cluster made before they were settings.
async fn key_defaults(db: &mut Db) -> Result<KeyDefaults> {
    let mut k = KeyDefaults::default();
    let bad = |key: &str| StoreError::Invalid(format!("cluster setting '{key}' is not valid"));
    if let Some(v) = get(db, "key_order").await? {
        k.key_order = v.parse().map_err(|_| bad("key_order"))?;
    }
    if let Some(v) = get(db, "rsa_bits").await? {
        k.rsa_bits = v.parse().map_err(|_| bad("rsa_bits"))?;
    }
    if let Some(v) = get(db, "ec_bits").await? {
        k.ec_bits = v.parse().map_err(|_| bad("ec_bits"))?;
    }
    Ok(k)
}

/// The keys of the `tls.*` settings, stored as `settings set` names them.
pub const TLS_MIN_VERSION: &str = "tls.min_version";
pub const TLS_CBC: &str = "tls.cbc";
pub const TLS_NULL_SHA: &str = "tls.null_sha";
pub const TLS_EMPTY_FRAGMENTS: &str = "tls.empty_fragments";

/// The `tls.*` settings; the defaults ([`TlsSettings::default`]) for those never set.
pub async fn tls(db: &mut Db) -> Result<TlsSettings> {
    let mut t = TlsSettings::default();
    let bad = |key: &str| StoreError::Invalid(format!("cluster setting '{key}' is not valid"));
    if let Some(v) = get(db, TLS_MIN_VERSION).await? {
        t.min_version = v.parse().map_err(|_| bad(TLS_MIN_VERSION))?;
    }
    for (key, field) in
        [(TLS_CBC, &mut t.cbc), (TLS_NULL_SHA, &mut t.null_sha), (TLS_EMPTY_FRAGMENTS, &mut t.empty_fragments)]
    {
        match get(db, key).await?.as_deref() {
            None => {}
            Some("on") => *field = true,
            Some("off") => *field = false,
            Some(_) => return Err(bad(key)),
        }
    }
    Ok(t)
}

/// Writes every `tls.*` setting (`on`/`off`, the version's token).
pub async fn save_tls(db: &mut Db, t: &TlsSettings) -> Result<()> {
    let switch = |on: bool| if on { "on" } else { "off" };
    set(db, TLS_MIN_VERSION, t.min_version.token()).await?;
    set(db, TLS_CBC, switch(t.cbc)).await?;
    set(db, TLS_NULL_SHA, switch(t.null_sha)).await?;
    set(db, TLS_EMPTY_FRAGMENTS, switch(t.empty_fragments)).await
}
