//! Label values: each a closed set, spelled in Prometheus' snake case (the phone transports as
//! the issue names them, `sip-tls`...).

use opencapf_model::{CertificateOperation, Failure, Protocol, Transport};
use prometheus_client::encoding::{EncodeLabelSet, EncodeLabelValue, LabelValueEncoder};

/// An enum of label values: `as_str`, `ALL`, and its encoding as a label value.
macro_rules! label_values {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident => $text:literal,)+ }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vdoc])* $variant,)+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)+
                }
            }
        }

        impl EncodeLabelValue for $name {
            fn encode(&self, encoder: &mut LabelValueEncoder<'_>) -> Result<(), std::fmt::Error> {
                std::fmt::Write::write_str(encoder, self.as_str())
            }
        }
    };
}

label_values!(
    /// The CAPF operation a session ran: the device's pending one, `none` before a device with
    /// a pending operation was known.
    CapfOperation {
        InstallUpgrade => "install_upgrade",
        Delete => "delete",
        Troubleshoot => "troubleshoot",
        None => "none",
    }
);

impl From<CertificateOperation> for CapfOperation {
    fn from(op: CertificateOperation) -> Self {
        match op {
            CertificateOperation::InstallUpgrade => CapfOperation::InstallUpgrade,
            CertificateOperation::Delete => CapfOperation::Delete,
            CertificateOperation::Troubleshoot => CapfOperation::Troubleshoot,
            CertificateOperation::NoPendingOperation => CapfOperation::None,
        }
    }
}

label_values!(
    /// How a CAPF session ended: the failure reasons CUCM's status names, and the ways a
    /// session ends before any device is known.
    CapfResult {
        Success => "success",
        NoPendingOperation => "no_pending_operation",
        UnknownDevice => "unknown_device",
        /// Another session holds the device's operation.
        InProgress => "in_progress",
        Late => "late",
        InvalidAuthenticationString => "invalid_authentication_string",
        InvalidLsc => "invalid_lsc",
        InvalidMic => "invalid_mic",
        InvalidCredentials => "invalid_credentials",
        PhoneCommunication => "phone_communication",
        KeyGeneration => "key_generation",
        NoEcSupport => "no_ec_support",
        /// The phone did not do it (CUCM's plain "Failed").
        Failed => "failed",
        /// The TLS handshake failed (scanners, refused TLS offers).
        TlsHandshake => "tls_handshake",
        /// No usable AuthResponse: a timeout, a disconnection or a malformed message.
        NoAuthResponse => "no_auth_response",
        /// The server was stopping.
        Stopped => "stopped",
        /// CAPF itself failed (database, signing).
        InternalError => "internal_error",
    }
);

impl From<Failure> for CapfResult {
    fn from(f: Failure) -> Self {
        match f {
            Failure::InvalidAuthenticationString => CapfResult::InvalidAuthenticationString,
            Failure::InvalidLsc => CapfResult::InvalidLsc,
            Failure::InvalidMic => CapfResult::InvalidMic,
            Failure::InvalidCredentials => CapfResult::InvalidCredentials,
            Failure::PhoneCommunication => CapfResult::PhoneCommunication,
            Failure::KeyGeneration => CapfResult::KeyGeneration,
            Failure::Late => CapfResult::Late,
            Failure::NoEcSupport => CapfResult::NoEcSupport,
            Failure::Unspecified => CapfResult::Failed,
        }
    }
}

label_values!(
    /// The protocol and transport a phone registers over.
    PhoneTransport {
        SipTls => "sip-tls",
        SipTcp => "sip-tcp",
        SipUdp => "sip-udp",
        SccpTls => "sccp-tls",
        SccpTcp => "sccp-tcp",
    }
);

impl PhoneTransport {
    pub fn new(protocol: Protocol, transport: Transport) -> PhoneTransport {
        match (protocol, transport) {
            (Protocol::Sip, Transport::Tls) => PhoneTransport::SipTls,
            (Protocol::Sip, Transport::Tcp) => PhoneTransport::SipTcp,
            (Protocol::Sip, Transport::Udp) => PhoneTransport::SipUdp,
            (Protocol::Sccp, Transport::Tls) => PhoneTransport::SccpTls,
            // No SCCP listener is on UDP: counted with TCP rather than as a series of its own.
            (Protocol::Sccp, Transport::Tcp | Transport::Udp) => PhoneTransport::SccpTcp,
        }
    }
}

label_values!(
    /// Why CallManager refused a phone: one value per registration rule and handshake check.
    RefusalReason {
        /// Not a device of the cluster (or not a device name at all).
        UnknownDevice => "unknown_device",
        /// The device is configured for the other protocol.
        WrongProtocol => "wrong_protocol",
        /// An Authenticated or Encrypted device over TCP or UDP.
        TlsRequired => "tls_required",
        /// A Non Secure device over TLS.
        NonSecureOverTls => "non_secure_over_tls",
        NoCertificate => "no_certificate",
        /// The certificate does not name the device.
        CertificateNotForDevice => "certificate_not_for_device",
        /// An Encrypted device on a NULL-SHA session.
        EncryptionRequired => "encryption_required",
        /// SIP identity headers (From, To, Contact) disagree with the device or its lines.
        SipIdentity => "sip_identity",
        /// The TLS offer (version, suites) is not served.
        TlsOffer => "tls_offer",
        /// The handshake's certificate is not trusted (unknown issuer, expired, revoked...).
        CertificateRefused => "certificate_refused",
        /// A trusted certificate, and the handshake failed otherwise.
        TlsHandshake => "tls_handshake",
        /// CallManager could not decide (the database failed).
        Unavailable => "unavailable",
    }
);

label_values!(
    /// Why a listener closed a connection at once.
    ConnectionRefusal {
        /// The listener's connection limit.
        Full => "full",
        /// The limit per source address.
        SourceFull => "source_full",
    }
);

label_values!(
    /// How a configuration file was asked for.
    FileProtocol {
        Tftp => "tftp",
        Http => "http",
    }
);

label_values!(
    /// What a file request got.
    FileResult {
        Found => "found",
        /// Absent, or not served now (a CTL outside mixed mode), or a name no file can have.
        NotFound => "not_found",
        /// Refused before any lookup: busy, a write request, a method or path not served.
        Refused => "refused",
        /// Found but not servable (above the size limit).
        Error => "error",
    }
);

label_values!(
    /// What TVS answered about a certificate.
    TvsResult {
        Trusted => "trusted",
        NotTrusted => "not_trusted",
        /// The request could not be read or answered.
        Error => "error",
    }
);

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct CapfSessionLabels {
    pub operation: CapfOperation,
    pub result: CapfResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct TransportLabels {
    pub transport: PhoneTransport,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct RefusalLabels {
    pub transport: PhoneTransport,
    pub reason: RefusalReason,
}

/// A listener, by its service's name (`CAPF`, `SIP over TLS`): a fixed string of the code.
#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct ListenerLabels {
    pub listener: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct ConnectionRefusalLabels {
    pub listener: &'static str,
    pub reason: ConnectionRefusal,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct FileLabels {
    pub protocol: FileProtocol,
    pub result: FileResult,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, EncodeLabelSet)]
pub(crate) struct TvsLabels {
    pub result: TvsResult,
}
