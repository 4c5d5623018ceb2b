//! Phone registrations to CallManager: every registration, refusal and unregistration, with what
//! the phone showed (transport, TLS version and cipher, certificate kind, issuer and serial) and,
//! for a refusal, the reason an administrator reads. Refusals come aggregated
//! ([`record_refusals`]: a count and the first and last time); old rows go ([`delete_before`]).

use opencapf_model::{DeviceName, NewRegistration, RefusalCount, Registration};
use time::OffsetDateTime;

use crate::{now, ts, Db, Result};

const COLUMNS: &str = "id, at, device, peer, protocol, transport, tls_version, cipher, engine, cert_kind, \
                       cert_subject, issuer_cn, serial, result, reason, count, first_at, lines";

/// One row of `registrations`.
#[derive(sqlx::FromRow)]
struct RegistrationRow {
    id: i64,
    at: String,
    device: Option<String>,
    peer: String,
    protocol: String,
    transport: String,
    tls_version: Option<String>,
    cipher: Option<String>,
    /// `rustls` or `openssl`; `NULL` without TLS.
    engine: Option<String>,
    cert_kind: Option<String>,
    cert_subject: Option<String>,
    issuer_cn: Option<String>,
    serial: Option<String>,
    result: String,
    reason: String,
    count: i64,
    first_at: Option<String>,
    /// Directory numbers, space-separated.
    lines: String,
}

impl RegistrationRow {
    fn into_registration(self) -> Result<Registration> {
        Ok(Registration {
            id: self.id,
            at: self.at,
            count: u32::try_from(self.count).unwrap_or(u32::MAX),
            first_at: self.first_at,
            event: NewRegistration {
                device: self.device,
                peer: self.peer,
                protocol: self.protocol.parse()?,
                transport: self.transport.parse()?,
                tls_version: self.tls_version,
                cipher: self.cipher,
                engine: self.engine.as_deref().map(str::parse).transpose()?,
                cert_kind: self.cert_kind,
                cert_subject: self.cert_subject,
                issuer_cn: self.issuer_cn,
                serial: self.serial,
                result: self.result.parse()?,
                reason: self.reason,
                lines: self.lines.split_whitespace().map(str::parse).collect::<std::result::Result<_, _>>()?,
            },
        })
    }
}

/// Records one registration event, stamped now. Returns its id.
pub async fn record(db: &mut Db, r: &NewRegistration) -> Result<i64> {
    insert(db, r, 1, &ts(now()), None).await
}

/// Records each aggregate of refusals as one row: its count, first and last time.
pub async fn record_refusals(db: &mut Db, refusals: &[RefusalCount]) -> Result<()> {
    for r in refusals {
        let first = (r.count > 1).then(|| ts(r.first));
        insert(db, &r.event, r.count, &ts(r.last), first).await?;
    }
    Ok(())
}

/// Deletes the rows recorded before `cutoff`; returns how many.
pub async fn delete_before(db: &mut Db, cutoff: OffsetDateTime) -> Result<u64> {
    let done = sqlx::query("DELETE FROM registrations WHERE at < $1").bind(ts(cutoff)).execute(db.c()).await?;
    Ok(done.rows_affected())
}

async fn insert(db: &mut Db, r: &NewRegistration, count: u32, at: &str, first_at: Option<String>) -> Result<i64> {
    // RETURNING rather than SQLite's last_insert_rowid: PostgreSQL has it too.
    Ok(sqlx::query_scalar(
        "INSERT INTO registrations (at, device, peer, protocol, transport, tls_version, cipher, engine, cert_kind, \
         cert_subject, issuer_cn, serial, result, reason, count, first_at, lines) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17) RETURNING id",
    )
    .bind(at)
    .bind(&r.device)
    .bind(&r.peer)
    .bind(r.protocol.as_str())
    .bind(r.transport.as_str())
    .bind(&r.tls_version)
    .bind(&r.cipher)
    .bind(r.engine.map(|e| e.token()))
    .bind(&r.cert_kind)
    .bind(&r.cert_subject)
    .bind(&r.issuer_cn)
    .bind(&r.serial)
    .bind(r.result.as_str())
    .bind(&r.reason)
    .bind(i64::from(count))
    .bind(first_at)
    .bind(r.lines.iter().map(|l| l.as_str()).collect::<Vec<_>>().join(" "))
    .fetch_one(db.c())
    .await?)
}

