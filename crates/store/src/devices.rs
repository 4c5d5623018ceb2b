//! Devices, their CAPF information, the certificates they hold, and their operation history.

use std::fmt;

use opencapf_pki::{CertificateInfo, DeviceName};
use serde::Serialize;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqliteConnection};
use time::OffsetDateTime;

use crate::model::status;
use crate::{
    now, parse_ts, ts, AuthMode, CapfInfo, CertificateOperation, Device, DeviceLsc, HistoryEntry,
    IssuedCertificateRecord, KeyOrder, NewDevice, Result, StoreError,
};

const COLUMNS: &str = "name, model, protocol, security_mode, description, created_at, operation, auth_mode, \
                       auth_string, key_order, rsa_bits, ec_bits, completes_by, status, status_at, lsc_der, \
                       lsc_serial, lsc_issuer, lsc_issuer_cn, lsc_issuer_dn, lsc_aki, lsc_not_after, mic_der";

fn from_row(r: SqliteRow) -> Result<Device> {
    let name: String = r.get(0);
    let protocol: String = r.get(2);
    let security: String = r.get(3);
    let operation: String = r.get(6);
    let auth_mode: String = r.get(7);
    let auth_string: Option<String> = r.get(8);
    let key_order: String = r.get(9);
    let completes_by: Option<String> = r.get(12);
    let lsc_der: Option<Vec<u8>> = r.get(15);
    let lsc = match lsc_der {
        Some(der) => {
            let not_after: String = r.get(21);
            Some(DeviceLsc {
                der,
                serial: r.get(16),
                issuer: r.get(17),
                issuer_cn: r.get(18),
                issuer_dn: r.get(19),
                authority_key_id: r.get(20),
                not_after: parse_ts(&not_after)?,
            })
        }
        None => None,
    };
    Ok(Device {
        name: name.parse()?,
        model: r.get(1),
        protocol: protocol.parse()?,
        security_mode: security.parse()?,
        description: r.get(4),
        created_at: r.get(5),
        capf: CapfInfo {
            operation: operation.parse()?,
            auth_mode: auth_mode.parse()?,
            auth_string_set: auth_string.is_some(),
            auth_string,
            key_order: key_order.parse()?,
            rsa_bits: r.get::<i64, _>(10) as u32,
            ec_bits: r.get::<i64, _>(11) as u32,
            completes_by: completes_by.as_deref().map(parse_ts).transpose()?,
            status: r.get(13),
            status_at: r.get(14),
        },
        lsc,
        mic_der: r.get(22),
    })
}

pub async fn add(conn: &mut SqliteConnection, d: &NewDevice) -> Result<()> {
    let result = sqlx::query(
        "INSERT INTO devices (name, model, protocol, security_mode, description, created_at) VALUES (?, ?, ?, ?, ?, ?) \
         ON CONFLICT (name) DO NOTHING",
    )
    .bind(d.name.as_str())
    .bind(&d.model)
    .bind(d.protocol.as_str())
    .bind(d.security_mode.as_str())
    .bind(&d.description)
    .bind(ts(now()))
    .execute(conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!("device {} already exists", d.name)));
    }
    Ok(())
}

/// Changes the phone page settings of a device (model, protocol, Device Security Mode,
/// description); its certificates and CAPF information are untouched.
pub async fn update(conn: &mut SqliteConnection, d: &NewDevice) -> Result<()> {
    let result =
        sqlx::query("UPDATE devices SET model = ?, protocol = ?, security_mode = ?, description = ? WHERE name = ?")
            .bind(&d.model)
            .bind(d.protocol.as_str())
            .bind(d.security_mode.as_str())
            .bind(&d.description)
            .bind(d.name.as_str())
            .execute(conn)
            .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no device {}", d.name)));
    }
    Ok(())
}

pub async fn exists(conn: &mut SqliteConnection, name: &DeviceName) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM devices WHERE name = ?").bind(name.as_str()).fetch_optional(conn).await?.is_some())
}

