//! Devices, their CAPF information, the certificates they hold, and their operation history.

use std::collections::HashMap;

use opencapf_model::{
    parse_ts, status, CapfInfo, CapfUpdate, CertificateOperation, Device, DeviceLsc, DeviceName, DirectoryNumber,
    HistoryEntry, IssuedCertificateRecord, KeyDefaults, NewDevice,
};
use opencapf_pki::CertificateInfo;
use sqlx::{FromRow, Row};

use crate::{now, ts, Db, Result, StoreError};

const COLUMNS: &str = "name, model, protocol, security_mode, description, created_at, operation, auth_mode, \
                       auth_string_hash, key_order, rsa_bits, ec_bits, completes_by, status, status_at, lsc_der, \
                       lsc_serial, lsc_issuer, lsc_issuer_cn, lsc_issuer_dn, lsc_aki, lsc_not_after, mic_der, \
                       load_information";

/// One row of `devices`, as stored (enums as their names, timestamps as text).
#[derive(sqlx::FromRow)]
struct DeviceRow {
    name: String,
    model: String,
    protocol: String,
    security_mode: String,
    description: String,
    created_at: String,
    operation: String,
    auth_mode: String,
    auth_string_hash: Option<String>,
    key_order: String,
    rsa_bits: i64,
    ec_bits: i64,
    completes_by: Option<String>,
    status: String,
    status_at: Option<String>,
    lsc_der: Option<Vec<u8>>,
    lsc_serial: Option<String>,
    lsc_issuer: Option<String>,
    lsc_issuer_cn: Option<String>,
    lsc_issuer_dn: Option<String>,
    lsc_aki: Option<String>,
    lsc_not_after: Option<String>,
    mic_der: Option<Vec<u8>>,
    load_information: Option<String>,
}

impl DeviceRow {
    fn into_device(self) -> Result<Device> {
        let lsc = match self.lsc_der {
            Some(der) => {
                // set_lsc writes the issuer fields with the certificate.
                let field = |v: Option<String>, what: &str| {
                    v.ok_or_else(|| StoreError::Invalid(format!("device {}: LSC without its {what}", self.name)))
                };
                Some(DeviceLsc {
                    der,
                    serial: field(self.lsc_serial, "serial")?,
                    issuer: field(self.lsc_issuer, "issuer")?,
                    issuer_cn: self.lsc_issuer_cn,
                    issuer_dn: field(self.lsc_issuer_dn, "issuer name")?,
                    authority_key_id: self.lsc_aki,
                    not_after: parse_ts(&field(self.lsc_not_after, "expiry")?)?,
                })
            }
            None => None,
        };
        Ok(Device {
            name: self.name.parse()?,
            model: self.model,
            protocol: self.protocol.parse()?,
            security_mode: self.security_mode.parse()?,
            description: self.description,
            created_at: self.created_at,
            capf: CapfInfo {
                operation: self.operation.parse()?,
                auth_mode: self.auth_mode.parse()?,
                auth_string_set: self.auth_string_hash.is_some(),
                // Only its keyed hash is stored: the digits cannot be read back.
                auth_string: None,
                key_order: self.key_order.parse()?,
                rsa_bits: self.rsa_bits as u32,
                ec_bits: self.ec_bits as u32,
                completes_by: self.completes_by.as_deref().map(parse_ts).transpose()?,
                status: self.status,
                status_at: self.status_at,
            },
            lsc,
            mic_der: self.mic_der,
            // Filled by the callers from device_lines.
            lines: Vec::new(),
            load_information: self.load_information,
        })
    }
}

/// One row of `operation_history`.
#[derive(sqlx::FromRow)]
struct HistoryRow {
    at: String,
    operation: String,
    auth_mode: String,
    status: String,
    detail: String,
}

impl From<HistoryRow> for HistoryEntry {
    fn from(r: HistoryRow) -> Self {
        HistoryEntry { at: r.at, operation: r.operation, auth_mode: r.auth_mode, status: r.status, detail: r.detail }
    }
}

/// One row of `issued_certificates`, without the DER.
#[derive(sqlx::FromRow)]
struct IssuedRow {
    serial: String,
    device: String,
    issuer_fingerprint: String,
    subject: String,
    not_before: String,
    not_after: String,
    state: String,
    issued_at: String,
    state_at: String,
}

