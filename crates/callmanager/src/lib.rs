//! CallManager of OpenCAPF: the call-control service phones register to, and the other half of
//! the seed: which certificate a phone shows CallManager, and what CallManager makes of it.
//!
//! Four listeners, each movable or disabled in [`CallManagerConfig`]:
//!
//! | listener | default | |
//! |---|---|---|
//! | SIP over TLS | `0.0.0.0:5061` | client certificate required, verified against CallManager-trust |
//! | SIP over TCP | `0.0.0.0:5060` | Non Secure devices |
//! | SIP over UDP | `0.0.0.0:5060` | Non Secure devices; a budget of datagrams per source |
//! | SCCP over TLS | `0.0.0.0:2443` | client certificate required, verified against CallManager-trust |
//! | SCCP over TCP | `0.0.0.0:2000` | Non Secure devices |
//!
//! - `tls` (private): the handshake. The phone's certificate (its LSC, or its MIC when it has none) is
//!   verified with [`opencapf_pki::verify()`] against CallManager-trust, read from the store for
//!   every new connection: a change to the store applies to the next connection with no restart.
//!   (CUCM reads CallManager-trust when the Cisco CallManager service starts: there, a change
//!   needs a service restart.) An unknown issuer ends the handshake with a fatal `unknown_ca`
//!   alert, an expired certificate with `certificate_expired`.
//! - `rules` (private): the registration rules (device exists, right protocol, secure profiles over TLS and
//!   Non Secure over TCP, the certificate names the device), each refusal with a reason.
//! - [`sip`]: bounded SIP over a stream or in a datagram. REGISTER → `200 OK` (Contact, Expires,
//!   Date), or `403`/`404` whose reason phrase is the refusal. A Cisco phone registering a line
//!   (its DN in From/To, its device name in the Contact's `+u.sip!devicename.ccm.cisco.com`) gets
//!   CUCM's answer: `100 Trying`, then `200 OK` with the station keepalive as Expires, its Contact
//!   echoed with `x-cisco-newreg`, and the remotecc response to a bulk registration. OPTIONS →
//!   `200 OK` with Allow; REFER → `202`; the phone's NOTIFYs → `200` (unknown events `489`);
//!   anything else `501` (ACK: nothing).
//! - [`sccp`]: Skinny framing as Wireshark's dissector reads it. RegisterMessage → RegisterAck or
//!   RegisterReject, then CapabilitiesReq and the dialogue to the idle screen (templates, the
//!   device's lines, ConfigStat, the date); KeepAlive → KeepAliveAck; Unregister → UnregisterAck. Connections idle past
//!   [`CallManagerConfig::sccp_idle_timeout`] are closed.
//!
//! [`sip`] and [`sccp`] stay public modules (the phone simulator speaks them too): each is a codec
//! with its own vocabulary whose generic names ([`sip::Message`], [`sip::Reader`],
//! [`sip::Limits`], [`sccp::Frame`], [`sccp::id`]) only read right beside the module's name.
//!
//! Every registration and unregistration is recorded (`opencapf_cluster`'s registration
//! records) and audited (actor `callmanager`), with one log line each. Refusals get a log line
//! each but are recorded aggregated ([`RefusalLog`]: per address and reason, with a count, at
//! most one write a second) and not audited: anyone on the voice VLAN can cause them.
//! A SIP refresh (a new REGISTER for the device already registered on the same connection) is
//! not recorded again.
//!
//! [`Registry`] ([`CallManagerServer::registry`]): the SIP registrations open now, each on its
//! connection; [`Registry::service_control`] writes CUCM's NOTIFY `service-control` (Reset,
//! Restart, Apply Config) on them and collects the phones' answers.
//!
//! Differences from CUCM, by design or by rustls: no TLS 1.0/1.1, no CBC, NULL or static-RSA
//! cipher suites (so CUCM's Authenticated mode, TLS with NULL-SHA, is TLS with encryption here);
//! no session resumption; no call control (calls, lines and media are out of scope).

mod rules;
pub mod sccp;
mod server;
pub mod sip;
mod tls;

use std::net::{Ipv4Addr, SocketAddr};
use std::time::Duration;

pub use server::{BoundAddrs, CallManagerServer, Reached, RefusalLog, Registry, ServiceControl, SipUdpListener};

