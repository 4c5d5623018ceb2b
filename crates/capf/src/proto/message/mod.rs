//! Typed CAPF messages built from elements (§1.3, §1.9).
//!
//! Decoding reads the elements a message understands, in any order, and
//! reports every other tag in [`Decoded::ignored_tags`] instead of failing
//! (capfd aborts on them; §1.12 recommends skipping). Encoding writes
//! elements in ascending tag order, which is capfd's order.

mod enums;
mod fields;
mod nested;
mod session;
mod setup;

pub use enums::{AuthType, CertType, Curve, HashId, KeySpec, KeyType, Reason};
pub use fields::{decode_cstring, encode_cstring};
pub use nested::{CertPackage, NestedError, Sha2SignedData, SignatureRecord, SubRecord, SudiData};
pub use session::{
    DeleteCertificateRequest, DeleteCertificateResponse, EndSession, FetchCertificateRequest, FetchCertificateResponse,
    RequestInProgress, StoreCertificateRequest, StoreCertificateResponse,
};
pub use setup::{AuthRequest, AuthResponse, KeyGenRequest, KeyGenResponse};

use super::element::{ElementError, ElementSet, Tag};
use super::frame::{Command, FrameError, RawMessage};

/// Why a message cannot be decoded or encoded.
#[derive(Debug, thiserror::Error)]
pub enum MessageError {
    #[error(transparent)]
    Element(#[from] ElementError),
    #[error(transparent)]
    Frame(#[from] FrameError),
    #[error("{tag:?} element: {cause}")]
    Nested { tag: Tag, cause: NestedError },
    #[error("missing {0:?} element")]
    MissingElement(Tag),
    #[error("{tag:?} element is {got} bytes, expected {expected}")]
    BadLength { tag: Tag, expected: usize, got: usize },
    #[error("{0:?} element is empty")]
    EmptyValue(Tag),
    #[error("{tag:?} element has unsupported value {value}")]
    BadValue { tag: Tag, value: u8 },
    #[error("{0:?} element is not valid UTF-8")]
    NotUtf8(Tag),
    #[error("{0:?} element contains a NUL before its end")]
    EmbeddedNul(Tag),
    #[error("expected command {expected:?}, got {got:?}")]
    UnexpectedCommand { expected: Command, got: Command },
}

/// A message type with a fixed command and a set of elements it reads.
pub trait CapfMessage: Sized {
    const COMMAND: Command;
    /// The tags this message reads; others are reported as ignored.
    const TAGS: &'static [Tag];

    fn from_elements(elements: &ElementSet) -> Result<Self, MessageError>;
    fn to_elements(&self) -> Result<ElementSet, MessageError>;

    /// Decodes `raw`, which must carry this type's command.
    fn from_raw(raw: &RawMessage) -> Result<Self, MessageError> {
        if raw.command != Self::COMMAND {
            return Err(MessageError::UnexpectedCommand { expected: Self::COMMAND, got: raw.command });
        }
        Self::from_elements(&raw.elements()?)
    }

    fn to_raw(&self, session_id: u32) -> Result<RawMessage, MessageError> {
        let body = self.to_elements()?.encode()?;
        Ok(RawMessage::new(Self::COMMAND, session_id, body))
    }

    /// The whole message (header and body) in one buffer, for one write.
    fn encode(&self, session_id: u32) -> Result<Vec<u8>, MessageError> {
        Ok(self.to_raw(session_id)?.encode()?)
    }
}

/// Any CAPF message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    AuthRequest(AuthRequest),
    AuthResponse(AuthResponse),
    KeyGenRequest(KeyGenRequest),
    KeyGenResponse(KeyGenResponse),
    StoreCertificateRequest(StoreCertificateRequest),
    StoreCertificateResponse(StoreCertificateResponse),
    FetchCertificateRequest(FetchCertificateRequest),
    FetchCertificateResponse(FetchCertificateResponse),
    DeleteCertificateRequest(DeleteCertificateRequest),
    DeleteCertificateResponse(DeleteCertificateResponse),
    EndSession(EndSession),
    RequestInProgress(RequestInProgress),
    /// A command with no known wire semantics (5–8, 16, 18–23, unknown):
    /// its elements are handed over untouched.
    Other {
        command: Command,
        elements: ElementSet,
    },
}

/// A decoded message and what the decoder set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decoded {
    pub session_id: u32,
    pub message: Message,
    /// Tags present but not read by this message type (log and skip).
    pub ignored_tags: Vec<u8>,
    /// Tags that appeared more than once (the last value was used).
    pub duplicate_tags: Vec<u8>,
}

/// The `Message` methods that dispatch on each typed variant.
macro_rules! impl_message {
    ($($t:ident),+) => {
        impl Message {
            pub fn command(&self) -> Command {
                match self {
                    $( Message::$t(_) => $t::COMMAND, )+
                    Message::Other { command, .. } => *command,
                }
            }

            /// Decodes by command; commands without a typed form become
            /// [`Message::Other`].
            pub fn decode(raw: &RawMessage) -> Result<Decoded, MessageError> {
                let elements = raw.elements()?;
                let (message, read): (Message, &[Tag]) = match raw.command {
                    $( Command::$t => ($t::from_elements(&elements)?.into(), $t::TAGS), )+
                    command => {
                        let duplicate_tags = elements.duplicate_tags().to_vec();
                        return Ok(Decoded {
                            session_id: raw.session_id,
                            message: Message::Other { command, elements },
                            ignored_tags: Vec::new(),
                            duplicate_tags,
                        });
                    }
                };
                Ok(Decoded {
                    session_id: raw.session_id,
                    message,
                    ignored_tags: elements.tags().filter(|t| !read.contains(t)).map(u8::from).collect(),
                    duplicate_tags: elements.duplicate_tags().to_vec(),
                })
            }

            pub fn to_raw(&self, session_id: u32) -> Result<RawMessage, MessageError> {
                match self {
                    $( Message::$t(m) => m.to_raw(session_id), )+
                    Message::Other { command, elements } => {
                        Ok(RawMessage::new(*command, session_id, elements.encode()?))
                    }
                }
            }
        }

        $(
            impl From<$t> for Message {
                fn from(m: $t) -> Self {
                    Message::$t(m)
                }
            }

            /// The typed message, or the message back when it is another one.
            impl TryFrom<Message> for $t {
                type Error = Message;

                fn try_from(m: Message) -> Result<Self, Message> {
                    match m {
                        Message::$t(typed) => Ok(typed),
                        other => Err(other),
                    }
                }
            }
        )+
    };
}

impl_message!(
    AuthRequest,
    AuthResponse,
    KeyGenRequest,
    KeyGenResponse,
    StoreCertificateRequest,
    StoreCertificateResponse,
    FetchCertificateRequest,
    FetchCertificateResponse,
    DeleteCertificateRequest,
    DeleteCertificateResponse,
    EndSession,
    RequestInProgress
);

impl Message {
    /// The whole message (header and body) in one buffer, for one write.
    pub fn encode(&self, session_id: u32) -> Result<Vec<u8>, MessageError> {
        Ok(self.to_raw(session_id)?.encode()?)
    }
}
