//! The listeners, the connections, and what is recorded of each registration.
//!
//! | module | what it holds |
//! |---|---|
//! | `listen` | [`CallManagerServer`]: binding the listeners, each an `opencapf_net` service |
//! | `identity` | the CallManager certificate, followed in the store for every new connection |
//! | `connection` | one accepted connection: the TLS handshake (rustls, or OpenSSL for the older phones the `tls.*` settings allow) against CallManager-trust, refused handshakes and TLS offers, then the session |
//! | `sip_session` | a SIP connection (TCP, TLS): reads requests, writes their answers |
//! | `sip_udp` | SIP over UDP: a datagram, its answers, the registrations held per source |
//! | `sip_requests` | the answer to each SIP method (OPTIONS, REFER, NOTIFY …) |
//! | `sip_register` | REGISTER: device and line, the SIP identity checks, CUCM's answer |
//! | `remotecc` | Cisco's remotecc bodies: bulk registration, CUCM's optionsind answer |
//! | `sccp_session` | an SCCP connection: RegisterMessage, KeepAlive, Unregister; its `station` answers the dialogue to the idle screen |
//! | `record` | the log line, registrations row and audit record of each outcome |
//! | `refusals` | [`RefusalLog`]: refusals aggregated per address and reason, written at most once a second |
//! | `registry` | [`Registry`]: the SIP registrations open now, and the NOTIFY `service-control` sent on them |
//!
//! Here: the listener kinds, the state the connections share, and what both protocols use (the
//! rules applied to a claimed device name, and a bounded write).

mod connection;
mod identity;
mod listen;
mod record;
mod refusals;
mod registry;
mod remotecc;
mod sccp_session;
pub(crate) mod sip_register;
mod sip_requests;
mod sip_session;
mod sip_udp;

use std::time::Duration;

use opencapf_cluster::{Cluster, Error as StoreError};
use opencapf_model::{Protocol, Transport};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

use crate::rules::{self, Connection, Refusal};
use crate::CallManagerConfig;

pub use listen::{BoundAddrs, CallManagerServer, SipUdpListener};
pub use refusals::RefusalLog;
pub use registry::{Reached, Registry, ServiceControl};

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
    registry: Registry,
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
