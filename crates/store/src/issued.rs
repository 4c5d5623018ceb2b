//! Every LSC this cluster issued, with its state: `issued` (sent, not yet stored by the phone),
//! `installed` (the device's LSC), `superseded`, `failed`, `deleted` or `revoked`; and the
//! latest CRL of each CAPF certificate.

use opencapf_model::{parse_ts, DeviceName};
use opencapf_pki::IssuedCertificate;
use time::OffsetDateTime;

use crate::{now, ts, Db, Result};

/// Writes an LSC about to be sent, state `issued`. Returns false when its serial was already
/// recorded (nothing is written then).
pub async fn insert(
    db: &mut Db,
    device: &DeviceName,
    issuer_fingerprint: &str,
    lsc: &IssuedCertificate,
) -> Result<bool> {
    let at = ts(now());
    let inserted = sqlx::query(
        "INSERT INTO issued_certificates (serial, device, issuer_fingerprint, subject, der, not_before, not_after, state, \
         issued_at, state_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 'issued', $8, $9) ON CONFLICT (serial) DO NOTHING",
    )
    .bind(&lsc.info.serial)
    .bind(device.as_str())
    .bind(issuer_fingerprint)
    .bind(&lsc.info.subject)
    .bind(&lsc.der)
    .bind(ts(lsc.info.not_before))
    .bind(ts(lsc.info.not_after))
    .bind(&at)
    .bind(&at)
    .execute(db.c())
    .await?;
    Ok(inserted.rows_affected() == 1)
}

/// The DER and state of an LSC issued to `device`.
pub async fn find(db: &mut Db, device: &DeviceName, serial: &str) -> Result<Option<(Vec<u8>, String)>> {
    let row = sqlx::query_as::<_, (Vec<u8>, String)>(
        "SELECT der, state FROM issued_certificates WHERE serial = $1 AND device = $2",
    )
    .bind(serial)
    .bind(device.as_str())
    .fetch_optional(db.c())
    .await?;
    Ok(row)
}

/// What [`install`] did.
#[derive(Debug, Default)]
pub struct Installed {
    /// The DER of the LSC now installed; `None` when the device had no such LSC waiting for the
    /// phone (the caller drops its transaction then: the superseding is undone with it).
    pub der: Option<Vec<u8>>,
    /// How many LSCs it superseded (0 or 1).
    pub superseded: u64,
}

/// The phone stored LSC `serial`: it moves from `issued` to `installed`, and the device's
/// `installed` LSC, if any, to `superseded`, in one statement (one round trip of a CAPF session).
pub async fn install(db: &mut Db, device: &DeviceName, serial: &str) -> Result<Installed> {
    let rows: Vec<(String, String, Vec<u8>)> = sqlx::query_as(
        "UPDATE issued_certificates \
         SET state = CASE WHEN serial = $1 AND state = 'issued' THEN 'installed' ELSE 'superseded' END, state_at = $2 \
         WHERE device = $3 AND (state = 'installed' OR (serial = $1 AND state = 'issued')) \
         RETURNING serial, state, der",
    )
    .bind(serial)
    .bind(ts(now()))
    .bind(device.as_str())
    .fetch_all(db.c())
    .await?;
    let mut installed = Installed::default();
    for (row_serial, state, der) in rows {
        if row_serial == serial && state == "installed" {
            installed.der = Some(der);
        } else {
            installed.superseded += 1;
        }
    }
    Ok(installed)
}

/// Moves one LSC to `to`, when it is in state `from` (any state when `None`).
pub async fn set_state(db: &mut Db, serial: &str, from: Option<&str>, to: &str) -> Result<()> {
    sqlx::query(
        "UPDATE issued_certificates SET state = $1, state_at = $2 WHERE serial = $3 AND ($4 IS NULL OR state = $5)",
    )
    .bind(to)
    .bind(ts(now()))
    .bind(serial)
    .bind(from)
    .bind(from)
    .execute(db.c())
    .await?;
    Ok(())
}

/// Moves the device's `installed` LSC (if any) to `to` (`superseded`, `deleted`); how many moved (0 or 1).
pub async fn end_installed(db: &mut Db, device: &DeviceName, to: &str) -> Result<u64> {
    let done = sqlx::query(
        "UPDATE issued_certificates SET state = $1, state_at = $2 WHERE device = $3 AND state = 'installed'",
    )
    .bind(to)
    .bind(ts(now()))
    .bind(device.as_str())
    .execute(db.c())
    .await?;
    Ok(done.rows_affected())
}

