//! The opening and key-generation messages: AuthRequest, AuthResponse,
//! KeyGenRequest, KeyGenResponse.

use super::enums::{AuthType, Curve, KeySpec, KeyType, Reason};
use super::fields::{decode_cstring, encode_cstring, nested, non_empty, opt_u8, required, u16_of, u8_of};
use super::nested::{CertPackage, Sha2SignedData, SudiData};
use super::{CapfMessage, MessageError};
use crate::proto::element::{ElementSet, Tag};
use crate::proto::frame::Command;

/// S→P, first message. capfd sends version 3 and auth type 0; CUCM sends
/// the version only.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthRequest {
    pub version: u8,
    pub auth_type: Option<AuthType>,
}

impl CapfMessage for AuthRequest {
    const COMMAND: Command = Command::AuthRequest;
    const TAGS: &'static [Tag] = &[Tag::Version, Tag::AuthType];

    fn from_elements(e: &ElementSet) -> Result<Self, MessageError> {
        let auth_type = opt_u8(e, Tag::AuthType)?
            .map(|v| AuthType::try_from(v).map_err(|value| MessageError::BadValue { tag: Tag::AuthType, value }))
            .transpose()?;
        Ok(Self { version: u8_of(Tag::Version, required(e, Tag::Version)?)?, auth_type })
    }

    fn to_elements(&self) -> Result<ElementSet, MessageError> {
        let mut e = ElementSet::new();
        e.insert(Tag::Version, vec![self.version]);
        if let Some(t) = self.auth_type {
            e.insert(Tag::AuthType, vec![t.into()]);
        }
        Ok(e)
    }
}

/// P→S: who the phone is and its credentials (§1.8). Which credentials
/// must be present is policy, decided by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthResponse {
    /// Always 1 from known phones; nothing depends on it.
    pub reason: Option<Reason>,
    /// Required: capfd v4.2 crashes without it, so no phone omits it.
    pub version: u8,
    /// Without its NUL; never empty.
    pub device_name: String,
    /// Without its NUL; `Some("")` is the null string.
    pub password: Option<String>,
    pub certificate: Option<CertPackage>,
    /// Element 6: SHA-1 signature over the signed content.
    pub signed_data_sha1: Option<Vec<u8>>,
    /// Element 20: SHA-512 (normally) signature over the signed content.
    pub sha2_signed_data: Option<Sha2SignedData>,
    pub sudi: Option<SudiData>,
}

impl CapfMessage for AuthResponse {
    const COMMAND: Command = Command::AuthResponse;
    const TAGS: &'static [Tag] = &[
        Tag::Reason,
        Tag::Version,
        Tag::DeviceName,
        Tag::Password,
        Tag::Certificate,
        Tag::SignedData,
        Tag::Sha2SignedData,
        Tag::SudiData,
    ];

    fn from_elements(e: &ElementSet) -> Result<Self, MessageError> {
        let device_name = decode_cstring(Tag::DeviceName, required(e, Tag::DeviceName)?)?;
        if device_name.is_empty() {
            return Err(MessageError::EmptyValue(Tag::DeviceName));
        }
        let certificate = e.get(Tag::Certificate);
        let sha2 = e.get(Tag::Sha2SignedData);
        let sudi = e.get(Tag::SudiData);
        Ok(Self {
            reason: opt_u8(e, Tag::Reason)?.map(Reason::from),
            version: u8_of(Tag::Version, required(e, Tag::Version)?)?,
            device_name,
            password: e.get(Tag::Password).map(|v| decode_cstring(Tag::Password, v)).transpose()?,
            certificate: certificate.map(|v| CertPackage::parse(v).map_err(nested(Tag::Certificate))).transpose()?,
            signed_data_sha1: e.get(Tag::SignedData).map(|v| non_empty(Tag::SignedData, v)).transpose()?,
            sha2_signed_data: sha2
                .map(|v| Sha2SignedData::parse(v).map_err(nested(Tag::Sha2SignedData)))
                .transpose()?,
            sudi: sudi.map(|v| SudiData::parse(v).map_err(nested(Tag::SudiData))).transpose()?,
        })
    }

    fn to_elements(&self) -> Result<ElementSet, MessageError> {
        let mut e = ElementSet::new();
        if let Some(r) = self.reason {
            e.insert(Tag::Reason, vec![r.into()]);
        }
        e.insert(Tag::Version, vec![self.version]);
        e.insert(Tag::DeviceName, encode_cstring(Tag::DeviceName, &self.device_name)?);
        if let Some(p) = &self.password {
            e.insert(Tag::Password, encode_cstring(Tag::Password, p)?);
        }
        if let Some(c) = &self.certificate {
            e.insert(Tag::Certificate, c.encode().map_err(nested(Tag::Certificate))?);
        }
        if let Some(s) = &self.signed_data_sha1 {
            e.insert(Tag::SignedData, s.clone());
        }
        if let Some(s) = &self.sha2_signed_data {
            let v = s.encode().map_err(nested(Tag::Sha2SignedData))?;
            e.insert(Tag::Sha2SignedData, v);
        }
        if let Some(s) = &self.sudi {
            e.insert(Tag::SudiData, s.encode().map_err(nested(Tag::SudiData))?);
        }
        Ok(e)
    }
}