impl From<IssuedRow> for IssuedCertificateRecord {
    fn from(r: IssuedRow) -> Self {
        IssuedCertificateRecord {
            serial: r.serial,
            device: r.device,
            issuer_fingerprint: r.issuer_fingerprint,
            subject: r.subject,
            not_before: r.not_before,
            not_after: r.not_after,
            state: r.state,
            issued_at: r.issued_at,
            state_at: r.state_at,
        }
    }
}

/// Adds a device whose CAPF settings start with the key `keys`.
pub async fn add(db: &mut Db, d: &NewDevice, keys: &KeyDefaults) -> Result<()> {
    let result = sqlx::query(
        "INSERT INTO devices (name, model, protocol, security_mode, description, created_at, key_order, rsa_bits, \
         ec_bits, load_information) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (name) DO NOTHING",
    )
    .bind(d.name.as_str())
    .bind(&d.model)
    .bind(d.protocol.as_str())
    .bind(d.security_mode.as_str())
    .bind(&d.description)
    .bind(ts(now()))
    .bind(keys.key_order.as_str())
    .bind(i64::from(keys.rsa_bits))
    .bind(i64::from(keys.ec_bits))
    .bind(&d.load_information)
    .execute(db.c())
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!("device {} already exists", d.name)));
    }
    for dn in &d.lines {
        add_line(db, &d.name, dn).await?;
    }
    Ok(())
}

/// Changes the phone page settings of a device (model, protocol, Device Security Mode,
/// description, load); its certificates and CAPF information are untouched.
pub async fn update(db: &mut Db, d: &NewDevice) -> Result<()> {
    let result = sqlx::query(
        "UPDATE devices SET model = $1, protocol = $2, security_mode = $3, description = $4, load_information = $5 \
         WHERE name = $6",
    )
    .bind(&d.model)
    .bind(d.protocol.as_str())
    .bind(d.security_mode.as_str())
    .bind(&d.description)
    .bind(&d.load_information)
    .bind(d.name.as_str())
    .execute(db.c())
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no device {}", d.name)));
    }
    Ok(())
}

/// Whether any device's Key Order allows an EC key (what makes the ITL signer version 1.1).
pub async fn any_ec_key_order(db: &mut Db) -> Result<bool> {
    let row = sqlx::query("SELECT 1 FROM devices WHERE key_order <> $1 LIMIT 1")
        .bind(opencapf_model::KeyOrder::RsaOnly.as_str())
        .fetch_optional(db.c())
        .await?;
    Ok(row.is_some())
}

pub async fn exists(db: &mut Db, name: &DeviceName) -> Result<bool> {
    Ok(sqlx::query("SELECT 1 FROM devices WHERE name = $1").bind(name.as_str()).fetch_optional(db.c()).await?.is_some())
}

/// A device and its lines, in one statement (a CAPF session reads its device in every claim): a
/// row per line, in button order, or one row without a line.
pub async fn get(db: &mut Db, name: &DeviceName) -> Result<Device> {
    let sql = format!(
        "SELECT {COLUMNS}, device_lines.dn AS line_dn FROM devices \
         LEFT JOIN device_lines ON device_lines.device = devices.name \
         WHERE devices.name = $1 ORDER BY device_lines.position"
    );
    let rows = sqlx::query(&sql).bind(name.as_str()).fetch_all(db.c()).await?;
    let first = rows.first().ok_or_else(|| StoreError::NotFound(format!("no device {name}")))?;
    let mut device = DeviceRow::from_row(first)?.into_device()?;
    for row in &rows {
        if let Some(dn) = row.try_get::<Option<String>, _>("line_dn")? {
            device.lines.push(dn.parse()?);
        }
    }
    Ok(device)
}

