//! Trust consumers: the systems outside the cluster that trust its CAPF certificates to judge
//! phones' LSCs (an 802.1X server such as FreeRADIUS or ISE, a VPN head-end such as an ASA).
//! The cluster records each one, every export written for it (which certificates, when) and
//! whether the administrator (or a live check) confirmed it applied; the CAPF rollover and the
//! guarded removal of an old CAPF certificate read what each consumer has.
//!
//! - this module: the consumers and their exports ([`Consumer`], [`ConsumerExport`]).
//! - `bundle`: what an export holds ([`TrustBundle`]: CAPF certificates, their issuers, CRLs).
//! - `formats`: the files each kind of consumer reads ([`ExportFormat`], [`ExportFile`]).

mod bundle;
mod formats;

use std::fmt;
use std::str::FromStr;

use opencapf_store::consumers::{self as table, ExportRow, ExportedCertificate};
use opencapf_store::{audit, Db};
use serde::Serialize;

pub use bundle::{BundleCertificate, BundleRole, TrustBundle, CHECK_LSC_MINUTES};
pub use formats::{
    asa_trustpoint_name, render, ExportFile, ExportFormat, ExportOptions, ASA_CERTIFICATE_MAP, ASA_MAX_LINE,
};

use crate::{Cluster, Error, Result};

/// What kind of system a consumer is: it decides the export format by default.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ConsumerKind {
    /// FreeRADIUS (802.1X, EAP-TLS).
    Freeradius,
    /// Cisco ISE (802.1X).
    Ise,
    /// Cisco ASA (phone VPN).
    Asa,
    /// Anything else that trusts the CAPF certificates (PEM bundle).
    Other,
}

impl ConsumerKind {
    pub const ALL: [ConsumerKind; 4] =
        [ConsumerKind::Freeradius, ConsumerKind::Ise, ConsumerKind::Asa, ConsumerKind::Other];

    pub fn as_str(self) -> &'static str {
        match self {
            ConsumerKind::Freeradius => "freeradius",
            ConsumerKind::Ise => "ise",
            ConsumerKind::Asa => "asa",
            ConsumerKind::Other => "other",
        }
    }

    /// The export format a consumer of this kind reads.
    pub fn format(self) -> ExportFormat {
        match self {
            ConsumerKind::Freeradius => ExportFormat::Freeradius,
            ConsumerKind::Ise => ExportFormat::Ise,
            ConsumerKind::Asa => ExportFormat::Asa,
            ConsumerKind::Other => ExportFormat::Pem,
        }
    }

    /// Whether it answers RADIUS (EAP-TLS), so that `consumer check` can try it live.
    pub fn is_radius(self) -> bool {
        matches!(self, ConsumerKind::Freeradius | ConsumerKind::Ise | ConsumerKind::Other)
    }
}

impl fmt::Display for ConsumerKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ConsumerKind {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ConsumerKind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::Invalid(format!("unknown consumer kind '{s}': use freeradius, ise, asa or other")))
    }
}

/// A certificate an export held.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ExportedCert {
    pub fingerprint: String,
    pub subject: String,
    pub not_after: String,
}

/// One export written for a consumer.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct ConsumerExport {
    pub id: i64,
    pub format: String,
    pub exported_at: String,
    pub exported_by: String,
    /// When it was confirmed applied (`consumer confirm`, or a successful `consumer check`).
    pub confirmed_at: Option<String>,
    pub confirmed_by: Option<String>,
    pub certificates: Vec<ExportedCert>,
}

impl ConsumerExport {
    fn from_row(r: ExportRow) -> ConsumerExport {
        ConsumerExport {
            id: r.id,
            format: r.format,
            exported_at: r.exported_at,
            exported_by: r.exported_by,
            confirmed_at: r.confirmed_at,
            confirmed_by: r.confirmed_by,
            certificates: r
                .certificates
                .into_iter()
                .map(|c| ExportedCert { fingerprint: c.fingerprint, subject: c.subject, not_after: c.not_after })
                .collect(),
        }
    }

    /// Whether it held the certificate with this fingerprint.
    pub fn holds(&self, fingerprint: &str) -> bool {
        self.certificates.iter().any(|c| c.fingerprint == fingerprint)
    }
}

/// A consumer, its latest export and its latest confirmed one.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Serialize)]
pub struct Consumer {
    pub name: String,
    pub kind: ConsumerKind,
    pub created_at: String,
    pub created_by: String,
    /// How many exports it was given.
    pub exports: i64,
    pub last_export: Option<ConsumerExport>,
    /// What it is known to run with: the newest export confirmed applied.
    pub confirmed: Option<ConsumerExport>,
}

impl Consumer {
    /// Whether its last export held the certificate (it was given it).
    pub fn exported(&self, fingerprint: &str) -> bool {
        self.last_export.as_ref().is_some_and(|e| e.holds(fingerprint))
    }

    /// Whether it is confirmed to run with the certificate.
    pub fn has(&self, fingerprint: &str) -> bool {
        self.confirmed.as_ref().is_some_and(|e| e.holds(fingerprint))
    }
}

/// 1 to 64 letters, digits, `.`, `_` or `-`: a name that is safe in a file name, a URL and a
/// terminal.
fn check_name(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
        && !name.starts_with(['.', '-']);
    if ok {
        Ok(())
    } else {
        Err(Error::Invalid(format!(
            "'{}' is not a consumer name: 1 to 64 letters, digits, '.', '_' or '-', not starting with '.' or '-'",
            name.escape_debug()
        )))
    }
}