/// How many LSCs are in `state`.
pub async fn count_in_state(db: &mut Db, state: &str) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT COUNT(*) FROM issued_certificates WHERE state = $1")
        .bind(state)
        .fetch_one(db.c())
        .await?)
}

/// One issued LSC as the revocation rules read it.
#[derive(Debug, Clone)]
pub struct IssuedRecord {
    pub serial: String,
    pub device: String,
    pub issuer_fingerprint: String,
    pub der: Vec<u8>,
    pub state: String,
    pub state_at: OffsetDateTime,
    /// Who made the last change (`None`: the CAPF server).
    pub state_by: Option<String>,
    /// For a `superseded` LSC: the serial of the device's next LSC that was installed.
    pub successor: Option<String>,
}

#[derive(sqlx::FromRow)]
struct IssuedRow {
    serial: String,
    device: String,
    issuer_fingerprint: String,
    der: Vec<u8>,
    state: String,
    state_at: String,
    state_by: Option<String>,
    successor: Option<String>,
}

impl TryFrom<IssuedRow> for IssuedRecord {
    type Error = crate::StoreError;
    fn try_from(r: IssuedRow) -> Result<Self> {
        Ok(IssuedRecord {
            state_at: parse_ts(&r.state_at)?,
            serial: r.serial,
            device: r.device,
            issuer_fingerprint: r.issuer_fingerprint,
            der: r.der,
            state: r.state,
            state_by: r.state_by,
            successor: r.successor,
        })
    }
}

/// The columns of [`IssuedRecord`]; the successor of a superseded LSC is the device's next one
/// (by issue time) that got installed, whatever became of it since.
const RECORD: &str = "SELECT i.serial, i.device, i.issuer_fingerprint, i.der, i.state, i.state_at, i.state_by, \
     CASE WHEN i.state = 'superseded' THEN (SELECT n.serial FROM issued_certificates n WHERE n.device = i.device \
     AND n.issued_at >= i.issued_at AND n.serial <> i.serial AND n.state NOT IN ('issued', 'failed') \
     ORDER BY n.issued_at, n.state_at LIMIT 1) END AS successor FROM issued_certificates i";

async fn records(db: &mut Db, filter: &str, bind: Option<&str>) -> Result<Vec<IssuedRecord>> {
    let sql = format!("{RECORD} WHERE {filter} ORDER BY i.issued_at, i.serial");
    let mut q = sqlx::query_as::<_, IssuedRow>(&sql);
    if let Some(b) = bind {
        q = q.bind(b.to_owned());
    }
    q.fetch_all(db.c()).await?.into_iter().map(IssuedRecord::try_from).collect()
}

/// Every LSC that is not a device's installed one.
pub async fn not_installed(db: &mut Db) -> Result<Vec<IssuedRecord>> {
    records(db, "i.state <> 'installed'", None).await
}

/// The LSCs one CAPF certificate issued that are no device's installed one any more (the
/// states its CRL lists: `revoked`, `superseded`, `deleted`, `failed`).
pub async fn ended_by_issuer(db: &mut Db, issuer_fingerprint: &str) -> Result<Vec<IssuedRecord>> {
    records(
        db,
        "i.issuer_fingerprint = $1 AND i.state IN ('revoked', 'superseded', 'deleted', 'failed')",
        Some(issuer_fingerprint),
    )
    .await
}

/// A number that changes whenever any issued LSC is added or changes state (a trigger keeps it):
/// what [`not_installed`] returns is the same for the same revision.
pub async fn revision(db: &mut Db) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT n FROM issued_revision WHERE id = 1").fetch_one(db.c()).await?)
}

/// One LSC by serial.
pub async fn record(db: &mut Db, serial: &str) -> Result<Option<IssuedRecord>> {
    Ok(records(db, "i.serial = $1", Some(serial)).await?.into_iter().next())
}

/// The serial of the device's installed LSC, if it has one.
pub async fn installed_serial(db: &mut Db, device: &DeviceName) -> Result<Option<String>> {
    Ok(sqlx::query_scalar("SELECT serial FROM issued_certificates WHERE device = $1 AND state = 'installed'")
        .bind(device.as_str())
        .fetch_optional(db.c())
        .await?)
}

