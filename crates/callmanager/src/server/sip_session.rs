//! A SIP connection (TCP or TLS): requests answered by `sip_requests`, until the phone closes,
//! goes idle or is refused too often.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tracing::debug;

use super::sip_register::Held;
use super::sip_requests::answer;
use super::{write, Shared};
use crate::rules::Connection;
use crate::sip::{self, Event, Message, ReadError};

/// A SIP connection is closed after this many refused REGISTERs: each one is recorded, and a
/// phone that keeps being refused has nothing to gain from the same connection.
const MAX_SIP_REFUSALS: u32 = 10;

pub(super) fn new_tag() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u64(Instant::now().elapsed().as_nanos() as u64);
    format!("{:016x}", h.finish())
}

pub(super) async fn sip_session<S>(shared: &Shared, conn: &Connection, stream: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let cfg = &shared.config;
    let mut reader = sip::Reader::new(cfg.sip_limits);
    let tag = new_tag();
    // The device registered on this connection and the Expires granted.
    let mut registered: Option<Held> = None;
    let mut refusals = 0u32;
    // Since when the connection has had no registration: it must get one in time, pings or not.
    let mut unregistered_since = Some(Instant::now());
    let mut inbox = shared.registry.inbox(conn.peer, conn.transport);
    loop {
        let idle = match &registered {
            Some(held) => {
                unregistered_since = None;
                Duration::from_secs(u64::from(held.expires) + 32)
            }
            None => {
                let since = *unregistered_since.get_or_insert_with(Instant::now);
                let left = (since + cfg.unregistered_timeout).saturating_duration_since(Instant::now());
                cfg.sip_idle_timeout.min(left)
            }
        };
        let request = match inbox.next(&mut reader, stream, idle, cfg.sip_request_timeout, &shared.hostname).await {
            Ok(Event::Closed) => return,
            Ok(Event::Ping) => {
                if !write(stream, b"\r\n").await {
                    return;
                }
                continue;
            }
            Ok(Event::Message(m)) => m,
            Err(ReadError::BodyTooLarge { head, length }) => {
                if head.method().is_some() {
                    let mut r = sip::response_to(&head, 413, "Request Entity Too Large", &tag);
                    r.push("Warning", warning(&shared.hostname, &format!("body of {length} bytes is over the limit")));
                    write(stream, &r.to_bytes()).await;
                }
                debug!(peer = %conn.peer, "closing SIP connection: body of {length} bytes");
                return;
            }
            Err(e) => {
                debug!(peer = %conn.peer, "closing SIP connection: {e}");
                return;
            }
        };
        let responses = answer(shared, conn, &request, &tag, &mut registered).await;
        for r in &responses {
            if !write(stream, &r.to_bytes()).await {
                return;
            }
        }
        let is_register = request.method().is_some_and(|m| m.eq_ignore_ascii_case("REGISTER"));
        if let (true, Some(last)) = (is_register, responses.last()) {
            inbox.after_register(&request, last, registered.as_ref().map(|held| &held.device));
        }
        let refused = responses.last().and_then(Message::code).is_some_and(|c| c >= 400);
        if is_register && refused {
            // A NULL-SHA connection on which nothing registered carries nothing more: it is
            // closed, and an Encrypted phone reconnects offering an encrypting suite.
            if conn.is_null_cipher() && registered.is_none() {
                debug!(peer = %conn.peer, "closing SIP connection: NULL-SHA and no Authenticated registration");
                return;
            }
            refusals += 1;
            if refusals >= MAX_SIP_REFUSALS {
                debug!(peer = %conn.peer, "closing SIP connection after {refusals} refused REGISTERs");
                return;
            }
        }
    }
}

pub(super) fn warning(host: &str, text: &str) -> String {
    format!("399 {host} \"{}\"", sip::sanitize_reason(text).replace(['"', '\\'], "'"))
}
