//! Diagnostics: the answers a TAC engineer gives, from what an administrator has.
//!
//! - [`pcap`]: a packet capture (pcap or pcapng) read as a stream with bounded memory: every TLS
//!   connection with its endpoints, service, version, cipher, server and **client** certificates,
//!   their kind (LSC of this cluster, LSC of another cluster, MIC, other), alerts and outcome; with
//!   a cluster, the verdict of CallManager-trust and CAPF-trust on each client certificate.
//! - [`log`]: a phone console log (`PXY_NO_LSC`, `PXY_CERT_CIPHER`, `STATE_SSL3_ALERT`, `SECUREAPP`
//!   lines, trust list and TVS lines) turned into findings with the seed's remedies.
//! - [`doctor`]: one run over the cluster's own state: what will break, for how many phones, and
//!   the remedy.
//! - [`synth`]: builders for captures made byte by byte (pcap, pcapng, link layers, IP, TCP, TLS
//!   handshake messages), used by the tests, the benchmark and the fuzz target.
//!
//! Every finding carries a [`Severity`], the number of devices it concerns and the remedy.

pub mod cluster;
pub mod doctor;
pub mod finding;
pub mod log;
pub mod pcap;
mod remedies;
pub mod synth;

pub use cluster::ClusterView;
pub use finding::{Finding, Severity};

/// Errors that stop a diagnosis before it can say anything. Damaged or truncated input is not an
/// error: the report says what could be read and where reading stopped. Each message is whole
/// (context and cause's text); no variant exposes a `source()`, so the CLI prints each cause once.
#[derive(Debug, thiserror::Error)]
pub enum DiagnoseError {
    #[error("{context}: {cause}")]
    Io { context: String, cause: std::io::Error },
    #[error("{0}")]
    NotACapture(String),
    #[error("key log file: {0}")]
    KeyLog(String),
    #[error(transparent)]
    Store(#[from] opencapf_cluster::Error),
    #[error(transparent)]
    Pki(#[from] opencapf_pki::PkiError),
}

impl DiagnoseError {
    pub fn io(context: impl Into<String>) -> impl FnOnce(std::io::Error) -> DiagnoseError {
        let context = context.into();
        move |cause| DiagnoseError::Io { context, cause }
    }
}

/// The device name (`SEP` + 12 hex digits) inside a certificate common name such as
/// `SEP2C3124C9F8E1` (an LSC) or `CP-8861-SEP2C3124C9F8E1` (a MIC).
pub fn device_name_in(cn: &str) -> Option<String> {
    let upper = cn.to_ascii_uppercase();
    let bytes = upper.as_bytes();
    let mut i = 0;
    while let Some(pos) = upper[i..].find("SEP") {
        let start = i + pos;
        let hex = &bytes[start + 3..];
        if hex.len() >= 12
            && hex[..12].iter().all(u8::is_ascii_hexdigit)
            && hex.get(12).is_none_or(|c| !c.is_ascii_hexdigit())
        {
            return Some(upper[start..start + 15].to_owned());
        }
        i = start + 3;
    }
    None
}

/// `YYYY-MM-DD` of a time, UTC.
pub(crate) fn date(t: time::OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

#[cfg(test)]
mod tests {
    #[test]
    fn finds_device_names_in_common_names() {
        assert_eq!(super::device_name_in("SEP2C3124C9F8E1").as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(super::device_name_in("CP-8861-sep2c3124c9f8e1").as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(super::device_name_in("SEP2C3124C9F8E1A"), None);
        assert_eq!(super::device_name_in("CAPF-1a2b3c4d"), None);
        assert_eq!(super::device_name_in("SEPSEP2C3124C9F8E1"), Some("SEP2C3124C9F8E1".into()));
    }
}
