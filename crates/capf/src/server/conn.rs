//! One phone's TLS connection, as the session sees it: whole messages in and out, each wait
//! bounded, the session id checked on every message, and the server's stop signal observed.

use std::fmt;
use std::time::Duration;

use opencapf_tls::ServerTls;
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

use crate::proto::element::{ElementError, Tag};
use crate::proto::frame::{read_message, Command, FrameError};
use crate::proto::message::{CapfMessage, EndSession, Message, MessageError, NestedError, Reason};

/// Why a session could not go on. The message goes to the session's log line and, once a device
/// is known, into its status detail.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Fault {
    /// The phone closed the connection, or the connection (or its TLS) broke.
    #[error("connection lost: {0}")]
    Disconnected(Lost),
    /// The phone did not answer in time.
    #[error("timed out waiting for {0}")]
    Timeout(Awaited),
    /// The phone sent something the protocol does not allow (answered with EndSession 7).
    #[error("protocol error: {0}")]
    Protocol(ProtocolError),
    /// The server is stopping.
    #[error("the CAPF server stopped during the session")]
    Stopping,
    /// A message of ours could not be encoded.
    #[error("internal error: {0}")]
    Encode(MessageError),
}

/// How the connection was lost.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Lost {
    #[error("the phone closed the connection")]
    Closed,
    #[error("closed in the middle of a message ({0})")]
    MidMessage(FrameError),
    #[error("{0}")]
    Io(std::io::Error),
}

/// What the server was waiting for when it timed out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Awaited {
    /// A message from the phone.
    Message(Command),
    /// The phone to read what we wrote.
    Write,
}

impl fmt::Display for Awaited {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Awaited::Message(command) => write!(f, "{command:?}"),
            Awaited::Write => f.write_str("the phone to read our message"),
        }
    }
}

/// What the phone sent that the protocol does not allow. Modelled on the client's
/// `UnexpectedCommand { stage, got }`: the stage is the message the session waits for.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ProtocolError {
    #[error("expected {expected:?}, got {got:?}")]
    UnexpectedCommand { expected: Command, got: Command },
    #[error("{command:?} carries session id {got}, this session is {expected}")]
    SessionId { command: Command, got: u32, expected: u32 },
    #[error("{command:?}: {cause}")]
    Decode { command: Command, cause: MessageError },
    #[error("{command:?} repeats element {tag}")]
    RepeatedElement { command: Command, tag: u8 },
    /// Not a CAPF frame (bad magic, a length over the limit...).
    #[error("{0}")]
    Frame(FrameError),
    /// A FetchCertificateResponse body whose elements cannot be walked.
    #[error("{0}")]
    Element(ElementError),
    #[error("certificate package: {0}")]
    CertificatePackage(NestedError),
    #[error("oversized sub-record")]
    OversizedSubRecord,
}

// By hand rather than `#[from]`, which would also expose the cause as `source()`.
impl From<ProtocolError> for Fault {
    fn from(e: ProtocolError) -> Self {
        Fault::Protocol(e)
    }
}

impl Fault {
    /// Whether the phone may still be listening, so that an EndSession is worth sending.
    pub(super) fn can_end(&self) -> bool {
        !matches!(self, Fault::Disconnected(_))
    }
}

/// A message the session waits for by type: [`Conn::expect`] turns any other message into
/// [`ProtocolError::UnexpectedCommand`].
pub(crate) trait Expected: CapfMessage + TryFrom<Message, Error = Message> {}

impl<T: CapfMessage + TryFrom<Message, Error = Message>> Expected for T {}

/// A message received, with its body bytes for the rare caller that reads more than the typed
/// message keeps (several certificates in one FetchCertificateResponse).
pub(crate) struct Received<M = Message> {
    pub message: M,
    pub body: Vec<u8>,
}

impl Received {
    /// The message as a `T`, or the protocol error of an unexpected command.
    pub(super) fn into_expected<T: Expected>(self) -> Result<Received<T>, Fault> {
        match T::try_from(self.message) {
            Ok(message) => Ok(Received { message, body: self.body }),
            Err(other) => Err(ProtocolError::UnexpectedCommand { expected: T::COMMAND, got: other.command() }.into()),
        }
    }
}

pub(crate) struct Conn {
    stream: ServerTls,
    session_id: u32,
    write_timeout: Duration,
    stop: CancellationToken,
}

impl Conn {
    pub(super) fn new(stream: ServerTls, session_id: u32, write_timeout: Duration, stop: CancellationToken) -> Self {
        Self { stream, session_id, write_timeout, stop }
    }

    pub(super) fn session_id(&self) -> u32 {
        self.session_id
    }

