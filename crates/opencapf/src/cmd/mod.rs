//! One module per command group. Each takes the parsed arguments, does the work through the
//! cluster and PKI crates, and prints for people or, with `--json`, for scripts.

pub(crate) mod admin;
pub(crate) mod audit;
pub(crate) mod bench;
pub(crate) mod capf;
pub(crate) mod capf_report;
pub(crate) mod capf_rollover;
pub(crate) mod capf_signed;
pub(crate) mod cert;
pub(crate) mod cert_own;
pub(crate) mod cert_web;
pub(crate) mod cluster;
pub(crate) mod completions;
pub(crate) mod config;
pub(crate) mod consumer;
pub(crate) mod control;
pub(crate) mod device;
pub(crate) mod diagnose;
pub(crate) mod doctor;
pub(crate) mod est;
pub(crate) mod init;
pub(crate) mod man;
pub(crate) mod mfg;
pub(crate) mod migrate;
pub(crate) mod nodes;
pub(crate) mod phone;
pub(crate) mod registrations;
pub(crate) mod serve;
pub(crate) mod settings;
pub(crate) mod status;
pub(crate) mod trust;

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use opencapf_cluster::{Cluster, Database};

pub(crate) struct Context {
    pub data_dir: PathBuf,
    /// The folder came from `--data-dir` or `OPENCAPF_DATA_DIR`, not from the default.
    pub data_dir_named: bool,
    /// `--database`, else cluster.db in the data folder.
    pub database: Database,
    pub json: bool,
}

impl Context {
    pub(crate) async fn cluster(&self) -> anyhow::Result<Cluster> {
        Ok(Cluster::open_with(&self.data_dir, &self.database).await?)
    }

    /// The database `--database` named, when it is not the default (cluster.db in the folder).
    pub(crate) fn named_database(&self) -> Option<&Database> {
        (self.database != Database::in_folder(&self.data_dir)).then_some(&self.database)
    }
}

/// Certificates from a PEM/DER file, or from every certificate file of a folder.
pub(crate) fn read_certificates(path: &Path) -> anyhow::Result<Vec<Vec<u8>>> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = std::fs::read_dir(path)
            .with_context(|| format!("reading folder {}", path.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        let mut out = Vec::new();
        for f in files {
            let bytes = std::fs::read(&f).with_context(|| format!("reading {}", f.display()))?;
            match opencapf_pki::pem::parse_certificates(&bytes) {
                Ok(certs) => out.extend(certs),
                Err(_) if !is_cert_file(&f) => {} // a README or key beside the certificates
                Err(e) => return Err(e).with_context(|| format!("{}", f.display())),
            }
        }
        if out.is_empty() {
            anyhow::bail!("no certificate found in folder {}", path.display());
        }
        return Ok(out);
    }
    let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    opencapf_pki::pem::parse_certificates(&bytes).with_context(|| format!("{}", path.display()))
}

fn is_cert_file(p: &Path) -> bool {
    matches!(
        p.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref(),
        Some("pem" | "crt" | "cer" | "der")
    )
}