pub async fn list(db: &mut Db) -> Result<Vec<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM devices ORDER BY name");
    let mut devices: Vec<Device> = sqlx::query_as::<_, DeviceRow>(&sql)
        .fetch_all(db.c())
        .await?
        .into_iter()
        .map(DeviceRow::into_device)
        .collect::<Result<_>>()?;
    // One query for every device's lines, not one per device.
    let rows: Vec<(String, String)> =
        sqlx::query_as("SELECT device, dn FROM device_lines ORDER BY device, position").fetch_all(db.c()).await?;
    let mut by_device: HashMap<String, Vec<DirectoryNumber>> = HashMap::new();
    for (device, dn) in rows {
        by_device.entry(device).or_default().push(dn.parse()?);
    }
    for d in &mut devices {
        d.lines = by_device.remove(d.name.as_str()).unwrap_or_default();
    }
    Ok(devices)
}

/// A device's directory numbers, in button order.
pub async fn lines(db: &mut Db, name: &DeviceName) -> Result<Vec<DirectoryNumber>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT dn FROM device_lines WHERE device = $1 ORDER BY position")
        .bind(name.as_str())
        .fetch_all(db.c())
        .await?;
    rows.into_iter().map(|dn| Ok(dn.parse()?)).collect()
}

/// Adds a line after the device's last one. A DN already on the device is a conflict.
pub async fn add_line(db: &mut Db, name: &DeviceName, dn: &DirectoryNumber) -> Result<()> {
    let result = sqlx::query(
        "INSERT INTO device_lines (device, position, dn) \
         SELECT $1, COALESCE(MAX(position), 0) + 1, $2 FROM device_lines WHERE device = $3 \
         ON CONFLICT (device, dn) DO NOTHING",
    )
    .bind(name.as_str())
    .bind(dn.as_str())
    .bind(name.as_str())
    .execute(db.c())
    .await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::Conflict(format!("{name} already has line {dn}")));
    }
    Ok(())
}

/// Removes a line; the lines after it move up one button.
pub async fn remove_line(db: &mut Db, name: &DeviceName, dn: &DirectoryNumber) -> Result<()> {
    let mut kept = lines(db, name).await?;
    let before = kept.len();
    kept.retain(|l| l != dn);
    if kept.len() == before {
        return Err(StoreError::NotFound(format!("{name} has no line {dn}")));
    }
    sqlx::query("DELETE FROM device_lines WHERE device = $1").bind(name.as_str()).execute(db.c()).await?;
    for l in &kept {
        add_line(db, name, l).await?;
    }
    Ok(())
}

pub async fn names(db: &mut Db) -> Result<Vec<DeviceName>> {
    let rows: Vec<String> = sqlx::query_scalar("SELECT name FROM devices ORDER BY name").fetch_all(db.c()).await?;
    rows.into_iter().map(|name| Ok(name.parse()?)).collect()
}

/// How many devices the cluster has.
pub async fn count(db: &mut Db) -> Result<u64> {
    let n: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM devices").fetch_one(db.c()).await?;
    Ok(u64::try_from(n).unwrap_or(0))
}

pub async fn remove(db: &mut Db, name: &DeviceName) -> Result<()> {
    let result = sqlx::query("DELETE FROM devices WHERE name = $1").bind(name.as_str()).execute(db.c()).await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no device {name}")));
    }
    Ok(())
}

/// Saves the CAPF information of a device. A pending operation shows "Operation Pending"; setting
/// "No Pending Operation" cancels a pending one. Both are written to the history.
/// `auth_string_hash` is the keyed hash of the string (`u.auth_string`, the digits, is never
/// stored). A CAPF session working on the previous operation loses its claim, so that it cannot
/// overwrite the new one.
pub async fn set_capf(
    db: &mut Db,
    name: &DeviceName,
    u: &CapfUpdate,
    auth_string_hash: Option<&str>,
    detail: &str,
) -> Result<()> {
    let current = get(db, name).await?;
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
        "UPDATE devices SET operation = $1, auth_mode = $2, auth_string = NULL, auth_string_hash = $3, key_order = $4, \
         rsa_bits = $5, ec_bits = $6, completes_by = $7, status = $8, status_at = $9, claim_session = NULL, \
         claim_expires = NULL WHERE name = $10",
    )
    .bind(u.operation.as_str())
    .bind(u.auth_mode.as_str())
    .bind(auth_string_hash)
    .bind(u.key_order.as_str())
    .bind(i64::from(u.rsa_bits))
    .bind(i64::from(u.ec_bits))
    .bind(u.completes_by.map(ts))
    .bind(&new_status)
    .bind(&at)
    .bind(name.as_str())
    .execute(db.c())
    .await?;
    add_history(db, name, u.operation.as_str(), u.auth_mode.as_str(), &new_status, detail).await
}

