//! Option negotiation (RFC 2347): which options the OACK carries, and what they set.

use std::time::Duration;

/// The block size RFC 2348 allows at most.
const MAX_BLKSIZE: usize = 65464;

/// What a transfer uses after negotiation, and the options the OACK echoes (only those asked
/// for and accepted; empty: no OACK, DATA 1 of 512 bytes straight away, as RFC 1350).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Negotiated {
    pub(crate) blksize: usize,
    pub(crate) timeout: Duration,
    pub(crate) oack: Vec<(String, String)>,
}

/// Negotiates `asked` (names lower-cased) for a transfer of `size` bytes on the wire, with block
/// sizes capped at `max_blksize` and `default_timeout` unless the client sets one.
pub(crate) fn negotiate(
    asked: &[(String, String)],
    size: usize,
    max_blksize: usize,
    default_timeout: Duration,
) -> Negotiated {
    let mut n = Negotiated { blksize: 512, timeout: default_timeout, oack: Vec::new() };
    for (name, value) in asked {
        // A value that is not a plain decimal number makes the option unknown: ignored (RFC 2347).
        let Some(number) = decimal(value) else { continue };
        match name.as_str() {
            // Below 8 is outside RFC 2348: refused by ignoring it, the transfer uses 512.
            "blksize" if number >= 8 => {
                n.blksize = number.min(MAX_BLKSIZE as u64).min(max_blksize as u64) as usize;
                n.oack.push((name.clone(), n.blksize.to_string()));
            }
            // RFC 2349: in a read request the client sends 0; the answer is the size sent.
            "tsize" => n.oack.push((name.clone(), size.to_string())),
            "timeout" if (1..=255).contains(&number) => {
                n.timeout = Duration::from_secs(number);
                n.oack.push((name.clone(), number.to_string()));
            }
            _ => {}
        }
    }
    n
}

fn decimal(value: &str) -> Option<u64> {
    if value.is_empty() || value.len() > 10 || !value.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    value.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asked(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn only_options_asked_for_and_accepted_are_acknowledged() {
        let t = Duration::from_secs(1);
        let n = negotiate(&asked(&[("blksize", "1024"), ("tsize", "0"), ("windowsize", "4")]), 3000, 16384, t);
        assert_eq!(n.blksize, 1024);
        assert_eq!(n.oack, asked(&[("blksize", "1024"), ("tsize", "3000")]));

        let n = negotiate(&asked(&[("blksize", "65464"), ("timeout", "3")]), 1, 16384, t);
        assert_eq!((n.blksize, n.timeout), (16384, Duration::from_secs(3)));
        assert_eq!(n.oack, asked(&[("blksize", "16384"), ("timeout", "3")]));

        let n = negotiate(&asked(&[("blksize", "7"), ("timeout", "0"), ("tsize", "-1")]), 1, 16384, t);
        assert_eq!((n.blksize, n.timeout, n.oack.len()), (512, t, 0));
    }
}
