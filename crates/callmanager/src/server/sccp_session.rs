//! An SCCP connection: RegisterMessage, KeepAlive and Unregister, until the phone closes, goes
//! idle or is refused. After RegisterAck, CapabilitiesReq; then the phone's requests for its
//! templates, lines, configuration and date are answered by `station`, whenever they come.

mod station;

use opencapf_model::RegistrationResult;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::{timeout, Instant};
use tracing::{debug, info};

use super::record::{record, recorded_name, refuse};
use super::{decide, write, Shared};
use crate::rules::Connection;
use crate::sccp;
use station::Station;

/// Writes frames in order; false when the connection failed.
async fn send<S: AsyncWrite + Unpin>(stream: &mut S, frames: &[sccp::Frame]) -> bool {
    let bytes: Vec<u8> = frames.iter().flat_map(sccp::Frame::encode).collect();
    write(stream, &bytes).await
}

pub(super) async fn sccp_session<S>(shared: &Shared, conn: &Connection, stream: &mut S)
where
    S: AsyncRead + AsyncWrite + Unpin + Send,
{
    let cfg = &shared.config;
    let opened = Instant::now();
    let mut registered: Option<opencapf_pki::DeviceName> = None;
    let mut station: Option<Station> = None;
    loop {
        // Before registering, the whole connection gets one idle period (at most the
        // unregistered timeout, keepalives or not); after, each message.
        let wait = match registered {
            Some(_) => cfg.sccp_idle_timeout,
            None => {
                let first = cfg.sccp_idle_timeout.min(cfg.unregistered_timeout);
                (opened + first).saturating_duration_since(Instant::now())
            }
        };
        let frame = match timeout(wait, sccp::read_frame(stream, cfg.sccp_max_length)).await {
            Err(_) => {
                match &registered {
                    Some(d) => info!(device = %d, peer = %conn.peer, "closing SCCP connection of {d}: no keepalive \
                                     within {:?}", cfg.sccp_idle_timeout),
                    None => debug!(peer = %conn.peer, "closing SCCP connection: no RegisterMessage in time"),
                }
                return;
            }
            Ok(Ok(None)) => return,
            Ok(Err(e)) => {
                debug!(peer = %conn.peer, "closing SCCP connection: {e}");
                return;
            }
            Ok(Ok(Some(f))) => f,
        };
        match frame.id {
            sccp::id::KEEP_ALIVE => {
                if !write(stream, &sccp::keepalive_ack().encode()).await {
                    return;
                }
            }
            sccp::id::REGISTER => {
                let msg = match sccp::RegisterMessage::decode(&frame.data) {
                    Ok(m) => m,
                    Err(e) => {
                        debug!(peer = %conn.peer, "closing SCCP connection: {e}");
                        return;
                    }
                };
                match decide(&shared.store, conn, &msg.device_name).await {
                    Ok(name) => {
                        if registered.as_ref() != Some(&name) {
                            record(shared, conn, Some(name.as_str()), RegistrationResult::Registered, "").await;
                        }
                        let ack = sccp::RegisterAck {
                            keepalive_interval: u32::try_from(cfg.sccp_keepalive_interval.as_secs()).unwrap_or(30),
                            date_template: "M/D/YA".into(),
                            secondary_keepalive_interval: u32::try_from(cfg.sccp_keepalive_interval.as_secs())
                                .unwrap_or(30),
                            max_protocol_version: msg.protocol_version.min(22),
                            phone_features: 0,
                        };
                        // The lines as they are now; a change reaches the phone at its next
                        // registration, as CUCM's Apply Config does.
                        let lines = match shared.store.device(&name).await {
                            Ok(d) => d.lines,
                            Err(e) => {
                                debug!(device = %name, "SCCP dialogue without lines: {e}");
                                Vec::new()
                            }
                        };
                        let s = Station {
                            device_name: name.to_string(),
                            lines,
                            phone_lines: msg.max_lines,
                            protocol: ack.max_protocol_version,
                            server_name: shared.hostname.clone(),
                        };
                        let caps = sccp::capabilities_req().with_version(sccp::header_version(s.protocol));
                        registered = Some(name);
                        station = Some(s);
                        // Two writes, as two segments: a capture shows RegisterAck on its own.
                        if !send(stream, &[ack.frame()]).await || !send(stream, &[caps]).await {
                            return;
                        }
                    }
                    Err(refusal) => {
                        let device = recorded_name(&msg.device_name);
                        refuse(shared, conn, device.as_deref(), &refusal.reason, refusal.kind).await;
                        let reject = sccp::RegisterReject { text: refusal.short.to_owned() };
                        write(stream, &reject.frame().encode()).await;
                        return;
                    }
                }
            }
            sccp::id::UNREGISTER => {
                if let Some(d) = registered.take() {
                    record(shared, conn, Some(d.as_str()), RegistrationResult::Unregistered, "").await;
                }
                write(stream, &sccp::unregister_ack().encode()).await;
                return;
            }
            other if registered.is_none() => {
                debug!(peer = %conn.peer, "closing SCCP connection: message 0x{other:04x} before RegisterMessage");
                return;
            }
            other => match station.as_ref().map(|s| s.answer(other, &frame.data)) {
                Some(Ok(answers)) if !answers.is_empty() => {
                    if !send(stream, &answers).await {
                        return;
                    }
                }
                Some(Err(e)) => {
                    debug!(peer = %conn.peer, "closing SCCP connection: {e}");
                    return;
                }
                _ => debug!(peer = %conn.peer, "no answer to SCCP {} (0x{other:04x})", sccp::message_name(other)),
            },
        }
    }
}