/// Registration events, newest first: all of them, or those of one device.
pub async fn list(db: &mut Db, device: Option<&DeviceName>, limit: i64) -> Result<Vec<Registration>> {
    let limit = limit.max(0);
    let rows = match device {
        Some(d) => {
            let sql = format!("SELECT {COLUMNS} FROM registrations WHERE device = $1 ORDER BY id DESC LIMIT $2");
            sqlx::query_as::<_, RegistrationRow>(&sql).bind(d.as_str()).bind(limit).fetch_all(db.c()).await?
        }
        None => {
            let sql = format!("SELECT {COLUMNS} FROM registrations ORDER BY id DESC LIMIT $1");
            sqlx::query_as::<_, RegistrationRow>(&sql).bind(limit).fetch_all(db.c()).await?
        }
    };
    rows.into_iter().map(RegistrationRow::into_registration).collect()
}

/// Each device's newest registration event (one row per device that has any), for reports over
/// the whole fleet: the database picks them, instead of every stored event being read.
pub async fn newest_per_device(db: &mut Db) -> Result<Vec<Registration>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM registrations WHERE id IN \
         (SELECT MAX(id) FROM registrations WHERE device IS NOT NULL GROUP BY device) ORDER BY device"
    );
    let rows = sqlx::query_as::<_, RegistrationRow>(&sql).fetch_all(db.c()).await?;
    rows.into_iter().map(RegistrationRow::into_registration).collect()
}

/// One event counted by the dashboard's timeline: when, its result, the refusal reason and how
/// many attempts the row stands for.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct EventCount {
    pub at: String,
    pub result: String,
    pub reason: String,
    pub count: i64,
}

/// The events recorded at or after `from`, oldest first, without their details: what a
/// timeline counts (the index on `at` keeps it to the rows asked for).
pub async fn counts_since(db: &mut Db, from: OffsetDateTime) -> Result<Vec<EventCount>> {
    Ok(sqlx::query_as::<_, EventCount>(
        "SELECT at, result, reason, count FROM registrations WHERE at >= $1 ORDER BY at",
    )
    .bind(ts(from))
    .fetch_all(db.c())
    .await?)
}