pub async fn add_history(
    db: &mut Db,
    name: &DeviceName,
    operation: &str,
    auth_mode: &str,
    status: &str,
    detail: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO operation_history (device, at, operation, auth_mode, status, detail) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(name.as_str())
    .bind(ts(now()))
    .bind(operation)
    .bind(auth_mode)
    .bind(status)
    .bind(detail)
    .execute(db.c())
    .await?;
    Ok(())
}

pub async fn history(db: &mut Db, name: &DeviceName, limit: i64) -> Result<Vec<HistoryEntry>> {
    let rows = sqlx::query_as::<_, HistoryRow>(
        "SELECT at, operation, auth_mode, status, detail FROM operation_history WHERE device = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(name.as_str())
    .bind(limit.max(0))
    .fetch_all(db.c())
    .await?;
    Ok(rows.into_iter().map(HistoryEntry::from).collect())
}

/// Records the LSC a device holds (or none), with the issuer fields used to find the devices a
/// trust-store entry backs.
pub async fn set_lsc(db: &mut Db, name: &DeviceName, lsc: Option<&[u8]>) -> Result<()> {
    let info = lsc.map(CertificateInfo::parse).transpose()?;
    let query = sqlx::query(
        "UPDATE devices SET lsc_der = $1, lsc_serial = $2, lsc_issuer = $3, lsc_issuer_cn = $4, lsc_issuer_dn = $5, \
         lsc_aki = $6, lsc_not_after = $7 WHERE name = $8",
    );
    let result = bind_lsc(query, lsc, info.as_ref()).bind(name.as_str()).execute(db.c()).await?;
    if result.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!("no device {name}")));
    }
    Ok(())
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>>;

/// Binds a device's LSC columns, in the order `lsc_der, lsc_serial, lsc_issuer, lsc_issuer_cn,
/// lsc_issuer_dn, lsc_aki, lsc_not_after` (all NULL without an LSC).
pub(crate) fn bind_lsc<'q>(query: Query<'q>, der: Option<&'q [u8]>, info: Option<&CertificateInfo>) -> Query<'q> {
    query
        .bind(der)
        .bind(info.map(|i| i.serial.clone()))
        .bind(info.map(|i| i.issuer.clone()))
        .bind(info.and_then(|i| i.issuer_cn.clone()))
        .bind(info.map(|i| hex::encode(&i.issuer_der)))
        .bind(info.and_then(|i| i.authority_key_id.clone()))
        .bind(info.map(|i| ts(i.not_after)))
}

pub async fn set_mic(db: &mut Db, name: &DeviceName, mic: &[u8]) -> Result<()> {
    CertificateInfo::parse(mic)?;
    sqlx::query("UPDATE devices SET mic_der = $1 WHERE name = $2")
        .bind(mic)
        .bind(name.as_str())
        .execute(db.c())
        .await?;
    Ok(())
}

pub async fn issued_for(db: &mut Db, name: &DeviceName) -> Result<Vec<IssuedCertificateRecord>> {
    let rows = sqlx::query_as::<_, IssuedRow>(
        "SELECT serial, device, issuer_fingerprint, subject, not_before, not_after, state, issued_at, state_at \
         FROM issued_certificates WHERE device = $1 ORDER BY issued_at DESC, serial",
    )
    .bind(name.as_str())
    .fetch_all(db.c())
    .await?;
    Ok(rows.into_iter().map(IssuedCertificateRecord::from).collect())
}

/// Wrong authentication strings recorded since the operation was last scheduled
/// ("Operation Pending"): what the lock-out counts.
pub async fn wrong_strings_since_scheduled(db: &mut Db, name: &DeviceName) -> Result<u32> {
    let count: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM operation_history WHERE device = $1 AND status LIKE '% Failed: Invalid Authentication String' \
         AND id > COALESCE((SELECT MAX(id) FROM operation_history WHERE device = $2 AND status = $3), 0)",
    )
    .bind(name.as_str())
    .bind(name.as_str())
    .bind(status::PENDING)
    .fetch_one(db.c())
    .await?;
    Ok(u32::try_from(count).unwrap_or(u32::MAX))
}