    /// Sends one message with ONE write of the whole encoded message: phones stall when a
    /// message is split over two TLS records.
    pub(super) async fn send(&mut self, message: impl Into<Message>) -> Result<(), Fault> {
        let bytes = message.into().encode(self.session_id).map_err(Fault::Encode)?;
        let stream = &mut self.stream;
        let write = async {
            stream.write_all(&bytes).await?;
            stream.flush().await
        };
        match timeout(self.write_timeout, write).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(Fault::Disconnected(Lost::Io(e))),
            Err(_) => Err(Fault::Timeout(Awaited::Write)),
        }
    }

    /// Receives one whole message within `limit`. Checks the session id, decodes it, logs and
    /// skips elements the message does not read, refuses a repeated element (except several
    /// certificates in a FetchCertificateResponse).
    pub(super) async fn recv(&mut self, limit: Duration, waiting_for: Command) -> Result<Received, Fault> {
        let Conn { stream, stop, session_id, .. } = self;
        let stopped = stop.cancelled();
        let raw = tokio::select! {
            r = timeout(limit, read_message(stream)) => match r {
                Err(_) => return Err(Fault::Timeout(Awaited::Message(waiting_for))),
                Ok(Err(e)) => return Err(frame_fault(e)),
                Ok(Ok(raw)) => raw,
            },
            () = stopped => return Err(Fault::Stopping),
        };
        let command = raw.command;
        if raw.session_id != *session_id {
            return Err(ProtocolError::SessionId { command, got: raw.session_id, expected: *session_id }.into());
        }
        let decoded = Message::decode(&raw).map_err(|cause| ProtocolError::Decode { command, cause })?;
        let allowed_repeat = |t: &u8| command == Command::FetchCertificateResponse && *t == u8::from(Tag::Certificate);
        if let Some(&tag) = decoded.duplicate_tags.iter().find(|t| !allowed_repeat(t)) {
            return Err(ProtocolError::RepeatedElement { command, tag }.into());
        }
        if !decoded.ignored_tags.is_empty() {
            tracing::info!(
                session = *session_id,
                ?command,
                tags = ?decoded.ignored_tags,
                "elements this message does not use were skipped"
            );
        }
        Ok(Received { message: decoded.message, body: raw.body })
    }

    /// Receives one whole message within `limit`, which must be a `T`.
    pub(super) async fn expect<T: Expected>(&mut self, limit: Duration) -> Result<Received<T>, Fault> {
        self.recv(limit, T::COMMAND).await?.into_expected()
    }

    /// Sends EndSession if the phone may still listen, then closes the TLS session. Best effort:
    /// the session's outcome is already decided.
    pub(super) async fn close(mut self, end: Option<Reason>) {
        if let Some(reason) = end {
            let _ = self.send(EndSession { reason }).await;
        }
        let _ = timeout(Duration::from_secs(2), self.stream.shutdown()).await;
    }
}

fn frame_fault(e: FrameError) -> Fault {
    match e {
        FrameError::Closed => Fault::Disconnected(Lost::Closed),
        FrameError::TruncatedHeader { .. } | FrameError::TruncatedBody { .. } => {
            Fault::Disconnected(Lost::MidMessage(e))
        }
        FrameError::Io(io) => Fault::Disconnected(Lost::Io(io)),
        other => ProtocolError::Frame(other).into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::message::{KeyGenResponse, StoreCertificateResponse};

    /// The words the administrator reads in statuses and log lines, as they were when these
    /// errors were strings.
    #[test]
    fn faults_keep_their_wording() {
        let unexpected =
            Received { message: Message::from(StoreCertificateResponse { reason: Reason::OK }), body: vec![] }
                .into_expected::<KeyGenResponse>()
                .err()
                .unwrap();
        assert_eq!(unexpected.to_string(), "protocol error: expected KeyGenResponse, got StoreCertificateResponse");
        let cases: [(Fault, &str); 7] = [
            (Fault::Timeout(Awaited::Message(Command::AuthResponse)), "timed out waiting for AuthResponse"),
            (Fault::Timeout(Awaited::Write), "timed out waiting for the phone to read our message"),
            (frame_fault(FrameError::Closed), "connection lost: the phone closed the connection"),
            (
                frame_fault(FrameError::TruncatedHeader { got: 3 }),
                "connection lost: closed in the middle of a message (truncated header: 3 of 8 bytes)",
            ),
            (frame_fault(FrameError::BadMagic(0x16)), "protocol error: bad protocol id 0x16 (expected 0x55)"),
            (
                ProtocolError::SessionId { command: Command::AuthResponse, got: 7, expected: 9 }.into(),
                "protocol error: AuthResponse carries session id 7, this session is 9",
            ),
            (
                ProtocolError::RepeatedElement { command: Command::KeyGenResponse, tag: 5 }.into(),
                "protocol error: KeyGenResponse repeats element 5",
            ),
        ];
        for (fault, text) in cases {
            assert_eq!(fault.to_string(), text);
        }
        assert_eq!(Fault::Stopping.to_string(), "the CAPF server stopped during the session");
        assert!(!frame_fault(FrameError::Closed).can_end());
    }
}
