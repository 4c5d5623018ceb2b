//! Netascii (RFC 1350, after Telnet): LF goes on the wire as CR LF, a lone CR as CR NUL.

/// `file` as netascii. Every LF and every CR is translated, as tftp-hpa's server does, so the
/// client's reverse translation gives back exactly `file`.
pub fn to_netascii(file: &[u8]) -> Vec<u8> {
    let extra = file.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
    let mut out = Vec::with_capacity(file.len() + extra);
    for &b in file {
        match b {
            b'\n' => out.extend_from_slice(b"\r\n"),
            b'\r' => out.extend_from_slice(b"\r\0"),
            b => out.push(b),
        }
    }
    out
}

/// The reverse of [`to_netascii`] (the TFTP client's side): CR LF → LF, CR NUL → CR.
pub fn from_netascii(wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(wire.len());
    let mut bytes = wire.iter().copied().peekable();
    while let Some(b) = bytes.next() {
        match (b, bytes.peek()) {
            (b'\r', Some(b'\n')) => {
                bytes.next();
                out.push(b'\n');
            }
            (b'\r', Some(0)) => {
                bytes.next();
                out.push(b'\r');
            }
            (b, _) => out.push(b),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_ends_and_lone_carriage_returns_round_trip() {
        let file = b"<a>\n<b>\r\n\rx";
        let wire = to_netascii(file);
        assert_eq!(wire, b"<a>\r\n<b>\r\0\r\n\r\0x");
        assert_eq!(from_netascii(&wire), file);
    }
}
