//! The files each kind of consumer reads, from a [`TrustBundle`]: pure text, no I/O.
//!
//! - FreeRADIUS 3 (Debian's `freeradius`, /etc/freeradius/3.0): `capf-ca.pem`, the CA
//!   certificates then the CRLs, concatenated (OpenSSL reads both from a `ca_file`), and `eap`, an
//!   EAP-TLS module whose `tls-config` names it with `check_crl = yes`.
//! - ISE: one PEM per certificate, named after its subject CN, an index with what ISE's
//!   Trusted Certificates page shows (friendly name, issued to, issued by, valid from and to),
//!   and each CAPF certificate's CRL (DER) for the CRL distribution URL ISE fetches.
//! - ASA: `crypto ca trustpoint` + `enrollment terminal`, `crypto ca authenticate` with the PEM
//!   inline and `quit`, and a `crypto ca certificate map` matching phones by CN (`SEP...`) under
//!   each CAPF certificate. No tab, no line longer than an ASA takes ([`ASA_MAX_LINE`]).
//! - PEM: the certificates as one bundle.

use std::fmt::{self, Write};
use std::str::FromStr;

use opencapf_pki::pem;
use serde::Serialize;
use time::OffsetDateTime;

use super::bundle::{BundleCertificate, BundleRole, TrustBundle};
use crate::{Error, Result};

/// The certificate map the ASA export defines.
pub const ASA_CERTIFICATE_MAP: &str = "OPENCAPF-PHONES";
/// The longest configuration line an ASA accepts.
pub const ASA_MAX_LINE: usize = 512;
/// The CA file of the FreeRADIUS export, and the EAP module.
const RADIUS_CA_FILE: &str = "capf-ca.pem";
const RADIUS_EAP_FILE: &str = "eap";

/// What `trust export --for` writes.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExportFormat {
    Freeradius,
    Ise,
    Asa,
    Pem,
}

impl ExportFormat {
    pub const ALL: [ExportFormat; 4] =
        [ExportFormat::Freeradius, ExportFormat::Ise, ExportFormat::Asa, ExportFormat::Pem];

    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Freeradius => "freeradius",
            ExportFormat::Ise => "ise",
            ExportFormat::Asa => "asa",
            ExportFormat::Pem => "pem",
        }
    }

    /// Whether it is several files (written into a folder) rather than one.
    pub fn is_folder(self) -> bool {
        matches!(self, ExportFormat::Freeradius | ExportFormat::Ise)
    }
}

impl fmt::Display for ExportFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for ExportFormat {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ExportFormat::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| Error::Invalid(format!("unknown export format '{s}': use freeradius, ise, asa or pem")))
    }
}

/// What the administrator says about the consumer's side.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// FreeRADIUS: the server's own EAP certificate and key (paths on the RADIUS server).
    pub radius_certificate: String,
    pub radius_key: String,
    /// FreeRADIUS: the folder (on the RADIUS server) the export's files go to.
    pub radius_dir: String,
    /// ASA and ISE: where the CRLs are published (`<URL>/<CAPF CN>.crl`), if they are.
    pub crl_url: Option<String>,
    pub generated_at: OffsetDateTime,
}

impl Default for ExportOptions {
    fn default() -> Self {
        ExportOptions {
            radius_certificate: "/etc/ssl/certs/ssl-cert-snakeoil.pem".into(),
            radius_key: "/etc/ssl/private/ssl-cert-snakeoil.key".into(),
            radius_dir: "${certdir}/opencapf".into(),
            crl_url: None,
            generated_at: opencapf_model::now(),
        }
    }
}

/// One file of an export.
#[derive(Debug, Clone)]
pub struct ExportFile {
    pub name: String,
    pub contents: Vec<u8>,
}

impl ExportFile {
    fn text(name: impl Into<String>, contents: String) -> ExportFile {
        ExportFile { name: name.into(), contents: contents.into_bytes() }
    }
}

/// The files of `format` for `bundle`.
pub fn render(format: ExportFormat, bundle: &TrustBundle, opts: &ExportOptions) -> Result<Vec<ExportFile>> {
    check_option("--radius-cert", &opts.radius_certificate)?;
    check_option("--radius-key", &opts.radius_key)?;
    check_option("--radius-dir", &opts.radius_dir)?;
    if let Some(url) = &opts.crl_url {
        check_option("--crl-url", url)?;
        if !(url.starts_with("http://") || url.starts_with("https://")) || url.contains(' ') {
            return Err(Error::Invalid(format!("--crl-url {url}: an http:// or https:// URL without spaces")));
        }
    }
    Ok(match format {
        ExportFormat::Freeradius => freeradius(bundle, opts),
        ExportFormat::Ise => ise(bundle, opts),
        ExportFormat::Asa => vec![ExportFile::text("asa.txt", asa(bundle, opts))],
        ExportFormat::Pem => vec![ExportFile::text("capf-trust.pem", certificates_pem(bundle))],
    })
}

