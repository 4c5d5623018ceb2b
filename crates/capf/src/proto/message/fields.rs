//! Reading and writing single element values with exact length checks.

use super::nested::NestedError;
use super::MessageError;
use crate::proto::element::{ElementSet, Tag};

pub(crate) fn required(e: &ElementSet, tag: Tag) -> Result<&[u8], MessageError> {
    e.get(tag).ok_or(MessageError::MissingElement(tag))
}

pub(crate) fn u8_of(tag: Tag, v: &[u8]) -> Result<u8, MessageError> {
    match v {
        [b] => Ok(*b),
        _ => Err(MessageError::BadLength { tag, expected: 1, got: v.len() }),
    }
}

pub(crate) fn opt_u8(e: &ElementSet, tag: Tag) -> Result<Option<u8>, MessageError> {
    e.get(tag).map(|v| u8_of(tag, v)).transpose()
}

pub(crate) fn u16_of(tag: Tag, v: &[u8]) -> Result<u16, MessageError> {
    match v {
        [hi, lo] => Ok(u16::from_be_bytes([*hi, *lo])),
        _ => Err(MessageError::BadLength { tag, expected: 2, got: v.len() }),
    }
}

/// A value that must not be empty (a key, a signature).
pub(crate) fn non_empty(tag: Tag, v: &[u8]) -> Result<Vec<u8>, MessageError> {
    if v.is_empty() {
        return Err(MessageError::EmptyValue(tag));
    }
    Ok(v.to_vec())
}

/// Strings of tags 11 and 13 (§1.4): exactly one trailing NUL is stripped
/// when present (capfd drops the last byte blindly, which would eat a
/// character from a peer that omits the NUL). A NUL anywhere else or bytes
/// that are not UTF-8 are errors.
pub fn decode_cstring(tag: Tag, v: &[u8]) -> Result<String, MessageError> {
    let text = v.strip_suffix(&[0]).unwrap_or(v);
    if text.contains(&0) {
        return Err(MessageError::EmbeddedNul(tag));
    }
    String::from_utf8(text.to_vec()).map_err(|_| MessageError::NotUtf8(tag))
}

/// The wire form of a string: its bytes then one NUL.
pub fn encode_cstring(tag: Tag, s: &str) -> Result<Vec<u8>, MessageError> {
    if s.as_bytes().contains(&0) {
        return Err(MessageError::EmbeddedNul(tag));
    }
    let mut v = Vec::with_capacity(s.len() + 1);
    v.extend_from_slice(s.as_bytes());
    v.push(0);
    Ok(v)
}

/// Attaches the element's tag to an error from a nested structure.
pub(crate) fn nested(tag: Tag) -> impl Fn(NestedError) -> MessageError {
    move |cause| MessageError::Nested { tag, cause }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cstring_rules() {
        let t = Tag::DeviceName;
        assert_eq!(decode_cstring(t, b"SEP1\0").unwrap(), "SEP1");
        assert_eq!(decode_cstring(t, b"SEP1").unwrap(), "SEP1");
        assert_eq!(decode_cstring(t, b"\0").unwrap(), "");
        assert_eq!(decode_cstring(t, b"").unwrap(), "");
        // Only one NUL is stripped; a second one is embedded.
        assert!(matches!(decode_cstring(t, b"A\0\0"), Err(MessageError::EmbeddedNul(Tag::DeviceName))));
        assert!(matches!(decode_cstring(t, b"A\0B\0"), Err(MessageError::EmbeddedNul(_))));
        assert!(matches!(decode_cstring(t, b"\xff\xfe\0"), Err(MessageError::NotUtf8(_))));
        assert_eq!(encode_cstring(t, "123456").unwrap(), b"123456\0");
        assert_eq!(encode_cstring(t, "").unwrap(), b"\0");
        assert!(encode_cstring(t, "a\0b").is_err());
    }
}
