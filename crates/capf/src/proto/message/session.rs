//! The operation and closing messages: store, fetch, delete, EndSession and
//! RequestInProgress.

use super::enums::{CertType, Reason};
use super::fields::{nested, required, u8_of};
use super::nested::CertPackage;
use super::{CapfMessage, MessageError};
use crate::proto::element::{ElementSet, Tag};
use crate::proto::frame::Command;

/// Messages whose body is empty.
macro_rules! empty_message {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $name;

        impl CapfMessage for $name {
            const COMMAND: Command = Command::$name;
            const TAGS: &'static [Tag] = &[];

            fn from_elements(_: &ElementSet) -> Result<Self, MessageError> {
                Ok(Self)
            }

            fn to_elements(&self) -> Result<ElementSet, MessageError> {
                Ok(ElementSet::new())
            }
        }
    };
}

/// Messages that carry only a required Reason.
macro_rules! reason_message {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub struct $name {
            pub reason: Reason,
        }

        impl CapfMessage for $name {
            const COMMAND: Command = Command::$name;
            const TAGS: &'static [Tag] = &[Tag::Reason];

            fn from_elements(e: &ElementSet) -> Result<Self, MessageError> {
                let reason = u8_of(Tag::Reason, required(e, Tag::Reason)?)?;
                Ok(Self {
                    reason: Reason::from(reason),
                })
            }

            fn to_elements(&self) -> Result<ElementSet, MessageError> {
                let mut e = ElementSet::new();
                e.insert(Tag::Reason, vec![self.reason.into()]);
                Ok(e)
            }
        }
    };
}

empty_message!(
    /// P→S, while the phone generates a key (any number may come).
    RequestInProgress
);
empty_message!(
    /// S→P: upload your certificate ("Troubleshoot"). capfd names no type.
    FetchCertificateRequest
);
empty_message!(
    /// S→P: delete your LSC.
    DeleteCertificateRequest
);
reason_message!(
    /// P→S: 1 = stored.
    StoreCertificateResponse
);
reason_message!(
    /// P→S: 1 = deleted, 7 = nothing to delete.
    DeleteCertificateResponse
);
reason_message!(
    /// S→P, always last: 0 none/fetch, 1 install/delete, 7 error, 9 unknown device.
    EndSession
);

/// S→P: the issued LSC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoreCertificateRequest {
    /// Element 3; capfd sends 1 (LSC).
    pub cert_type: CertType,
    pub certificate: CertPackage,
}

impl CapfMessage for StoreCertificateRequest {
    const COMMAND: Command = Command::StoreCertificateRequest;
    const TAGS: &'static [Tag] = &[Tag::CertificateType, Tag::Certificate];

    fn from_elements(e: &ElementSet) -> Result<Self, MessageError> {
        let cert_type = u8_of(Tag::CertificateType, required(e, Tag::CertificateType)?)?;
        let certificate = CertPackage::parse(required(e, Tag::Certificate)?).map_err(nested(Tag::Certificate))?;
        Ok(Self { cert_type: CertType::from(cert_type), certificate })
    }

    fn to_elements(&self) -> Result<ElementSet, MessageError> {
        let mut e = ElementSet::new();
        e.insert(Tag::CertificateType, vec![self.cert_type.into()]);
        let package = self.certificate.encode().map_err(nested(Tag::Certificate))?;
        e.insert(Tag::Certificate, package);
        Ok(e)
    }
}

/// P→S: reason 1 with the phone's current LSC, or 7 without one.
///
/// A second certificate, if a phone ever sends one, would be either a
/// repeated element 4 (the last is kept) or an extra package sub-record
/// (kept in [`CertPackage::extra`]); no sample shows either.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchCertificateResponse {
    pub reason: Reason,
    pub certificate: Option<CertPackage>,
}

impl CapfMessage for FetchCertificateResponse {
    const COMMAND: Command = Command::FetchCertificateResponse;
    const TAGS: &'static [Tag] = &[Tag::Reason, Tag::Certificate];

    fn from_elements(e: &ElementSet) -> Result<Self, MessageError> {
        let reason = u8_of(Tag::Reason, required(e, Tag::Reason)?)?;
        let certificate =
            e.get(Tag::Certificate).map(|v| CertPackage::parse(v).map_err(nested(Tag::Certificate))).transpose()?;
        Ok(Self { reason: Reason::from(reason), certificate })
    }

    fn to_elements(&self) -> Result<ElementSet, MessageError> {
        let mut e = ElementSet::new();
        e.insert(Tag::Reason, vec![self.reason.into()]);
        if let Some(c) = &self.certificate {
            e.insert(Tag::Certificate, c.encode().map_err(nested(Tag::Certificate))?);
        }
        Ok(e)
    }
}
