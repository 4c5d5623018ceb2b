//! Cluster settings, stored as key/value text.

use opencapf_model::{ClusterSettings, SubjectFields};

use crate::{Db, Result, StoreError};

pub async fn set(db: &mut Db, key: &str, value: &str) -> Result<()> {
    sqlx::query(
        "INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )
    .bind(key)
    .bind(value)
    .execute(db.c())
    .await?;
    Ok(())
}

pub async fn get(db: &mut Db, key: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT value FROM settings WHERE key = ?").bind(key).fetch_optional(db.c()).await?)
}

pub async fn save(db: &mut Db, s: &ClusterSettings) -> Result<()> {
    set(db, "hostname", &s.hostname).await?;
    let subject = serde_json::to_string(&s.subject).expect("plain struct");
    set(db, "subject", &subject).await?;
    set(db, "capf_operation_expires_days", &s.capf_operation_expires_days.to_string()).await?;
    set(db, "lsc_validity_days", &s.lsc_validity_days.to_string()).await?;
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
    Ok(ClusterSettings { hostname, subject, capf_operation_expires_days, lsc_validity_days })
}
