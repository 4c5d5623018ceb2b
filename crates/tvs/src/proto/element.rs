//! The TLV elements of a body (§3.3): `u8 tag, u16 BE length, value`, as in CAPF.

use super::ProtoError;

pub(crate) const DEVICE_NAME: u8 = 1;
pub(crate) const CERTIFICATE: u8 = 2;
pub(crate) const STATUS: u8 = 7;
pub(crate) const ROLES: u8 = 8;
pub(crate) const TTL: u8 = 9;

/// The elements of `body`, in order, each bound checked.
pub(crate) fn elements(body: &[u8]) -> impl Iterator<Item = Result<(u8, &[u8]), ProtoError>> {
    let mut rest = body;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(&[tag, hi, lo]) = rest.get(..3) else {
            let got = rest.len();
            rest = &[];
            return Some(Err(ProtoError::Truncated { needed: 3, got }));
        };
        let len = usize::from(u16::from_be_bytes([hi, lo]));
        let Some(value) = rest.get(3..3 + len) else {
            let got = rest.len() - 3;
            rest = &[];
            return Some(Err(ProtoError::ElementOverrun { tag, len, got }));
        };
        rest = &rest[3 + len..];
        Some(Ok((tag, value)))
    })
}

/// Appends one element.
pub(crate) fn push(out: &mut Vec<u8>, tag: u8, value: &[u8]) -> Result<(), ProtoError> {
    let len = u16::try_from(value.len()).map_err(|_| ProtoError::TooLong { what: "element", len: value.len() })?;
    out.push(tag);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(value);
    Ok(())
}