pub(crate) async fn load(db: &mut Db, row: table::ConsumerRow) -> Result<Consumer> {
    let kind: ConsumerKind = row.kind.parse()?;
    let exports = table::export_count(db, &row.name).await?;
    let last_export = table::latest_export(db, &row.name, false).await?.map(ConsumerExport::from_row);
    let confirmed = table::latest_export(db, &row.name, true).await?.map(ConsumerExport::from_row);
    Ok(Consumer {
        name: row.name,
        kind,
        created_at: row.created_at,
        created_by: row.created_by,
        exports,
        last_export,
        confirmed,
    })
}

async fn require(db: &mut Db, name: &str) -> Result<table::ConsumerRow> {
    table::get(db, name).await?.ok_or_else(|| {
        Error::NotFound(format!("no consumer named {} (see `opencapf consumer list`)", name.escape_debug()))
    })
}

/// Every consumer, as the rollover reads them.
pub(crate) async fn all(db: &mut Db) -> Result<Vec<Consumer>> {
    let mut out = Vec::new();
    for row in table::list(db).await? {
        out.push(load(db, row).await?);
    }
    Ok(out)
}

impl Cluster {
    /// `consumer add`: a system that trusts the cluster's CAPF certificates (audited).
    pub async fn add_consumer(&self, name: &str, kind: ConsumerKind, actor: &str) -> Result<Consumer> {
        check_name(name)?;
        let mut db = self.store.write().await?;
        let row = table::add(&mut db, name, kind.as_str(), actor).await?;
        audit::record(&mut db, actor, "consumer.add", name, &format!("kind {kind}")).await?;
        let consumer = load(&mut db, row).await?;
        db.commit().await?;
        Ok(consumer)
    }

    /// `consumer list`: every consumer, by name.
    pub async fn consumers(&self) -> Result<Vec<Consumer>> {
        all(&mut self.store.read().await?).await
    }

    /// `consumer show`.
    pub async fn consumer(&self, name: &str) -> Result<Consumer> {
        let mut db = self.store.read().await?;
        let row = require(&mut db, name).await?;
        load(&mut db, row).await
    }

    /// `consumer remove`: forgets a consumer and its exports (audited). The rollover no longer
    /// waits for it.
    pub async fn remove_consumer(&self, name: &str, actor: &str) -> Result<Consumer> {
        let mut db = self.store.write().await?;
        let row = require(&mut db, name).await?;
        let consumer = load(&mut db, row).await?;
        table::remove(&mut db, name).await?;
        audit::record(
            &mut db,
            actor,
            "consumer.remove",
            name,
            &format!("kind {}; {} export(s)", consumer.kind, consumer.exports),
        )
        .await?;
        db.commit().await?;
        Ok(consumer)
    }

    /// Records that `bundle` was exported to a consumer in `format` (audited with the
    /// fingerprints). Call it once the files are written.
    pub async fn record_export(
        &self,
        name: &str,
        format: ExportFormat,
        bundle: &TrustBundle,
        actor: &str,
    ) -> Result<ConsumerExport> {
        let mut db = self.store.write().await?;
        let row = require(&mut db, name).await?;
        let kind: ConsumerKind = row.kind.parse()?;
        if kind != ConsumerKind::Other && kind.format() != format {
            return Err(Error::Invalid(format!(
                "{name} is a {kind} consumer: export it --for {} (or record it as kind other)",
                kind.format()
            )));
        }
        let certificates: Vec<ExportedCertificate> = bundle
            .certificates
            .iter()
            .map(|c| ExportedCertificate {
                fingerprint: c.info.fingerprint.clone(),
                subject: c.info.subject.clone(),
                not_after: opencapf_model::ts(c.info.not_after),
            })
            .collect();
        let id = table::record_export(&mut db, name, format.as_str(), actor, &certificates).await?;
        let prints: Vec<&str> = certificates.iter().map(|c| &c.fingerprint[..16]).collect();
        audit::record(
            &mut db,
            actor,
            "consumer.export",
            name,
            &format!("export {id}, {format}, {} certificate(s): {}", certificates.len(), prints.join(", ")),
        )
        .await?;
        let export = table::latest_export(&mut db, name, false).await?.map(ConsumerExport::from_row);
        db.commit().await?;
        export.ok_or_else(|| Error::NotFound(format!("export {id} of {name} vanished")))
    }

    /// `consumer confirm`: records that the consumer's last export was applied (audited). `how`
    /// says by what (the administrator's word, a live check).
    pub async fn confirm_consumer(&self, name: &str, how: &str, actor: &str) -> Result<ConsumerExport> {
        let mut db = self.store.write().await?;
        require(&mut db, name).await?;
        let Some(last) = table::latest_export(&mut db, name, false).await? else {
            return Err(Error::Refused(format!(
                "{name} was given no export yet: write one first (`opencapf trust export CAPF-trust --consumer {name}`)"
            )));
        };
        let newly = table::confirm(&mut db, last.id, actor).await?;
        if newly {
            audit::record(&mut db, actor, "consumer.confirm", name, &format!("export {} applied ({how})", last.id))
                .await?;
        }
        let export = table::latest_export(&mut db, name, false).await?.map(ConsumerExport::from_row);
        db.commit().await?;
        export.ok_or_else(|| Error::NotFound(format!("the export of {name} vanished")))
    }
}