/// The last `n` registration events of a device, newest first (for `device show`).
pub async fn last_for(db: &mut Db, device: &DeviceName, n: i64) -> Result<Vec<Registration>> {
    list(db, Some(device), n).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencapf_model::{Protocol, RegistrationResult, TlsEngine, Transport};

    fn event(device: &str, result: RegistrationResult) -> NewRegistration {
        NewRegistration {
            device: Some(device.into()),
            peer: "192.0.2.7:51234".into(),
            protocol: Protocol::Sip,
            transport: Transport::Tls,
            tls_version: Some("TLSv1.3".into()),
            cipher: Some("TLS13_AES_256_GCM_SHA384".into()),
            engine: Some(TlsEngine::Rustls),
            cert_kind: Some("LSC".into()),
            cert_subject: Some(format!("CN={device}")),
            issuer_cn: Some("CAPF-1a2b3c4d".into()),
            serial: Some("4f".into()),
            result,
            reason: String::new(),
            lines: Vec::new(),
        }
    }

    #[tokio::test]
    async fn lists_newest_first_per_device() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.read().await.unwrap();
            let a: DeviceName = "SEP2C3124C9F8E1".parse().unwrap();
            let mut registered = event(a.as_str(), RegistrationResult::Registered);
            registered.lines = vec!["2222".parse().unwrap(), "+33123456789".parse().unwrap()];
            registered.transport = Transport::Udp;
            record(&mut db, &registered).await.unwrap();
            let mut refused = event("SEP001122334455", RegistrationResult::Refused);
            refused.reason = "unknown CA".into();
            refused.transport = Transport::Tcp;
            record(&mut db, &refused).await.unwrap();
            record(&mut db, &event(a.as_str(), RegistrationResult::Unregistered)).await.unwrap();

            let all = list(&mut db, None, 10).await.unwrap();
            assert_eq!(all.len(), 3);
            assert_eq!(all[1].reason, "unknown CA");
            assert_eq!(all[1].transport, Transport::Tcp);
            let newest: Vec<_> =
                newest_per_device(&mut db).await.unwrap().into_iter().map(|r| (r.device.clone(), r.result)).collect();
            assert_eq!(
                newest,
                [
                    (Some("SEP001122334455".to_owned()), RegistrationResult::Refused),
                    (Some(a.to_string()), RegistrationResult::Unregistered)
                ]
            );
            let mine = last_for(&mut db, &a, 5).await.unwrap();
            let results: Vec<_> = mine.iter().map(|r| r.result).collect();
            assert_eq!(results, [RegistrationResult::Unregistered, RegistrationResult::Registered]);
            assert_eq!(last_for(&mut db, &a, 1).await.unwrap().len(), 1);
            assert_eq!((mine[1].transport, mine[1].lines.clone()), (Transport::Udp, registered.lines.clone()));
            assert!(mine[0].lines.is_empty());
            assert_eq!(all[0].count, 1);
            assert_eq!(all[0].first_at, None);
            let json = serde_json::to_value(&mine[0]).unwrap();
            assert_eq!(json["result"], "unregistered");
            assert_eq!(json["transport"], "TLS");
            assert_eq!(json["protocol"], "SIP");
            assert_eq!((json["engine"].as_str(), json["legacy"].as_bool()), (Some("rustls"), Some(false)));
        }
    }

    #[tokio::test]
    async fn a_legacy_connection_is_recorded_with_its_engine() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.read().await.unwrap();
            let mut old = event("SEP001122334455", RegistrationResult::Registered);
            (old.tls_version, old.cipher, old.engine) =
                (Some("TLSv1".into()), Some("AES256-SHA".into()), Some(TlsEngine::Openssl));
            record(&mut db, &old).await.unwrap();
            let mut plain = event("SEP001122334466", RegistrationResult::Registered);
            (plain.transport, plain.tls_version, plain.cipher, plain.engine) = (Transport::Tcp, None, None, None);
            record(&mut db, &plain).await.unwrap();

            let all = list(&mut db, None, 10).await.unwrap();
            assert_eq!((all[0].engine, all[0].is_legacy()), (None, false));
            assert_eq!((all[1].engine, all[1].is_legacy()), (Some(TlsEngine::Openssl), true));
            let json = serde_json::to_value(&all[1]).unwrap();
            assert_eq!((json["engine"].as_str(), json["legacy"].as_bool()), (Some("openssl"), Some(true)));
            assert_eq!(json["cipher"], "AES256-SHA");
        }
    }

    #[tokio::test]
    async fn aggregated_refusals_keep_their_count_and_old_rows_go() {
        for t in crate::testing::each_backend().await {
            let mut db = t.store.read().await.unwrap();
            let last = now();
            let first = last - time::Duration::seconds(1);
            let refused =
                RefusalCount { event: event("SEP001122334455", RegistrationResult::Refused), count: 40, first, last };
            record_refusals(&mut db, &[refused]).await.unwrap();
            let all = list(&mut db, None, 10).await.unwrap();
            assert_eq!((all[0].count, all[0].first_at.clone()), (40, Some(ts(first))));
            assert_eq!(all[0].at, ts(last));

            assert_eq!(delete_before(&mut db, first).await.unwrap(), 0);
            assert_eq!(delete_before(&mut db, last + time::Duration::seconds(1)).await.unwrap(), 1);
            assert!(list(&mut db, None, 10).await.unwrap().is_empty());
        }
    }
}
