//! SCCP: the RegisterMessage a phone sends, and the RegisterAck or RegisterReject it waits for.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use opencapf_callmanager::sccp;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

use super::{alert_in, mac_of, Answer, Failure};
use crate::Result;

/// The RegisterMessage a phone sends.
pub(super) fn register_message(device: &str, local: SocketAddr) -> sccp::Frame {
    let mut m = sccp::RegisterMessage::new(device);
    if let IpAddr::V4(ip) = local.ip() {
        m.ip = ip;
    } else {
        m.ip = Ipv4Addr::UNSPECIFIED;
    }
    m.mac = mac_of(device);
    m.firmware = format!("OpenCAPF-{}", env!("CARGO_PKG_VERSION"));
    m.frame()
}

pub(super) async fn sccp_exchange<S>(stream: &mut S, frame: &sccp::Frame, wait: Duration) -> Result<Answer, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let written = timeout(wait, async {
        stream.write_all(&frame.encode()).await?;
        stream.flush().await
    })
    .await;
    match written {
        Err(_) => return Err(Failure::Other("timed out sending the RegisterMessage".into())),
        Ok(Err(e)) => {
            return Err(match timeout(Duration::from_secs(1), sccp::read_frame(stream, 64)).await {
                Ok(Err(sccp::FrameError::Io(later))) if alert_in(&later) => Failure::from_io(&later, "TLS"),
                _ => Failure::from_io(&e, "sending the RegisterMessage"),
            })
        }
        Ok(Ok(())) => {}
    }
    // A few frames at most come before the answer; anything else is skipped.
    for _ in 0..16 {
        let frame = match timeout(wait, sccp::read_frame(stream, sccp::DEFAULT_MAX_LENGTH)).await {
            Err(_) => return Err(Failure::Other(format!("no answer from CallManager within {} s", wait.as_secs()))),
            Ok(Ok(Some(f))) => f,
            Ok(Ok(None)) => return Err(Failure::Other("CallManager closed the connection without answering".into())),
            Ok(Err(sccp::FrameError::Io(e))) => return Err(Failure::from_io(&e, "reading the answer")),
            Ok(Err(e)) => return Err(Failure::Other(format!("CallManager's answer: {e}"))),
        };
        match frame.id {
            sccp::id::REGISTER_ACK => {
                let ack = sccp::RegisterAck::decode(&frame.data)
                    .map_err(|e| Failure::Other(format!("CallManager's RegisterAckMessage: {e}")))?;
                return Ok(Answer::SccpAck { keepalive: ack.keepalive_interval });
            }
            sccp::id::REGISTER_REJECT => {
                let text = sccp::RegisterReject::decode(&frame.data).map(|r| r.text).unwrap_or_default();
                return Ok(Answer::SccpReject { text });
            }
            _ => continue,
        }
    }
    Err(Failure::Other("CallManager sent no RegisterAckMessage or RegisterRejectMessage".into()))
}
