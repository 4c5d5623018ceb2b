//! Finding where TLS starts in a TCP stream: after plain-text lines (STARTTLS), or somewhere
//! inside a connection whose beginning the capture missed. The search is bounded per direction.

/// Bytes of a direction searched for a TLS start before the direction is given up as not TLS.
pub(super) const MAX_HUNT: usize = 64 * 1024;
/// Bytes examined at a time while searching.
pub(super) const HUNT_STEP: usize = 4096;
/// Bytes kept between steps, so that a start cut across two segments is still found.
pub(super) const HUNT_KEEP: usize = 6;

/// Offset in `buf` where TLS starts: a handshake record opening with a ClientHello or
/// ServerHello, or, once the peer is known to speak TLS (`peer_tls`), any alert or handshake
/// record (a server refusing the ClientHello outright).
pub(super) fn tls_start(buf: &[u8], peer_tls: bool) -> Option<usize> {
    (0..buf.len().saturating_sub(HUNT_KEEP)).find(|&i| starts_here(&buf[i..], peer_tls))
}

fn starts_here(b: &[u8], peer_tls: bool) -> bool {
    let [ty, major, minor, len_hi, len_lo, hs_type, hs_len_hi, ..] = *b else { return false };
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if major != 3 || minor > 4 || len == 0 || len > super::tls::MAX_RECORD {
        return false;
    }
    match ty {
        22 => matches!(hs_type, 1 | 2) && hs_len_hi == 0 || peer_tls,
        21 => peer_tls && len == 2,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_a_hello_after_plain_text() {
        let mut b = b"STARTTLS\r\n".to_vec();
        b.extend([22, 3, 1, 0, 40, 1, 0, 0, 36, 3, 3]);
        assert_eq!(tls_start(&b, false), Some(10));
        assert_eq!(tls_start(b"EHLO cucm\r\n220 ready\r\n", false), None);
        assert_eq!(tls_start(&[22, 3], false), None);
    }

    #[test]
    fn an_alert_counts_only_once_the_peer_speaks_tls() {
        let b = [21, 3, 3, 0, 2, 2, 48, 0, 0];
        assert_eq!(tls_start(&b, false), None);
        assert_eq!(tls_start(&b, true), Some(0));
    }
}
