//! What the servers serve: a [`FileSource`] asked for a checked name.

use std::future::Future;
use std::net::SocketAddr;

use bytes::Bytes;

/// Longest file name served. CUCM's names (`ITLSEP<MAC>.tlv`, `SEP<MAC>.cnf.xml.sgn`,
/// `SK<uuid>.xml.sgn`) are well under it.
pub const MAX_NAME: usize = 128;

/// Largest file served: the phone's own download limit (`GHTTP-LIMIT`, 2048 KB).
pub const MAX_FILE: usize = 2 * 1024 * 1024;

/// How a file was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Http,
    Tftp,
}

/// What a [`FileSource`] answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(Bytes),
    NotFound,
    /// HTTP 503, as CUCM answers a CTL file outside mixed mode; TFTP error 1, as CUCM then does.
    Unavailable,
}

/// The files of the configuration service.
pub trait FileSource: Send + Sync + 'static {
    /// `name` is already checked (no '/', '\\', "..", NUL or control characters, at most
    /// [`MAX_NAME`] bytes, leading '/' removed). Called once per request.
    fn fetch(&self, name: &str, peer: SocketAddr, via: Transport) -> impl Future<Output = Lookup> + Send;
}

/// Why a requested name is refused before any [`FileSource`] sees it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NameError {
    #[error("empty file name")]
    Empty,
    #[error("file name of {0} bytes is above {MAX_NAME}")]
    TooLong(usize),
    #[error("file name holds a path separator, \"..\", NUL or a control character")]
    Forbidden,
}

/// The name a [`FileSource`] is asked for: `requested` without its leading '/' (phones and
/// some TFTP clients send one), refused when it could reach outside the served names.
pub fn checked_name(requested: &str) -> Result<&str, NameError> {
    let name = requested.strip_prefix('/').unwrap_or(requested);
    if name.is_empty() {
        return Err(NameError::Empty);
    }
    if name.len() > MAX_NAME {
        return Err(NameError::TooLong(name.len()));
    }
    if name.contains("..") || name.chars().any(|c| c == '/' || c == '\\' || c.is_control()) {
        return Err(NameError::Forbidden);
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_outside_the_served_ones_are_refused() {
        assert_eq!(checked_name("/ITLFile.tlv"), Ok("ITLFile.tlv"));
        assert_eq!(checked_name("SEP001122334455.cnf.xml.sgn"), Ok("SEP001122334455.cnf.xml.sgn"));
        for bad in ["../etc/passwd", "a/b", "//a", "a\\b", "a\0b", "a\x1bb", "..", "a\u{85}b"] {
            assert_eq!(checked_name(bad), Err(NameError::Forbidden), "{bad:?}");
        }
        assert_eq!(checked_name("/"), Err(NameError::Empty));
        assert_eq!(checked_name(&"a".repeat(129)), Err(NameError::TooLong(129)));
        assert!(checked_name(&"a".repeat(128)).is_ok());
    }
}