/// The assignments that end a device's pending operation: back to "No Pending Operation", the
/// authentication string spent and the deadline cleared. A macro, so that every statement that
/// ends one (here and in `credentials`) stays one literal (`concat!`).
macro_rules! end_operation {
    () => {
        "operation = 'No Pending Operation', auth_string_hash = NULL, completes_by = NULL"
    };
}
pub(crate) use end_operation;

/// Writes a device's "Certificate Operation Status". `end_operation`: the operation ended too
/// (the assignments of `end_operation!`).
pub async fn set_status(db: &mut Db, name: &DeviceName, status: &str, end_operation: bool) -> Result<()> {
    let sql = if end_operation {
        concat!("UPDATE devices SET status = $1, status_at = $2, ", end_operation!(), " WHERE name = $3")
    } else {
        "UPDATE devices SET status = $1, status_at = $2 WHERE name = $3"
    };
    sqlx::query(sql).bind(status).bind(ts(now())).bind(name.as_str()).execute(db.c()).await?;
    Ok(())
}

/// Each device's current certificate: its installed LSC, else its recorded MIC (devices with
/// neither are left out), for the trust-removal guard.
pub async fn current_certificates(db: &mut Db) -> Result<Vec<(String, Vec<u8>)>> {
    Ok(sqlx::query_as(
        "SELECT name, COALESCE(lsc_der, mic_der) FROM devices \
         WHERE lsc_der IS NOT NULL OR mic_der IS NOT NULL ORDER BY name",
    )
    .fetch_all(db.c())
    .await?)
}

/// Every installed LSC's issuer name (hex DER), authority key id and expiry, without the
/// certificates: what the expiry metrics count, read at every scrape.
pub async fn lsc_expiries(db: &mut Db) -> Result<Vec<(String, Option<String>, time::OffsetDateTime)>> {
    let rows: Vec<(Option<String>, Option<String>, Option<String>)> =
        sqlx::query_as("SELECT lsc_issuer_dn, lsc_aki, lsc_not_after FROM devices WHERE lsc_der IS NOT NULL")
            .fetch_all(db.c())
            .await?;
    rows.into_iter()
        .map(|(issuer, aki, not_after)| {
            let missing = || StoreError::Invalid("a device's LSC without its issuer name or expiry".into());
            Ok((issuer.ok_or_else(missing)?, aki, parse_ts(&not_after.ok_or_else(missing)?)?))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencapf_model::{Protocol, SecurityMode};

    fn dn(s: &str) -> DirectoryNumber {
        s.parse().unwrap()
    }

    #[tokio::test]
    async fn lines_keep_button_order_and_go_with_the_device() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.read().await.unwrap();
            let name: DeviceName = "SEPC80084AA8743".parse().unwrap();
            let device = NewDevice {
                name: name.clone(),
                model: "CP-7821".into(),
                protocol: Protocol::Sip,
                security_mode: SecurityMode::NonSecure,
                description: String::new(),
                lines: vec![dn("2222"), dn("2223")],
                load_information: Some("sip78xx.14-2-1-0001-14".into()),
            };
            add(&mut db, &device, &KeyDefaults::default()).await.unwrap();
            add_line(&mut db, &name, &dn("+33123456789")).await.unwrap();
            let e = add_line(&mut db, &name, &dn("2222")).await.unwrap_err();
            assert!(e.to_string().contains("already has line 2222"), "{e}");
            let got = get(&mut db, &name).await.unwrap();
            assert_eq!(got.lines, [dn("2222"), dn("2223"), dn("+33123456789")]);
            assert_eq!(got.load_information.as_deref(), Some("sip78xx.14-2-1-0001-14"));

            remove_line(&mut db, &name, &dn("2223")).await.unwrap();
            assert_eq!(list(&mut db).await.unwrap()[0].lines, [dn("2222"), dn("+33123456789")]);
            let e = remove_line(&mut db, &name, &dn("9999")).await.unwrap_err();
            assert!(e.to_string().contains("has no line 9999"), "{e}");

            remove(&mut db, &name).await.unwrap();
            assert!(lines(&mut db, &name).await.unwrap().is_empty());
        }
    }
}
