//! SIP over UDP, for Non Secure phones: each datagram is one request, answered to its source
//! address (phones send from the port they listen on). What a source holds is kept between
//! datagrams ([`Held`], per address:port), so that a refresh is not recorded again; the table is
//! bounded and forgets expired registrations.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use opencapf_model::{Protocol, Transport};
use tokio::net::UdpSocket;
use tokio::time::{Duration, Instant};
use tracing::debug;

use super::sip_register::Held;
use super::sip_requests::answer;
use super::sip_session::new_tag;
use super::Shared;
use crate::rules::Connection;
use crate::sip;

/// Sources whose registration is remembered at once; beyond it, a new source's registration is
/// answered but not remembered (its refreshes are then recorded as registrations).
const MAX_HELD: usize = 65_536;

/// The SIP UDP listener's service, for [`opencapf_net::serve_datagrams`].
pub(super) struct SipUdp {
    pub shared: Arc<Shared>,
    held: Mutex<HashMap<SocketAddr, (Held, Instant)>>,
}

impl SipUdp {
    pub(super) fn new(shared: Arc<Shared>) -> Self {
        SipUdp { shared, held: Mutex::new(HashMap::new()) }
    }

    fn take(&self, from: SocketAddr) -> Option<Held> {
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        held.remove(&from).filter(|(_, until)| *until > now).map(|(h, _)| h)
    }

    fn put(&self, from: SocketAddr, h: Option<Held>) {
        let Some(h) = h else { return };
        let mut held = self.held.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if held.len() >= MAX_HELD {
            held.retain(|_, (_, until)| *until > now);
            if held.len() >= MAX_HELD {
                return;
            }
        }
        // As on a connection: the registration lasts its Expires plus 32 seconds of grace.
        let until = now + Duration::from_secs(u64::from(h.expires) + 32);
        held.insert(from, (h, until));
    }
}

impl opencapf_net::DatagramService for SipUdp {
    fn name(&self) -> &'static str {
        "SIP over UDP"
    }

    async fn handle(self: Arc<Self>, datagram: Vec<u8>, from: SocketAddr, socket: Arc<UdpSocket>) {
        let shared = &self.shared;
        if datagram.len() > shared.config.sip_udp_max_datagram {
            debug!(%from, "SIP datagram of {} bytes dropped: over the limit", datagram.len());
            return;
        }
        let request = match sip::parse_datagram(&datagram, &shared.config.sip_limits) {
            Ok(Some(m)) => m,
            Ok(None) => return, // a keepalive
            Err(e) => {
                debug!(%from, "SIP datagram dropped: {e}");
                return;
            }
        };
        let conn = Connection {
            peer: from,
            protocol: Protocol::Sip,
            transport: Transport::Udp,
            tls_version: None,
            cipher: None,
            engine: None,
            certificate: None,
        };
        let mut held = self.take(from);
        let responses = answer(shared, &conn, &request, &new_tag(), &mut held).await;
        self.put(from, held);
        for r in responses {
            if let Err(e) = socket.send_to(&r.to_bytes(), from).await {
                debug!(%from, "cannot send a SIP response: {e}");
                return;
            }
        }
    }
}