/// Values that end up in a configuration file: one line, printable, no quote.
fn check_option(flag: &str, value: &str) -> Result<()> {
    if value.is_empty() || value.len() > 400 || value.chars().any(|c| c.is_control() || c == '"') {
        return Err(Error::Invalid(format!("{flag}: one line of at most 400 characters, without quotes")));
    }
    Ok(())
}

fn role_text(role: BundleRole) -> &'static str {
    match role {
        BundleRole::ActiveCapf => "active CAPF certificate",
        BundleRole::RetiredCapf => "retired CAPF certificate, still trusted",
        BundleRole::Issuer => "issuer of a CAPF certificate",
    }
}

fn cn_or_subject(c: &BundleCertificate) -> &str {
    c.info.subject_cn.as_deref().unwrap_or(&c.info.subject)
}

fn certificates_pem(bundle: &TrustBundle) -> String {
    bundle.certificates.iter().map(|c| pem::encode("CERTIFICATE", &c.der)).collect()
}

fn freeradius(bundle: &TrustBundle, opts: &ExportOptions) -> Vec<ExportFile> {
    let at = opencapf_model::ts(opts.generated_at);
    let mut ca = format!(
        "# OpenCAPF: the CA certificates that issue the phones' LSCs ({}), then their CRLs.\n\
         # Generated {at}. FreeRADIUS reads both from its ca_file; the CRLs are valid 7 days:\n\
         # export again before then (a CRL past its next update fails every LSC of its CA).\n",
        bundle.store
    );
    for c in &bundle.certificates {
        let _ = writeln!(ca, "# {}: {} (SHA-256 {})", role_text(c.role), c.info.subject, c.info.fingerprint);
        ca.push_str(&pem::encode("CERTIFICATE", &c.der));
    }
    for crl in &bundle.crls {
        let _ = writeln!(ca, "# CRL number {} of {}: {} serial(s)", crl.number, crl.capf_subject, crl.revoked);
        ca.push_str(&pem::encode("X509 CRL", &crl.der));
    }
    let eap = format!(
        "# OpenCAPF: EAP-TLS for phones presenting an LSC of this cluster (generated {at}).\n\
         # Install: {RADIUS_CA_FILE} into {dir}/, and this file as mods-available/eap (EAP-TLS\n\
         # only; or copy its tls-config section into your eap module and point tls at it).\n\
         # certificate_file and private_key_file are this RADIUS server's own EAP identity.\n\
         eap {{\n\
         \tdefault_eap_type = tls\n\
         \ttimer_expire = 60\n\
         \tignore_unknown_eap_types = no\n\
         \tcisco_accounting_username_bug = no\n\
         \tmax_sessions = ${{max_requests}}\n\
         \n\
         \ttls-config tls-opencapf {{\n\
         \t\tcertificate_file = {cert}\n\
         \t\tprivate_key_file = {key}\n\
         \t\t# Only the CAPF certificates: no ca_path, so that no other CA vouches for a phone.\n\
         \t\tca_file = {dir}/{RADIUS_CA_FILE}\n\
         \t\t# A revoked or superseded LSC is refused by its CAPF certificate's CRL.\n\
         \t\tcheck_crl = yes\n\
         \t\tcheck_all_crl = no\n\
         \t\tcipher_list = \"DEFAULT\"\n\
         \t\tcipher_server_preference = no\n\
         \t\ttls_min_version = \"1.2\"\n\
         \t\ttls_max_version = \"1.2\"\n\
         \t\tecdh_curve = \"\"\n\
         \t\tcache {{\n\
         \t\t\tenable = no\n\
         \t\t}}\n\
         \t\tverify {{\n\
         \t\t}}\n\
         \t\tocsp {{\n\
         \t\t\tenable = no\n\
         \t\t}}\n\
         \t}}\n\
         \n\
         \ttls {{\n\
         \t\ttls = tls-opencapf\n\
         \t}}\n\
         }}\n",
        dir = opts.radius_dir,
        cert = opts.radius_certificate,
        key = opts.radius_key,
    );
    vec![ExportFile::text(RADIUS_CA_FILE, ca), ExportFile::text(RADIUS_EAP_FILE, eap)]
}

/// A file name from a certificate's CN: letters, digits, `.`, `_`, `-`.
fn file_stem(c: &BundleCertificate) -> String {
    let stem: String = cn_or_subject(c)
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() || matches!(ch, '.' | '_' | '-') { ch } else { '_' })
        .take(64)
        .collect();
    let stem = stem.trim_start_matches('.');
    if stem.is_empty() {
        c.info.fingerprint[..16].to_owned()
    } else {
        stem.to_owned()
    }
}

