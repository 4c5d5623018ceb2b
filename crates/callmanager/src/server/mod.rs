//! The listeners, the connections, and what is recorded of each registration.
//!
//! | module | what it holds |
//! |---|---|
//! | `listen` | [`CallManagerServer`]: binding the listeners, each an `opencapf_net` service |
//! | `identity` | the CallManager certificate, followed in the store for every new connection |
//! | `connection` | one accepted connection: the TLS handshake against CallManager-trust, refused handshakes, then the session |
//! | `sip_session` | a SIP connection: REGISTER, OPTIONS, the SIP identity checks |
//! | `sccp_session` | an SCCP connection: RegisterMessage, KeepAlive, Unregister; its `station` answers the dialogue to the idle screen |
//! | `record` | the log line, registrations row and audit record of each outcome |
//! | `refusals` | [`RefusalLog`]: refusals aggregated per address and reason, written at most once a second |
//!
//! Here: the listener kinds, the state the connections share, and what both protocols use (the
//! rules applied to a claimed device name, and a bounded write).

mod connection;
mod identity;
mod listen;
mod record;
mod refusals;
mod sccp_session;
mod sip_session;

use std::time::Duration;

use opencapf_cluster::{Cluster, Error as StoreError};
use opencapf_model::{Protocol, Transport};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

use crate::rules::{self, Connection, Refusal};
use crate::CallManagerConfig;

pub use listen::{BoundAddrs, CallManagerServer};
pub use refusals::RefusalLog;

const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    SipTls,
    SipTcp,
    SccpTls,
    SccpTcp,
}

impl Kind {
    fn protocol(self) -> Protocol {
        match self {
            Kind::SipTls | Kind::SipTcp => Protocol::Sip,
            Kind::SccpTls | Kind::SccpTcp => Protocol::Sccp,
        }
    }

    fn transport(self) -> Transport {
        match self {
            Kind::SipTls | Kind::SccpTls => Transport::Tls,
            Kind::SipTcp | Kind::SccpTcp => Transport::Tcp,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Kind::SipTls => "SIP over TLS",
            Kind::SipTcp => "SIP over TCP",
            Kind::SccpTls => "SCCP over TLS",
            Kind::SccpTcp => "SCCP over TCP",
        }
    }
}

struct Shared {
    store: Cluster,
    config: CallManagerConfig,
    identity: identity::Resolver,
    hostname: String,
    refusals: RefusalLog,
}

async fn write<S: AsyncWrite + Unpin>(stream: &mut S, bytes: &[u8]) -> bool {
    matches!(
        timeout(WRITE_TIMEOUT, async {
            stream.write_all(bytes).await?;
            stream.flush().await
        })
        .await,
        Ok(Ok(()))
    )
}

/// Applies the rules to a name a phone gave.
async fn decide(store: &Cluster, conn: &Connection, claimed: &str) -> Result<opencapf_pki::DeviceName, Refusal> {
    let name = rules::parse_claimed(claimed)?;
    let unavailable = |e: StoreError| Refusal::unavailable(format!("CallManager could not read the device: {e}"));
    let device = match store.device(&name).await {
        Ok(d) => d,
        Err(StoreError::NotFound(_)) => return Err(rules::unknown_device(&name)),
        Err(e) => return Err(unavailable(e)),
    };
    rules::check(&device, conn)?;
    Ok(name)
}