/// S→P: generate a key pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGenRequest {
    pub key: KeySpec,
    /// RSA only: leave out the KeyType element, as CUCM does (§1.11).
    /// Ignored for EC, which always needs it. Decoding sets it when the
    /// element is absent, which is read as RSA.
    pub omit_key_type: bool,
}

impl KeyGenRequest {
    /// capfd's form: KeyType always sent.
    pub fn new(key: KeySpec) -> Self {
        Self { key, omit_key_type: false }
    }
}

impl CapfMessage for KeyGenRequest {
    const COMMAND: Command = Command::KeyGenRequest;
    const TAGS: &'static [Tag] = &[Tag::KeySize, Tag::KeyType, Tag::Curve];

    fn from_elements(e: &ElementSet) -> Result<Self, MessageError> {
        let key_type = opt_u8(e, Tag::KeyType)?
            .map(|v| KeyType::try_from(v).map_err(|value| MessageError::BadValue { tag: Tag::KeyType, value }))
            .transpose()?;
        let key = match key_type.unwrap_or(KeyType::Rsa) {
            KeyType::Rsa => KeySpec::Rsa { bits: u16_of(Tag::KeySize, required(e, Tag::KeySize)?)? },
            KeyType::Ec => {
                let value = u8_of(Tag::Curve, required(e, Tag::Curve)?)?;
                let curve =
                    Curve::try_from(value).map_err(|value| MessageError::BadValue { tag: Tag::Curve, value })?;
                KeySpec::Ec { curve }
            }
        };
        Ok(Self { key, omit_key_type: key_type.is_none() })
    }

    fn to_elements(&self) -> Result<ElementSet, MessageError> {
        let mut e = ElementSet::new();
        match self.key {
            KeySpec::Rsa { bits } => {
                e.insert(Tag::KeySize, bits.to_be_bytes().to_vec());
                if !self.omit_key_type {
                    e.insert(Tag::KeyType, vec![KeyType::Rsa.into()]);
                }
            }
            KeySpec::Ec { curve } => {
                e.insert(Tag::KeyType, vec![KeyType::Ec.into()]);
                e.insert(Tag::Curve, vec![curve.into()]);
            }
        }
        Ok(e)
    }
}

/// P→S: the new public key, or (without it) a failure.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyGenResponse {
    pub reason: Option<Reason>,
    /// DER SubjectPublicKeyInfo; absent when generation failed.
    pub public_key: Option<Vec<u8>>,
}

impl CapfMessage for KeyGenResponse {
    const COMMAND: Command = Command::KeyGenResponse;
    const TAGS: &'static [Tag] = &[Tag::Reason, Tag::PublicKey];

    fn from_elements(e: &ElementSet) -> Result<Self, MessageError> {
        Ok(Self {
            reason: opt_u8(e, Tag::Reason)?.map(Reason::from),
            public_key: e.get(Tag::PublicKey).map(|v| non_empty(Tag::PublicKey, v)).transpose()?,
        })
    }

    fn to_elements(&self) -> Result<ElementSet, MessageError> {
        let mut e = ElementSet::new();
        if let Some(r) = self.reason {
            e.insert(Tag::Reason, vec![r.into()]);
        }
        if let Some(k) = &self.public_key {
            e.insert(Tag::PublicKey, k.clone());
        }
        Ok(e)
    }
}