fn ise(bundle: &TrustBundle, opts: &ExportOptions) -> Vec<ExportFile> {
    let mut files = Vec::new();
    let mut index = format!(
        "OpenCAPF: the CA certificates that issue the phones' LSCs ({}), one PEM each, for ISE's\n\
         Administration > System > Certificates > Trusted Certificates > Import, each with\n\
         \"Trust for client authentication and Syslog\" checked. Generated {}.\n",
        bundle.store,
        opencapf_model::ts(opts.generated_at)
    );
    let mut used: Vec<String> = Vec::new();
    for c in &bundle.certificates {
        let mut stem = file_stem(c);
        if used.contains(&stem) {
            stem = format!("{stem}-{}", &c.info.fingerprint[..8]);
        }
        used.push(stem.clone());
        let file = format!("{stem}.pem");
        let crl = bundle.crl_of(&c.info.fingerprint);
        let _ = write!(
            index,
            "\n{file}\n  Friendly Name:   {name}\n  Issued To:       {to}\n  Issued By:       {by}\n  \
             Valid From:      {from}\n  Expiration Date: {until}\n  Serial Number:   {serial}\n  \
             SHA-256:         {fp}\n  Role:            {role}\n",
            name = cn_or_subject(c),
            to = c.info.subject,
            by = c.info.issuer,
            from = opencapf_model::ts(c.info.not_before),
            until = opencapf_model::ts(c.info.not_after),
            serial = c.info.serial,
            fp = c.info.fingerprint,
            role = role_text(c.role),
        );
        files.push(ExportFile::text(file, pem::encode("CERTIFICATE", &c.der)));
        if let Some(crl) = crl {
            let crl_file = format!("{stem}.crl");
            let where_ = match &opts.crl_url {
                Some(base) => format!("{}/{crl_file}", base.trim_end_matches('/')),
                None => "publish it on a web server and give ISE its URL".into(),
            };
            let _ = writeln!(index, "  CRL:             {crl_file} (number {}; {where_})", crl.number);
            files.push(ExportFile { name: crl_file, contents: crl.der.clone() });
        }
    }
    files.insert(0, ExportFile::text("certificates.txt", index));
    files
}

/// `OPENCAPF-<CN>`: what the ASA export names the trustpoint of a certificate.
pub fn asa_trustpoint_name(info: &opencapf_pki::CertificateInfo) -> String {
    let cn: String = info
        .subject_cn
        .as_deref()
        .unwrap_or(&info.fingerprint[..16])
        .chars()
        .map(|ch| if ch.is_ascii_alphanumeric() || ch == '-' || ch == '_' { ch } else { '_' })
        .take(48)
        .collect();
    format!("OPENCAPF-{cn}")
}

fn asa(bundle: &TrustBundle, opts: &ExportOptions) -> String {
    let mut out = format!(
        "! OpenCAPF: the CA certificates that issue the phones' LSCs ({}), for the ASA.\n\
         ! Generated {}. Paste in configuration mode; after each \"quit\" the ASA shows the\n\
         ! certificate and asks to accept it: compare its fingerprint with these, then answer yes.\n",
        bundle.store,
        opencapf_model::ts(opts.generated_at)
    );
    for c in &bundle.certificates {
        let _ =
            writeln!(out, "!   {}: {} SHA-256 {}", asa_trustpoint_name(&c.info), role_text(c.role), c.info.fingerprint);
    }
    if opts.crl_url.is_none() {
        out.push_str(
            "! No CRL URL was given (--crl-url): revocation-check none, so the ASA accepts a revoked LSC\n\
             ! until it expires. Publish `opencapf capf crl` output and export again with --crl-url.\n",
        );
    }
    for c in &bundle.certificates {
        let name = asa_trustpoint_name(&c.info);
        let _ = writeln!(out, "crypto ca trustpoint {name}");
        out.push_str(" enrollment terminal\n");
        let crl_file = bundle.crl_of(&c.info.fingerprint).map(|_| format!("{}.crl", file_stem(c)));
        match (&opts.crl_url, crl_file) {
            (Some(base), Some(file)) => {
                out.push_str(" revocation-check crl\n crl configure\n  policy static\n");
                let _ = writeln!(out, "  url 1 {}/{file}", base.trim_end_matches('/'));
                out.push_str("  exit\n");
            }
            _ => out.push_str(" revocation-check none\n"),
        }
        out.push_str(" exit\n");
        let _ = writeln!(out, "crypto ca authenticate {name}");
        out.push_str(&pem::encode("CERTIFICATE", &c.der));
        out.push_str("quit\n");
    }
    out.push_str("!\n! Phones: an LSC whose CN holds SEP (CP-8861-SEP..., SEP...) issued by a CAPF certificate.\n");
    let capfs: Vec<&BundleCertificate> = bundle.certificates.iter().filter(|c| c.role != BundleRole::Issuer).collect();
    for (i, c) in capfs.iter().enumerate() {
        let _ = writeln!(out, "crypto ca certificate map {ASA_CERTIFICATE_MAP} {}", (i + 1) * 10);
        let _ = writeln!(out, " issuer-name attr cn eq {}", cn_or_subject(c));
        out.push_str(" subject-name attr cn co SEP\n");
        out.push_str(" exit\n");
    }
    out.push_str("!\n! Then map each rule to the phones' tunnel group (its name is yours), e.g.:\n! webvpn\n");
    for i in 0..capfs.len() {
        let _ = writeln!(out, "!  certificate-group-map {ASA_CERTIFICATE_MAP} {} PHONES-VPN", (i + 1) * 10);
    }
    debug_assert!(out.lines().all(|l| l.len() <= ASA_MAX_LINE && !l.contains('\t')));
    out
}
