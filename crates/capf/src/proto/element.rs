//! TLV elements of a message body (§1.2, §1.4): `tag u8, len u16 BE, value`.
//!
//! Rules, as §1.2 and §1.12 recommend for a robust receiver:
//! - elements may come in any order;
//! - unknown tags are kept, and [`ElementSet::unknown_tags`] names them so
//!   the caller can log and skip them (capfd aborts on them instead);
//! - a repeated tag replaces the earlier one (last wins, as in capfd), and
//!   [`ElementSet::duplicate_tags`] reports it so a caller may refuse it;
//! - encoding writes elements in ascending tag order, as capfd does.

use std::collections::BTreeMap;

use super::frame::MAX_BODY_LEN;

/// Size of an element's tag and length prefix.
pub const ELEMENT_HEADER_LEN: usize = 3;

open_code_enum! {
    /// Element tags (§1.4). 14 and 15 are undefined in every source.
    pub enum Tag {
        Reason = 1,
        /// Text; capfd reads only its first byte.
        ReasonInfo = 2,
        CertificateType = 3,
        /// A certificate package (§1.5.1).
        Certificate = 4,
        CertificateId = 5,
        /// The SHA-1 signature of certificate authentication.
        SignedData = 6,
        Version = 7,
        AuthType = 8,
        /// A DER SubjectPublicKeyInfo.
        PublicKey = 9,
        /// RSA modulus bits, u16 BE.
        KeySize = 10,
        /// NUL-terminated authentication string.
        Password = 11,
        RetryDelay = 12,
        /// NUL-terminated device name.
        DeviceName = 13,
        /// SUDI certificate and signatures (§1.5.3).
        SudiData = 16,
        KeyType = 17,
        Curve = 18,
        DigestType = 19,
        /// `hash id, u16 BE length, signature` (§1.5.2).
        Sha2SignedData = 20,
    }
}

/// Why a body is not a valid sequence of elements, or cannot be encoded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ElementError {
    #[error("element header at offset {offset} needs 3 bytes, only {remaining} left")]
    TruncatedHeader { offset: usize, remaining: usize },
    #[error("element tag {tag} at offset {offset} declares {declared} value bytes, only {available} left in the body")]
    ValuePastEnd { tag: u8, offset: usize, declared: usize, available: usize },
    #[error("element tag {tag} value of {len} bytes exceeds the u16 limit")]
    ValueTooLong { tag: u8, len: usize },
    #[error("encoded body of {len} bytes exceeds the u16 limit")]
    BodyTooLong { len: usize },
}

/// Iterates over a body's elements in wire order, checking every bound.
/// After the first error it yields nothing more.
pub fn iter_elements(body: &[u8]) -> ElementIter<'_> {
    ElementIter { body, offset: 0, failed: false }
}

/// See [`iter_elements`].
#[derive(Debug, Clone)]
pub struct ElementIter<'a> {
    body: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Iterator for ElementIter<'a> {
    type Item = Result<(Tag, &'a [u8]), ElementError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.body.len() {
            return None;
        }
        let rest = &self.body[self.offset..];
        let item = match rest {
            [tag, hi, lo, value @ ..] => {
                let declared = usize::from(u16::from_be_bytes([*hi, *lo]));
                match value.get(..declared) {
                    Some(v) => Ok((Tag::from(*tag), v)),
                    None => Err(ElementError::ValuePastEnd {
                        tag: *tag,
                        offset: self.offset,
                        declared,
                        available: value.len(),
                    }),
                }
            }
            _ => Err(ElementError::TruncatedHeader { offset: self.offset, remaining: rest.len() }),
        };
        match &item {
            Ok((_, v)) => self.offset += ELEMENT_HEADER_LEN + v.len(),
            Err(_) => self.failed = true,
        }
        Some(item)
    }
}

/// The elements of one body, keyed by tag (so iteration is ascending).
/// Two sets are equal when they hold the same tags and values, whatever
/// order or repetitions the wire had.
#[derive(Debug, Clone, Default)]
pub struct ElementSet {
    values: BTreeMap<u8, Vec<u8>>,
    duplicates: Vec<u8>,
}

impl PartialEq for ElementSet {
    fn eq(&self, other: &Self) -> bool {
        self.values == other.values
    }
}