/// Where to listen and how patient to be.
#[derive(Debug, Clone)]
pub struct CallManagerConfig {
    /// SIP over TLS; `None` disables the listener.
    pub sip_tls: Option<SocketAddr>,
    pub sip_tcp: Option<SocketAddr>,
    /// SIP over UDP, for Non Secure phones (their `transportLayerProtocol` may be UDP).
    pub sip_udp: Option<SocketAddr>,
    pub sccp_tls: Option<SocketAddr>,
    pub sccp_tcp: Option<SocketAddr>,
    /// A TLS handshake must complete within this.
    pub handshake_timeout: Duration,
    pub sip_limits: sip::Limits,
    /// Once the first byte of a SIP message has arrived, the whole message must arrive within this.
    pub sip_request_timeout: Duration,
    /// A SIP connection with no registration on it is closed after this long without a message.
    /// With a registration, the limit is the granted Expires plus 32 seconds.
    pub sip_idle_timeout: Duration,
    /// The longest registration granted, in seconds (the Expires of `200 OK`).
    pub sip_max_expires: u32,
    /// Expires granted when the phone asks for none.
    pub sip_default_expires: u32,
    /// The Expires CUCM grants a Cisco phone registering its lines (CUCM's service parameter
    /// "SIP Station KeepAlive Interval", 120 s by default): the phone refreshes 5 s before.
    pub sip_station_keepalive: u32,
    /// Datagrams handled per source address and window on the SIP UDP listener; more are dropped.
    pub sip_udp_budget: opencapf_net::Budget,
    /// Largest SIP datagram read; a larger one is dropped unanswered.
    pub sip_udp_max_datagram: usize,
    /// keepAliveInterval sent in RegisterAckMessage.
    pub sccp_keepalive_interval: Duration,
    /// An SCCP connection that sends nothing for this long is closed; one that has not registered
    /// within it after connecting too.
    pub sccp_idle_timeout: Duration,
    /// Largest SCCP `data_length` accepted.
    pub sccp_max_length: u32,
    /// Connections served at once by each listener (each has its own budget, so that one
    /// flooded listener cannot starve another); more wait in the listen queue.
    pub max_connections: usize,
    /// Connections at once from one address, per listener (`None`: no limit); one more is
    /// closed at once.
    pub max_per_source: Option<usize>,
    /// A connection with no registration on it (SIP or SCCP) is closed this long after it opened
    /// or its registration ended, whatever it sends meanwhile (keepalives do not extend it).
    pub unregistered_timeout: Duration,
}

impl Default for CallManagerConfig {
    fn default() -> Self {
        let any = |port| Some(SocketAddr::from((Ipv4Addr::UNSPECIFIED, port)));
        CallManagerConfig {
            sip_tls: any(5061),
            sip_tcp: any(5060),
            sip_udp: any(5060),
            sccp_tls: any(2443),
            sccp_tcp: any(2000),
            handshake_timeout: Duration::from_secs(10),
            sip_limits: sip::Limits::default(),
            sip_request_timeout: Duration::from_secs(10),
            sip_idle_timeout: Duration::from_secs(60),
            sip_max_expires: 3600,
            sip_default_expires: 3600,
            sip_station_keepalive: 120,
            // A phone sends a REGISTER every 115 s and a few REFERs and NOTIFYs: 200 a minute
            // leaves room for phones behind one NAT.
            sip_udp_budget: opencapf_net::Budget { per_source: 200, window: Duration::from_secs(60) },
            sip_udp_max_datagram: 16 * 1024,
            sccp_keepalive_interval: Duration::from_secs(30),
            sccp_idle_timeout: Duration::from_secs(75),
            sccp_max_length: sccp::DEFAULT_MAX_LENGTH,
            max_connections: 10_000,
            max_per_source: Some(opencapf_net::Limits::DEFAULT_PER_SOURCE),
            unregistered_timeout: Duration::from_secs(30),
        }
    }
}

impl CallManagerConfig {
    /// Every listener on `127.0.0.1`, port chosen by the system: for tests.
    pub fn loopback() -> Self {
        let lo = Some(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        CallManagerConfig { sip_tls: lo, sip_tcp: lo, sip_udp: lo, sccp_tls: lo, sccp_tcp: lo, ..Default::default() }
    }
}

/// Why CallManager could not start. Each message is whole (context and cause's text); no
/// variant exposes a `source()`, so the CLI prints each cause once.
#[derive(Debug, thiserror::Error)]
pub enum CallManagerError {
    #[error(transparent)]
    Store(#[from] opencapf_cluster::Error),
    #[error("the CallManager certificate and key cannot be used for TLS: {0}")]
    Tls(opencapf_tls::TlsError),
    #[error("cannot listen for {what} on {addr}: {cause}")]
    Bind { what: &'static str, addr: SocketAddr, cause: std::io::Error },
}

// By hand rather than `#[from]`, which would also expose the cause as `source()`.
impl From<opencapf_tls::TlsError> for CallManagerError {
    fn from(e: opencapf_tls::TlsError) -> Self {
        CallManagerError::Tls(e)
    }
}

/// The server's reading of requests beyond the SIP codec, for the fuzz targets only (`fuzz/`).
#[doc(hidden)]
pub mod fuzzing {
    /// Who a REGISTER claims to be (device name, To user, line registration), or why it is
    /// refused before the database is asked.
    pub fn register_claim(req: &crate::sip::Message) -> Result<(String, String, bool), String> {
        crate::server::sip_register::claimed(req)
    }
}