/// Marks one LSC `revoked` by `actor`, now.
pub async fn revoke(db: &mut Db, serial: &str, actor: &str) -> Result<()> {
    sqlx::query("UPDATE issued_certificates SET state = 'revoked', state_at = $1, state_by = $2 WHERE serial = $3")
        .bind(ts(now()))
        .bind(actor)
        .bind(serial)
        .execute(db.c())
        .await?;
    Ok(())
}

/// The latest CRL signed by one CAPF certificate: its number and DER.
pub async fn latest_crl(db: &mut Db, capf_fingerprint: &str) -> Result<Option<(i64, Vec<u8>)>> {
    Ok(sqlx::query_as::<_, (i64, Vec<u8>)>("SELECT number, der FROM capf_crls WHERE capf_fingerprint = $1")
        .bind(capf_fingerprint)
        .fetch_optional(db.c())
        .await?)
}

/// Replaces the CRL of one CAPF certificate.
pub async fn put_crl(
    db: &mut Db,
    capf_fingerprint: &str,
    number: i64,
    this_update: OffsetDateTime,
    next_update: OffsetDateTime,
    der: &[u8],
) -> Result<()> {
    sqlx::query(
        "INSERT INTO capf_crls (capf_fingerprint, number, this_update, next_update, der) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (capf_fingerprint) DO UPDATE SET number = excluded.number, this_update = excluded.this_update, \
         next_update = excluded.next_update, der = excluded.der",
    )
    .bind(capf_fingerprint)
    .bind(number)
    .bind(ts(this_update))
    .bind(ts(next_update))
    .bind(der)
    .execute(db.c())
    .await?;
    Ok(())
}

/// The LSCs sent and not yet confirmed or failed (state `issued`).
pub async fn waiting(db: &mut Db) -> Result<Vec<IssuedRecord>> {
    records(db, "i.state = 'issued'", None).await
}

/// Moves one `issued` LSC to `failed` by `by` (a marker the cluster reads back). Returns false
/// when it was no longer `issued`.
pub async fn fail_by(db: &mut Db, serial: &str, by: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE issued_certificates SET state = 'failed', state_at = $1, state_by = $2 \
         WHERE serial = $3 AND state = 'issued'",
    )
    .bind(ts(now()))
    .bind(by)
    .bind(serial)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves one `failed` LSC that `by` failed to `installed` (by the CAPF server). Returns false
/// when it was not in that state.
pub async fn install_failed_by(db: &mut Db, serial: &str, by: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE issued_certificates SET state = 'installed', state_at = $1, state_by = NULL \
         WHERE serial = $2 AND state = 'failed' AND state_by = $3",
    )
    .bind(ts(now()))
    .bind(serial)
    .bind(by)
    .execute(db.c())
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The serial of an installed LSC of `device` issued no earlier than `serial` (its successor).
pub async fn newer_installed(db: &mut Db, device: &DeviceName, serial: &str) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT n.serial FROM issued_certificates n JOIN issued_certificates o ON o.serial = $1 \
         WHERE n.device = $2 AND n.state = 'installed' AND n.serial <> o.serial AND n.issued_at >= o.issued_at",
    )
    .bind(serial)
    .bind(device.as_str())
    .fetch_optional(db.c())
    .await?)
}

/// The serial of the LSC most recently issued to `device` (ties: the larger serial).
pub async fn latest_serial(db: &mut Db, device: &DeviceName) -> Result<Option<String>> {
    Ok(sqlx::query_scalar(
        "SELECT serial FROM issued_certificates WHERE device = $1 ORDER BY issued_at DESC, serial DESC LIMIT 1",
    )
    .bind(device.as_str())
    .fetch_optional(db.c())
    .await?)
}

/// The serials of LSCs failed by `by` whose device has since installed one issued no earlier.
pub async fn failed_by_and_outdated(db: &mut Db, by: &str) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT o.serial FROM issued_certificates o WHERE o.state = 'failed' AND o.state_by = $1 AND EXISTS \
         (SELECT 1 FROM issued_certificates n WHERE n.device = o.device AND n.state = 'installed' \
         AND n.serial <> o.serial AND n.issued_at >= o.issued_at)",
    )
    .bind(by)
    .fetch_all(db.c())
    .await?)
}

#[cfg(test)]
mod tests {
    use opencapf_model::{CertificateOperation, KeyDefaults, NewDevice, Protocol, SecurityMode};
    use opencapf_pki::{profiles, CaSigner, KeyAlgorithm, LscRequest, PrivateKey, SubjectFields};

    use super::*;
    use crate::credentials::{self, Claim, Release};
    use crate::devices;