pub async fn get(conn: &mut SqliteConnection, name: &DeviceName) -> Result<Device> {
    let sql = format!("SELECT {COLUMNS} FROM devices WHERE name = ?");
    let row = sqlx::query(&sql).bind(name.as_str()).fetch_optional(conn).await?;
    row.map(from_row).transpose()?.ok_or_else(|| StoreError::NotFound(format!("no device {name}")))
}

pub async fn list(conn: &mut SqliteConnection) -> Result<Vec<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM devices ORDER BY name");
    sqlx::query(&sql).fetch_all(conn).await?.into_iter().map(from_row).collect()
}

pub async fn names(conn: &mut SqliteConnection) -> Result<Vec<DeviceName>> {
    let rows = sqlx::query("SELECT name FROM devices ORDER BY name").fetch_all(conn).await?;
    rows.into_iter().map(|r| Ok(r.get::<String, _>(0).parse()?)).collect()
}

pub async fn remove(conn: &mut SqliteConnection, name: &DeviceName) -> Result<()> {
    let result = sqlx::query("DELETE FROM devices WHERE name = ?").bind(name.as_str()).execute(conn).await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no device {name}")));
    }
    Ok(())
}

/// A change to the "CAPF Information" block.
#[derive(Debug, Clone)]
pub struct CapfUpdate {
    pub operation: CertificateOperation,
    pub auth_mode: AuthMode,
    pub auth_string: Option<String>,
    pub key_order: KeyOrder,
    pub rsa_bits: u32,
    pub ec_bits: u32,
    pub completes_by: Option<OffsetDateTime>,
}

/// Saves the CAPF information of a device. A pending operation shows "Operation Pending"; setting
/// "No Pending Operation" cancels a pending one. Both are written to the history.
pub async fn set_capf(conn: &mut SqliteConnection, name: &DeviceName, u: &CapfUpdate, detail: &str) -> Result<()> {
    let current = get(conn, name).await?;
    let new_status = if u.operation == CertificateOperation::NoPendingOperation {
        if current.capf.status == status::PENDING {
            status::NONE.to_owned()
        } else {
            current.capf.status.clone()
        }
    } else {
        status::PENDING.to_owned()
    };
    let at = ts(now());
    sqlx::query(
        "UPDATE devices SET operation = ?, auth_mode = ?, auth_string = ?, key_order = ?, rsa_bits = ?, ec_bits = ?, \
         completes_by = ?, status = ?, status_at = ? WHERE name = ?",
    )
    .bind(u.operation.as_str())
    .bind(u.auth_mode.as_str())
    .bind(&u.auth_string)
    .bind(u.key_order.as_str())
    .bind(i64::from(u.rsa_bits))
    .bind(i64::from(u.ec_bits))
    .bind(u.completes_by.map(ts))
    .bind(&new_status)
    .bind(&at)
    .bind(name.as_str())
    .execute(&mut *conn)
    .await?;
    add_history(conn, name, u.operation.as_str(), u.auth_mode.as_str(), &new_status, detail).await
}

pub async fn add_history(
    conn: &mut SqliteConnection,
    name: &DeviceName,
    operation: &str,
    auth_mode: &str,
    status: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO operation_history (device, at, operation, auth_mode, status, detail) VALUES (?, ?, ?, ?, ?, ?)",
    )
    .bind(name.as_str())
    .bind(ts(now()))
    .bind(operation)
    .bind(auth_mode)
    .bind(status)
    .bind(detail)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn history(conn: &mut SqliteConnection, name: &DeviceName, limit: i64) -> Result<Vec<HistoryEntry>> {
    let rows = sqlx::query(
        "SELECT at, operation, auth_mode, status, detail FROM operation_history WHERE device = ? ORDER BY id DESC LIMIT ?",
    )
    .bind(name.as_str())
    .bind(limit)
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| HistoryEntry {
            at: r.get(0),
            operation: r.get(1),
            auth_mode: r.get(2),
            status: r.get(3),
            detail: r.get(4),
        })
        .collect())
}

