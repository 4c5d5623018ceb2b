//! How a CAPF operation stops short of success, as the session records it: a [`Refusal`] (a step
//! refused, with the status reason), a connection [`Fault`], or an [`Internal`] error of CAPF
//! itself. Every message here is administrator text: it becomes a status detail, a history row
//! and the session's log line, word for word.

use opencapf_model::Failure;
use opencapf_pki::PkiError;

use super::conn::{Fault, ProtocolError};
use crate::proto::message::MessageError;

/// A refused step of the session (authentication, the key asked for, the phone's answer): the
/// status reason recorded and what exactly was wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub(crate) struct Refusal {
    pub failure: Failure,
    pub detail: String,
}

impl Refusal {
    pub(super) fn new(failure: Failure, detail: impl Into<String>) -> Self {
        Refusal { failure, detail: detail.into() }
    }
}

/// Why CAPF itself could not go on (database, signing, encoding one of its own messages).
#[derive(Debug, thiserror::Error)]
pub(crate) enum Internal {
    /// The cluster database or a blocking task failed; kept as its text (the store's API is
    /// being replaced, and these errors are only ever recorded and logged).
    #[error("{0}")]
    Other(String),
    #[error("issuing the LSC: {0}")]
    Issue(PkiError),
    #[error("{0}")]
    Encode(MessageError),
}

/// Why an operation stopped before success.
pub(crate) enum Stop {
    Failed {
        refusal: Refusal,
        /// The serial of an LSC sent to the phone and not installed.
        issued: Option<String>,
        /// Whether the phone may still listen for an EndSession.
        end: bool,
    },
    Internal(Internal),
    /// Already recorded, in the transaction that decided it (a wrong authentication string):
    /// the session's log line only.
    Recorded {
        result: String,
    },
}

impl From<Refusal> for Stop {
    fn from(refusal: Refusal) -> Self {
        Stop::Failed { refusal, issued: None, end: true }
    }
}

impl From<Internal> for Stop {
    fn from(e: Internal) -> Self {
        Stop::Internal(e)
    }
}

impl Stop {
    /// A connection fault; a timeout counts as `on_timeout` (key generation has its own reason),
    /// any other fault of the phone as a communication failure.
    pub(super) fn fault(fault: Fault, on_timeout: Failure) -> Self {
        let failure = match fault {
            Fault::Encode(e) => return Stop::Internal(Internal::Encode(e)),
            Fault::Timeout(_) => on_timeout,
            Fault::Disconnected(_) | Fault::Protocol(_) => Failure::PhoneCommunication,
            Fault::Stopping => Failure::Unspecified,
        };
        let end = fault.can_end();
        Stop::Failed { refusal: Refusal::new(failure, fault.to_string()), issued: None, end }
    }

    /// CAPF itself could not go on: a database error, a failed task.
    pub(super) fn internal(e: impl std::fmt::Display) -> Self {
        Stop::Internal(Internal::Other(e.to_string()))
    }

    /// A fault of the phone while CAPF waits for anything but the key.
    pub(super) fn phone(fault: Fault) -> Self {
        Self::fault(fault, Failure::PhoneCommunication)
    }

    pub(super) fn with_issued(self, serial: &str) -> Self {
        match self {
            Stop::Failed { refusal, end, .. } => Stop::Failed { refusal, issued: Some(serial.to_owned()), end },
            internal => internal,
        }
    }
}

impl From<ProtocolError> for Stop {
    fn from(e: ProtocolError) -> Self {
        Stop::phone(e.into())
    }
}