impl Eq for ElementSet {}

impl ElementSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses a whole body. A repeated tag replaces the earlier value.
    pub fn parse(body: &[u8]) -> Result<Self, ElementError> {
        let mut set = Self::new();
        for element in iter_elements(body) {
            let (tag, value) = element?;
            let code = u8::from(tag);
            if set.values.insert(code, value.to_vec()).is_some() && !set.duplicates.contains(&code) {
                set.duplicates.push(code);
            }
        }
        Ok(set)
    }

    pub fn get(&self, tag: Tag) -> Option<&[u8]> {
        self.values.get(&u8::from(tag)).map(Vec::as_slice)
    }

    pub fn contains(&self, tag: Tag) -> bool {
        self.values.contains_key(&u8::from(tag))
    }

    /// Sets an element, replacing any value it had.
    pub fn insert(&mut self, tag: Tag, value: Vec<u8>) {
        self.values.insert(u8::from(tag), value);
    }

    pub fn remove(&mut self, tag: Tag) -> Option<Vec<u8>> {
        self.values.remove(&u8::from(tag))
    }

    /// The tags present, ascending.
    pub fn tags(&self) -> impl Iterator<Item = Tag> + '_ {
        self.values.keys().map(|&code| Tag::from(code))
    }

    /// Tags not defined in §1.4, ascending: log them and skip them.
    pub fn unknown_tags(&self) -> Vec<u8> {
        self.tags()
            .filter_map(|t| match t {
                Tag::Unknown(code) => Some(code),
                _ => None,
            })
            .collect()
    }

    /// Tags that appeared more than once when parsed (the last value was kept).
    pub fn duplicate_tags(&self) -> &[u8] {
        &self.duplicates
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The body bytes, elements in ascending tag order.
    pub fn encode(&self) -> Result<Vec<u8>, ElementError> {
        let mut body = Vec::new();
        for (&tag, value) in &self.values {
            let len = u16::try_from(value.len()).map_err(|_| ElementError::ValueTooLong { tag, len: value.len() })?;
            body.push(tag);
            body.extend_from_slice(&len.to_be_bytes());
            body.extend_from_slice(value);
        }
        if body.len() > MAX_BODY_LEN {
            return Err(ElementError::BodyTooLong { len: body.len() });
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn any_order_last_wins_and_unknown_kept() {
        // 7, 13, 1 (Jabber order), an unknown tag 99, then 7 again.
        let body = [7, 0, 1, 2, 13, 0, 2, b'A', 0, 1, 0, 1, 1, 99, 0, 0, 7, 0, 1, 3];
        let set = ElementSet::parse(&body).unwrap();
        assert_eq!(set.get(Tag::Version), Some(&[3u8][..]));
        assert_eq!(set.get(Tag::DeviceName), Some(&b"A\0"[..]));
        assert_eq!(set.get(Tag::Unknown(99)), Some(&[][..]));
        assert_eq!(set.unknown_tags(), vec![99]);
        assert_eq!(set.duplicate_tags(), &[7]);
        assert_eq!(set.encode().unwrap(), [1, 0, 1, 1, 7, 0, 1, 3, 13, 0, 2, b'A', 0, 99, 0, 0]);
    }

    #[test]
    fn bounds_are_checked() {
        assert_eq!(ElementSet::parse(&[1, 0]), Err(ElementError::TruncatedHeader { offset: 0, remaining: 2 }));
        assert_eq!(
            ElementSet::parse(&[1, 0, 1, 1, 4, 0, 5, 1, 2]),
            Err(ElementError::ValuePastEnd { tag: 4, offset: 4, declared: 5, available: 2 })
        );
        assert!(ElementSet::parse(&[]).unwrap().is_empty());
    }

    #[test]
    fn encode_checks_u16_limits() {
        let mut set = ElementSet::new();
        set.insert(Tag::Certificate, vec![0; 65536]);
        assert!(matches!(set.encode(), Err(ElementError::ValueTooLong { tag: 4, .. })));
        set.insert(Tag::Certificate, vec![0; 65532]);
        assert_eq!(set.encode().unwrap().len(), 65535);
        set.insert(Tag::Reason, vec![1]);
        assert!(matches!(set.encode(), Err(ElementError::BodyTooLong { len: 65539 })));
    }
}