    fn lsc(signer: &CaSigner, device: &DeviceName) -> IssuedCertificate {
        let phone = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        let request = LscRequest {
            device,
            model: Some("CP-8861"),
            public_key_der: phone.public_key_der(),
            pid_sn: None,
            validity_days: 365,
            now: now(),
        };
        profiles::lsc(signer, &request).unwrap()
    }

    async fn state(db: &mut Db, device: &DeviceName, serial: &str) -> String {
        find(db, device, serial).await.unwrap().unwrap().1
    }

    /// What a CAPF session's install writes, on both backends: the new LSC installed and the
    /// previous one superseded by one statement; an LSC that is not waiting for the phone is not
    /// installed (its caller's transaction is dropped, the superseding with it); the record that
    /// ends the session makes it the device's LSC only while the session holds the claim.
    #[tokio::test]
    async fn an_install_supersedes_the_previous_lsc_and_becomes_the_device_s() {
        let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        let capf = profiles::capf_certificate(&key, &SubjectFields::default(), 365, now()).unwrap();
        let signer = CaSigner::new(&capf.der, &key).unwrap();
        for t in crate::testing::each_backend().await {
            let name: DeviceName = "SEP001122334455".parse().unwrap();
            let (first, second) = (lsc(&signer, &name), lsc(&signer, &name));
            let mut db = t.store.write().await.unwrap();
            let device = NewDevice {
                name: name.clone(),
                model: "CP-8861".into(),
                protocol: Protocol::Sip,
                security_mode: SecurityMode::Encrypted,
                description: String::new(),
                lines: Vec::new(),
                load_information: None,
            };
            devices::add(&mut db, &device, &KeyDefaults::default()).await.unwrap();
            assert!(devices::get(&mut db, &name).await.unwrap().lines.is_empty(), "{}", t.backend);
            for l in [&first, &second] {
                assert!(insert(&mut db, &name, "capf", l).await.unwrap());
            }
            let one = install(&mut db, &name, &first.info.serial).await.unwrap();
            assert_eq!((one.der.as_deref(), one.superseded), (Some(&first.der[..]), 0), "{}", t.backend);
            let two = install(&mut db, &name, &second.info.serial).await.unwrap();
            assert_eq!((two.der.as_deref(), two.superseded), (Some(&second.der[..]), 1), "{}", t.backend);
            assert_eq!(state(&mut db, &name, &first.info.serial).await, "superseded", "{}", t.backend);
            assert_eq!(state(&mut db, &name, &second.info.serial).await, "installed", "{}", t.backend);
            db.commit().await.unwrap();

            let mut db = t.store.write().await.unwrap();
            let again = install(&mut db, &name, &second.info.serial).await.unwrap();
            assert!(again.der.is_none(), "{}: installed already, not waiting for the phone", t.backend);
            drop(db);
            let mut db = t.store.write().await.unwrap();
            assert_eq!(state(&mut db, &name, &second.info.serial).await, "installed", "{}", t.backend);

            assert_eq!(credentials::claim(&mut db, &name, "s1", 1, i64::MAX).await.unwrap(), Claim::Taken);
            let stored = Release::Install { der: &second.der, info: &second.info };
            let late = credentials::release_with_status(&mut db, &name, "s2", 2, "Upgrade Success", stored);
            assert!(!late.await.unwrap(), "{}: another session's record", t.backend);
            assert!(devices::get(&mut db, &name).await.unwrap().lsc.is_none(), "{}", t.backend);
            let held = credentials::release_with_status(&mut db, &name, "s1", 2, "Upgrade Success", stored);
            assert!(held.await.unwrap(), "{}", t.backend);
            let d = devices::get(&mut db, &name).await.unwrap();
            let got = d.lsc.as_ref().map(|l| (l.der.as_slice(), l.serial.as_str(), l.issuer.as_str()));
            let want = (&second.der[..], second.info.serial.as_str(), second.info.issuer.as_str());
            assert_eq!(got, Some(want), "{}", t.backend);
            assert_eq!(d.lsc.as_ref().map(|l| l.not_after), Some(second.info.not_after), "{}", t.backend);
            assert_eq!(
                (d.capf.status.as_str(), d.capf.operation),
                ("Upgrade Success", CertificateOperation::NoPendingOperation)
            );
            assert!(credentials::claims(&mut db).await.unwrap().is_empty(), "{}: the claim is released", t.backend);
        }
    }
}
