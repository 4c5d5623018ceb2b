//! The phone's side: fetching a file over HTTP (6970) or TFTP (69), bounded as a phone is.

mod http;
mod tftp;

pub use http::http_get;
pub use tftp::{tftp_get, TftpOptions};

/// Why a fetch failed.
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// HTTP 404, TFTP error 1.
    #[error("file not found")]
    NotFound,
    /// HTTP 503 (CUCM's answer for a CTL file outside mixed mode).
    #[error("service unavailable")]
    Unavailable,
    /// Above the phone's 2 MiB download limit.
    #[error("file above the 2 MiB limit")]
    TooLarge,
    #[error("no answer in time")]
    Timeout,
    /// Any other refusal: "TFTP error N: text" or "HTTP NNN".
    #[error("refused: {0}")]
    Refused(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}
