//! One phone's TLS connection, as the session sees it: whole messages in and out, each wait
//! bounded, the session id checked on every message, and the server's stop signal observed.

use std::fmt;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::time::timeout;
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::proto::element::Tag;
use crate::proto::frame::{read_message, Command, FrameError};
use crate::proto::message::{EndSession, Message, Reason};

/// Why a session could not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The phone closed the connection, or the connection (or its TLS) broke.
    Disconnected(String),
    /// The phone did not answer in time; names what was awaited.
    Timeout(&'static str),
    /// The phone sent something the protocol does not allow (answered with EndSession 7).
    Protocol(String),
    /// The server is stopping.
    Stopping,
    /// A message of ours could not be encoded.
    Internal(String),
}

impl fmt::Display for Fault {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Fault::Disconnected(d) => write!(f, "connection lost: {d}"),
            Fault::Timeout(what) => write!(f, "timed out waiting for {what}"),
            Fault::Protocol(d) => write!(f, "protocol error: {d}"),
            Fault::Stopping => f.write_str("the CAPF server stopped during the session"),
            Fault::Internal(d) => write!(f, "internal error: {d}"),
        }
    }
}

impl Fault {
    /// Whether the phone may still be listening, so that an EndSession is worth sending.
    pub fn can_end(&self) -> bool {
        !matches!(self, Fault::Disconnected(_))
    }
}

/// A message received, with its body bytes for the rare caller that reads more than the typed
/// message keeps (several certificates in one FetchCertificateResponse).
pub(crate) struct Received {
    pub message: Message,
    pub body: Vec<u8>,
}

pub(crate) struct Conn {
    stream: TlsStream<TcpStream>,
    session_id: u32,
    write_timeout: Duration,
    stop: CancellationToken,
}

impl Conn {
    pub fn new(
        stream: TlsStream<TcpStream>,
        session_id: u32,
        write_timeout: Duration,
        stop: CancellationToken,
    ) -> Self {
        Self { stream, session_id, write_timeout, stop }
    }

    pub fn session_id(&self) -> u32 {
        self.session_id
    }

    /// Sends one message with ONE write of the whole encoded message: phones stall when a
    /// message is split over two TLS records.
    pub async fn send(&mut self, message: impl Into<Message>) -> Result<(), Fault> {
        let bytes = message.into().encode(self.session_id).map_err(|e| Fault::Internal(e.to_string()))?;
        let stream = &mut self.stream;
        let write = async {
            stream.write_all(&bytes).await?;
            stream.flush().await
        };
        match timeout(self.write_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Fault::Disconnected(e.to_string())),
            Err(_) => Err(Fault::Timeout("the phone to read our message")),
        }
    }

    /// Receives one whole message within `limit`. Checks the session id, decodes it, logs and
    /// skips elements the message does not read, refuses a repeated element (except several
    /// certificates in a FetchCertificateResponse).
    pub async fn recv(&mut self, limit: Duration, waiting_for: &'static str) -> Result<Received, Fault> {
        let Conn { stream, stop, session_id, .. } = self;
        let stopped = stop.cancelled();
        let raw = tokio::select! {
            r = timeout(limit, read_message(stream)) => match r {
                Err(_) => return Err(Fault::Timeout(waiting_for)),
                Ok(Err(e)) => return Err(frame_fault(e)),
                Ok(Ok(raw)) => raw,
            },
            () = stopped => return Err(Fault::Stopping),
        };
        if raw.session_id != *session_id {
            return Err(Fault::Protocol(format!(
                "{:?} carries session id {}, this session is {}",
                raw.command, raw.session_id, session_id
            )));
        }
        let decoded = Message::decode(&raw).map_err(|e| Fault::Protocol(format!("{:?}: {e}", raw.command)))?;
        let allowed_repeat =
            |t: &u8| raw.command == Command::FetchCertificateResponse && *t == u8::from(Tag::Certificate);
        if let Some(t) = decoded.duplicate_tags.iter().find(|t| !allowed_repeat(t)) {
            return Err(Fault::Protocol(format!("{:?} repeats element {t}", raw.command)));
        }
        if !decoded.ignored_tags.is_empty() {
            tracing::info!(
                session = *session_id,
                command = ?raw.command,
                tags = ?decoded.ignored_tags,
                "elements this message does not use were skipped"
            );
        }
        Ok(Received { message: decoded.message, body: raw.body })
    }

    /// Sends EndSession if the phone may still listen, then closes the TLS session. Best effort:
    /// the session's outcome is already decided.
    pub async fn close(mut self, end: Option<Reason>) {
        if let Some(reason) = end {
            let _ = self.send(EndSession { reason }).await;
        }
        let _ = timeout(Duration::from_secs(2), self.stream.shutdown()).await;
    }
}

fn frame_fault(e: FrameError) -> Fault {
    match e {
        FrameError::Closed => Fault::Disconnected("the phone closed the connection".into()),
        FrameError::BadMagic(_) => Fault::Protocol(e.to_string()),
        FrameError::TruncatedHeader { .. } | FrameError::TruncatedBody { .. } => {
            Fault::Disconnected(format!("closed in the middle of a message ({e})"))
        }
        FrameError::Io(io) => Fault::Disconnected(io.to_string()),
        other => Fault::Protocol(other.to_string()),
    }
}
