//! The trust stores: CallManager-trust, CAPF-trust and Phone-SAST-trust. Every entry is a trust
//! anchor (in Phone-SAST-trust, a SAST this cluster's TVS vouches for).

use opencapf_model::{TrustAdded, TrustEntry, TrustStore};
use opencapf_pki::{Anchor, CertificateInfo};

use crate::{now, ts, Db, Result, StoreError};

const COLUMNS: &str =
    "id, store, fingerprint, subject, common_name, subject_dn, key_id, der, not_after, legacy_sha1, added_at, added_by";

/// One row of `trust_entries`.
#[derive(sqlx::FromRow)]
struct TrustRow {
    id: i64,
    store: String,
    fingerprint: String,
    subject: String,
    common_name: Option<String>,
    subject_dn: String,
    key_id: Option<String>,
    der: Vec<u8>,
    not_after: String,
    legacy_sha1: i64,
    added_at: String,
    added_by: String,
}

impl TrustRow {
    fn into_entry(self) -> Result<TrustEntry> {
        Ok(TrustEntry {
            id: self.id,
            store: self.store.parse()?,
            fingerprint: self.fingerprint,
            subject: self.subject,
            common_name: self.common_name,
            subject_dn: self.subject_dn,
            key_id: self.key_id,
            der: self.der,
            not_after: self.not_after,
            legacy_sha1: self.legacy_sha1 != 0,
            added_at: self.added_at,
            added_by: self.added_by,
        })
    }
}

pub async fn add(db: &mut Db, store: TrustStore, der: &[u8], legacy_sha1: bool, added_by: &str) -> Result<TrustAdded> {
    let info = CertificateInfo::parse(der)?;
    let result = sqlx::query(
        "INSERT INTO trust_entries (store, fingerprint, subject, common_name, subject_dn, key_id, der, not_after, \
         legacy_sha1, added_at, added_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (store, fingerprint) DO NOTHING",
    )
    .bind(store.name())
    .bind(&info.fingerprint)
    .bind(&info.subject)
    .bind(&info.subject_cn)
    .bind(hex::encode(&info.subject_der))
    .bind(&info.subject_key_id)
    .bind(der)
    .bind(ts(info.not_after))
    .bind(i64::from(legacy_sha1))
    .bind(ts(now()))
    .bind(added_by)
    .execute(db.c())
    .await?;
    Ok(if result.rows_affected() == 1 { TrustAdded::Added } else { TrustAdded::AlreadyPresent })
}

pub async fn list(db: &mut Db, store: Option<TrustStore>) -> Result<Vec<TrustEntry>> {
    let rows = match store {
        Some(s) => {
            let sql =
                format!("SELECT {COLUMNS} FROM trust_entries WHERE store = $1 ORDER BY common_name NULLS FIRST, id");
            sqlx::query_as::<_, TrustRow>(&sql).bind(s.name()).fetch_all(db.c()).await?
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM trust_entries ORDER BY store, common_name NULLS FIRST, id");
            sqlx::query_as::<_, TrustRow>(&sql).fetch_all(db.c()).await?
        }
    };
    rows.into_iter().map(TrustRow::into_entry).collect()
}

/// The entries of every store whose certificate has this SHA-256 fingerprint (lower-case hex).
pub async fn with_fingerprint(db: &mut Db, fingerprint: &str) -> Result<Vec<TrustEntry>> {
    let sql = format!("SELECT {COLUMNS} FROM trust_entries WHERE fingerprint = $1 ORDER BY store, id");
    let rows = sqlx::query_as::<_, TrustRow>(&sql).bind(fingerprint).fetch_all(db.c()).await?;
    rows.into_iter().map(TrustRow::into_entry).collect()
}

pub async fn count(db: &mut Db, store: TrustStore) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM trust_entries WHERE store = $1")
        .bind(store.name())
        .fetch_one(db.c())
        .await?)
}

/// The anchors of a store, for `opencapf_pki::verify`.
pub async fn anchors(db: &mut Db, store: TrustStore) -> Result<Vec<Anchor>> {
    Ok(list(db, Some(store)).await?.into_iter().map(|e| Anchor { der: e.der, legacy_sha1: e.legacy_sha1 }).collect())
}

/// Finds one entry by fingerprint prefix (at least 6 hex digits) or by common name.
pub async fn find(db: &mut Db, store: TrustStore, selector: &str) -> Result<TrustEntry> {
    let sel = selector.trim();
    let hex_sel = sel.to_ascii_lowercase().replace(':', "");
    let entries = list(db, Some(store)).await?;
    let matches: Vec<&TrustEntry> = entries
        .iter()
        .filter(|e| {
            (hex_sel.len() >= 6
                && hex_sel.chars().all(|c| c.is_ascii_hexdigit())
                && e.fingerprint.starts_with(&hex_sel))
                || e.common_name.as_deref().is_some_and(|cn| cn.eq_ignore_ascii_case(sel))
        })
        .collect();
    match matches.as_slice() {
        [one] => Ok((*one).clone()),
        [] => Err(StoreError::NotFound(format!(
            "no certificate '{sel}' in {store} (give a common name or at least 6 hex digits of the SHA-256 fingerprint; \
             see `opencapf trust list {store}`)"
        ))),
        many => Err(StoreError::Invalid(format!(
            "'{sel}' matches {} certificates in {store}: {}; give more of the fingerprint",
            many.len(),
            many.iter().map(|e| format!("{} ({})", e.common_name.as_deref().unwrap_or("?"), &e.fingerprint[..16])).collect::<Vec<_>>().join(", ")
        ))),
    }
}

pub async fn delete(db: &mut Db, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM trust_entries WHERE id = $1").bind(id).execute(db.c()).await?;
    Ok(())
}