/// Records the LSC a device holds (or none), with the issuer fields used to find the devices a
/// trust-store entry backs.
pub async fn set_lsc(conn: &mut SqliteConnection, name: &DeviceName, lsc: Option<&[u8]>) -> Result<()> {
    let info = lsc.map(CertificateInfo::parse).transpose()?;
    let result = sqlx::query(
        "UPDATE devices SET lsc_der = ?, lsc_serial = ?, lsc_issuer = ?, lsc_issuer_cn = ?, lsc_issuer_dn = ?, \
         lsc_aki = ?, lsc_not_after = ? WHERE name = ?",
    )
    .bind(lsc)
    .bind(info.as_ref().map(|i| i.serial.clone()))
    .bind(info.as_ref().map(|i| i.issuer.clone()))
    .bind(info.as_ref().and_then(|i| i.issuer_cn.clone()))
    .bind(info.as_ref().map(|i| hex::encode(&i.issuer_der)))
    .bind(info.as_ref().and_then(|i| i.authority_key_id.clone()))
    .bind(info.as_ref().map(|i| ts(i.not_after)))
    .bind(name.as_str())
    .execute(conn)
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no device {name}")));
    }
    Ok(())
}

pub async fn set_mic(conn: &mut SqliteConnection, name: &DeviceName, mic: &[u8]) -> Result<()> {
    CertificateInfo::parse(mic)?;
    sqlx::query("UPDATE devices SET mic_der = ? WHERE name = ?").bind(mic).bind(name.as_str()).execute(conn).await?;
    Ok(())
}

pub async fn issued_for(conn: &mut SqliteConnection, name: &DeviceName) -> Result<Vec<IssuedCertificateRecord>> {
    let rows = sqlx::query(
        "SELECT serial, device, issuer_fingerprint, subject, not_before, not_after, state, issued_at, state_at \
         FROM issued_certificates WHERE device = ? ORDER BY issued_at DESC, serial",
    )
    .bind(name.as_str())
    .fetch_all(conn)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| IssuedCertificateRecord {
            serial: r.get(0),
            device: r.get(1),
            issuer_fingerprint: r.get(2),
            subject: r.get(3),
            not_before: r.get(4),
            not_after: r.get(5),
            state: r.get(6),
            issued_at: r.get(7),
            state_at: r.get(8),
        })
        .collect())
}

/// The state of a device's LSC, as `device list --lsc` filters it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LscState {
    None,
    Valid,
    Expired,
    /// Issued by a CAPF that is not (and never was) this cluster's.
    Foreign,
}

impl fmt::Display for LscState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LscState::None => "none",
            LscState::Valid => "valid",
            LscState::Expired => "expired",
            LscState::Foreign => "foreign",
        })
    }
}

impl std::str::FromStr for LscState {
    type Err = StoreError;
    fn from_str(s: &str) -> Result<Self> {
        match s.to_ascii_lowercase().as_str() {
            "none" => Ok(LscState::None),
            "valid" => Ok(LscState::Valid),
            "expired" => Ok(LscState::Expired),
            "foreign" => Ok(LscState::Foreign),
            _ => Err(StoreError::Invalid(format!("'{s}' is not an LSC state: use none, valid, expired or foreign"))),
        }
    }
}

/// Whether `lsc` was issued by one of `capfs` (this cluster's CAPF certificates, current and retired).
pub fn issued_by_cluster(lsc: &DeviceLsc, capfs: &[CertificateInfo]) -> bool {
    capfs.iter().any(|c| {
        hex::encode(&c.subject_der) == lsc.issuer_dn
            && match (&lsc.authority_key_id, &c.subject_key_id) {
                (Some(a), Some(s)) => a == s,
                _ => true,
            }
    })
}

pub fn lsc_state(device: &Device, capfs: &[CertificateInfo], at: OffsetDateTime) -> LscState {
    match &device.lsc {
        None => LscState::None,
        Some(l) if !issued_by_cluster(l, capfs) => LscState::Foreign,
        Some(l) if l.not_after < at => LscState::Expired,
        Some(_) => LscState::Valid,
    }
}
