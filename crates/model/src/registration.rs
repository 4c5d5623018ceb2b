//! Phone registrations to CallManager: every registration, refusal and unregistration, with what
//! the phone showed and, for a refusal, the reason an administrator reads.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

use crate::cucm::cucm_enum;
use crate::{is_legacy_tls, DirectoryNumber, ModelError, Protocol, TlsEngine};

cucm_enum!(
    /// How the phone reached CallManager.
    Transport { Tls => "TLS", "tls"; Tcp => "TCP", "tcp"; Udp => "UDP", "udp"; }
);

cucm_enum!(
    /// What came of a registration attempt; `Unregistered`: the phone ended its registration
    /// (SIP `Expires: 0`, SCCP UnregisterMessage).
    RegistrationResult {
        Registered => "registered", "registered";
        Refused => "refused", "refused";
        Unregistered => "unregistered", "unregistered";
    }
);

/// A registration event to record.
#[cfg_attr(feature = "utoipa", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewRegistration {
    /// The device name the phone gave, or the one its certificate carries; `None` when neither
    /// is known (say, a TLS client without a certificate).
    pub device: Option<String>,
    /// `address:port` of the phone.
    pub peer: String,
    pub protocol: Protocol,
    pub transport: Transport,
    /// `TLSv1.2`, `TLSv1.3`.
    pub tls_version: Option<String>,
    /// IANA name of the cipher suite, e.g. `TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256` (OpenSSL's
    /// name, `AES256-SHA`, for the legacy engine).
    pub cipher: Option<String>,
    /// The TLS engine that served the connection (`None` without TLS).
    pub engine: Option<TlsEngine>,
    /// `LSC`, `MIC` or `other`.
    pub cert_kind: Option<String>,
    pub cert_subject: Option<String>,
    pub issuer_cn: Option<String>,
    /// Serial number of the phone's certificate, lowercase hex.
    pub serial: Option<String>,
    pub result: RegistrationResult,
    /// Why it was refused (empty when registered; `null` in JSON).
    #[cfg_attr(feature = "utoipa", schema(value_type = Option<String>))]
    #[serde(serialize_with = "crate::empty_as_null")]
    pub reason: String,
    /// The lines (directory numbers) the registration or unregistration is for: the one a SIP
    /// REGISTER names in From/To, or all of the device's for a bulk or device-name registration;
    /// empty for refusals and devices with no lines.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub lines: Vec<DirectoryNumber>,
}

impl NewRegistration {
    /// A connection only the legacy engine could serve (TLS below 1.2, a CBC or NULL suite):
    /// the phones that hold the fleet on old TLS.
    pub fn is_legacy(&self) -> bool {
        is_legacy_tls(self.tls_version.as_deref(), self.cipher.as_deref())
    }

    /// "TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256", "(legacy)" after a legacy session, "-" without TLS:
    /// how a table shows the session (the CLI's and the pages').
    pub fn tls_summary(&self) -> String {
        let mut tls = match (&self.tls_version, &self.cipher) {
            (Some(v), Some(c)) => format!("{v} {c}"),
            (Some(v), None) => v.clone(),
            _ => "-".into(),
        };
        if self.is_legacy() {
            tls.push_str(" (legacy)");
        }
        tls
    }

    /// "LSC from CAPF-1a2b (serial 0123456789abcdef)": the certificate presented, its serial cut
    /// to the 16 hex digits that tell LSCs apart in a table; "-" without one.
    pub fn certificate_summary(&self) -> String {
        match &self.cert_kind {
            Some(k) => format!(
                "{k} from {} (serial {})",
                self.issuer_cn.as_deref().unwrap_or("?"),
                self.serial.as_deref().map(|s| s.get(..16).unwrap_or(s)).unwrap_or("?")
            ),
            None => "-".into(),
        }
    }

    /// An event with no device, TLS details, certificate or lines: a refusal's starting point,
    /// completed with struct update syntax where a device or certificate is known.
    pub fn bare(
        peer: String,
        protocol: Protocol,
        transport: Transport,
        result: RegistrationResult,
        reason: String,
    ) -> Self {
        Self {
            device: None,
            peer,
            protocol,
            transport,
            tls_version: None,
            cipher: None,
            engine: None,
            cert_kind: None,
            cert_subject: None,
            issuer_cn: None,
            serial: None,
            result,
            reason,
            lines: Vec::new(),
        }
    }
}

/// Refused attempts with the same event (one source address, one reason), recorded as one row
/// rather than one each: a stranger's flood costs a row per second, not a row per attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RefusalCount {
    pub event: NewRegistration,
    pub count: u32,
    pub first: time::OffsetDateTime,
    pub last: time::OffsetDateTime,
}

/// A recorded registration event: the event, with its id and when it was recorded. It reads as
/// the event (`r.device`, `r.reason`), and serialises flat, with `"legacy"`
/// ([`NewRegistration::is_legacy`]).
#[derive(Debug, Clone)]
pub struct Registration {
    pub id: i64,
    /// When it happened; for aggregated refusals, the last of them.
    pub at: String,
    /// How many attempts the row stands for (1 but for aggregated refusals).
    pub count: u32,
    /// For aggregated refusals, the first of them (`null` for single events).
    pub first_at: Option<String>,
    pub event: NewRegistration,
}

impl Serialize for Registration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Flat<'a> {
            id: i64,
            at: &'a str,
            count: u32,
            first_at: &'a Option<String>,
            #[serde(flatten)]
            event: &'a NewRegistration,
            legacy: bool,
        }
        Flat {
            id: self.id,
            at: &self.at,
            count: self.count,
            first_at: &self.first_at,
            event: &self.event,
            legacy: self.event.is_legacy(),
        }
        .serialize(s)
    }
}

impl Registration {
    /// The reason, with how many attempts an aggregated refusal stands for; "-" without one.
    pub fn reason_summary(&self) -> String {
        let reason = if self.reason.is_empty() { "-" } else { &self.reason };
        match &self.first_at {
            Some(first) if self.count > 1 => format!("{reason} ({} attempts, the first at {first})", self.count),
            _ => reason.to_owned(),
        }
    }
}

impl std::ops::Deref for Registration {
    type Target = NewRegistration;
    fn deref(&self) -> &NewRegistration {
        &self.event
    }
}
