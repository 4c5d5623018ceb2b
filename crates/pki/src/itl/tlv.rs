//! `u8 tag, u16 BE length, value` elements, read with every length checked before slicing.

use super::ItlError;

/// The parent name of a cursor that ends with the file: running past it is a truncation.
pub(super) const FILE: &str = "file";

/// Reads elements of `bytes[pos..end]`; `end` is the end of the file or of an enclosing element.
pub(super) struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: usize,
    /// What `end` is the end of, for the error message.
    parent: &'static str,
}

/// One element: its tag, the offset of its tag byte, and its value.
pub(super) struct Element<'a> {
    pub(super) tag: u8,
    pub(super) offset: usize,
    pub(super) value: &'a [u8],
}

impl<'a> Cursor<'a> {
    /// A cursor over `bytes[start..end]`; the caller has checked `start <= end <= bytes.len()`.
    pub(super) fn new(bytes: &'a [u8], start: usize, end: usize, parent: &'static str) -> Self {
        debug_assert!(start <= end && end <= bytes.len());
        Cursor { bytes, pos: start, end, parent }
    }

    /// A cursor over the value of `e`, an element this cursor read.
    pub(super) fn inside(&self, e: &Element<'a>, parent: &'static str) -> Cursor<'a> {
        Cursor::new(self.bytes, e.value_offset(), e.end(), parent)
    }

    pub(super) fn pos(&self) -> usize {
        self.pos
    }

    pub(super) fn at_end(&self) -> bool {
        self.pos >= self.end
    }

    fn take(&mut self, n: usize, element: usize) -> Result<&'a [u8], ItlError> {
        if n > self.end - self.pos {
            return Err(if self.parent == FILE {
                ItlError::Truncated { offset: element }
            } else {
                ItlError::Overrun { offset: element, parent: self.parent }
            });
        }
        let out = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(out)
    }

    pub(super) fn u8(&mut self) -> Result<u8, ItlError> {
        let at = self.pos;
        Ok(self.take(1, at)?[0])
    }

    /// The length and value that follow a tag already read at `offset`.
    pub(super) fn value_after_tag(&mut self, tag: u8, offset: usize) -> Result<Element<'a>, ItlError> {
        let len = self.take(2, offset)?;
        let len = usize::from(u16::from_be_bytes([len[0], len[1]]));
        let value = self.take(len, offset)?;
        Ok(Element { tag, offset, value })
    }

    pub(super) fn element(&mut self) -> Result<Element<'a>, ItlError> {
        let offset = self.pos;
        let tag = self.u8()?;
        self.value_after_tag(tag, offset)
    }
}

impl Element<'_> {
    /// The offset just past the element's length field, where its value starts.
    pub(super) fn value_offset(&self) -> usize {
        self.offset + 3
    }

    pub(super) fn end(&self) -> usize {
        self.value_offset() + self.value.len()
    }
}

/// A value of a fixed size, or the error `what` names.
pub(super) fn fixed<const N: usize>(e: &Element<'_>, what: &str) -> Result<[u8; N], ItlError> {
    e.value.try_into().map_err(|_| {
        ItlError::BadHeader(format!("{what} (tag {}) at byte {} is {} bytes, not {N}", e.tag, e.offset, e.value.len()))
    })
}

/// Text as the files store it: bytes and a final NUL (dropped); not UTF-8 is replaced, not refused.
pub(super) fn text(value: &[u8]) -> String {
    let value = value.strip_suffix(&[0]).unwrap_or(value);
    String::from_utf8_lossy(value).into_owned()
}

/// Appends `tag, len, value`; values of more than 65535 bytes cannot be encoded.
pub(super) fn put(out: &mut Vec<u8>, tag: u8, value: &[u8]) -> Result<(), ItlError> {
    put_head(out, tag, value.len())?;
    out.extend_from_slice(value);
    Ok(())
}

/// Appends the tag and length of an element whose value follows (a container's children).
pub(super) fn put_head(out: &mut Vec<u8>, tag: u8, len: usize) -> Result<(), ItlError> {
    let len = u16::try_from(len)
        .map_err(|_| ItlError::BadInput(format!("element {tag} would be {len} bytes, above the 65535 a TLV holds")))?;
    out.push(tag);
    out.extend_from_slice(&len.to_be_bytes());
    Ok(())
}

/// Text with its final NUL; a NUL inside would cut the string short on the phone.
pub(super) fn put_text(out: &mut Vec<u8>, tag: u8, text: &str) -> Result<(), ItlError> {
    if text.contains('\0') {
        return Err(ItlError::BadInput(format!("text of element {tag} contains a NUL byte")));
    }
    let mut value = Vec::with_capacity(text.len() + 1);
    value.extend_from_slice(text.as_bytes());
    value.push(0);
    put(out, tag, &value)
}

/// Serial numbers as the files write them: minimal unsigned big-endian bytes (no DER sign byte).
pub(super) fn minimal(serial: &[u8]) -> &[u8] {
    let zeros = serial.iter().take_while(|&&b| b == 0).count();
    &serial[zeros..]
}
