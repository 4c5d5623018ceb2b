//! SIP: the REGISTER a phone sends (To and From user the device name, Cisco's
//! `+u.sip!devicename.ccm.cisco.com` Contact parameter), and the final answer it waits for.

use std::net::SocketAddr;
use std::time::Duration;

use opencapf_callmanager::sip;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::timeout;

use super::options::uri_host;
use super::{alert_in, mac_of, Answer, Failure};
use crate::Result;

pub(super) fn random_hex(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    if aws_lc_rs::rand::fill(&mut buf).is_err() {
        // Never expected; uniqueness of a SIP tag is all that is at stake.
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        buf = nanos.as_nanos().to_le_bytes()[..bytes.min(16)].to_vec();
    }
    hex(&buf)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The REGISTER a phone sends: To and From user the device name, Contact with the device name.
pub(super) fn register_request(
    device: &str,
    host: &str,
    local: SocketAddr,
    tls: bool,
    expires: u32,
    model: &str,
) -> sip::Message {
    let transport = if tls { "TLS" } else { "TCP" };
    let domain = uri_host(host);
    let local_host = uri_host(&local.ip().to_string());
    let port = local.port();
    let tag = random_hex(8);
    let mac = hex(&mac_of(device));
    let mut m = sip::Message::request("REGISTER", &format!("sip:{domain}"));
    m.push("Via", format!("SIP/2.0/{transport} {local_host}:{port};branch=z9hG4bK{}", random_hex(8)));
    m.push("From", format!("<sip:{device}@{domain}>;tag={tag}"));
    m.push("To", format!("<sip:{device}@{domain}>"));
    m.push("Call-ID", format!("{}@{local_host}", random_hex(12)));
    m.push("Max-Forwards", "70");
    m.push("CSeq", "101 REGISTER");
    m.push("User-Agent", format!("Cisco-{}/OpenCAPF-{}", model.replace('-', ""), env!("CARGO_PKG_VERSION")));
    m.push(
        "Contact",
        format!(
            "<sip:{device}@{local_host}:{port};transport={}>;+sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{mac}>\";\
             +u.sip!devicename.ccm.cisco.com=\"{device}\"",
            transport.to_ascii_lowercase()
        ),
    );
    m.push("Expires", expires.to_string());
    m
}

/// The same REGISTER for one of the device's lines (phone-boot.md §3.2): the DN in From and To,
/// its own Call-ID and tag; the Contact still names the device.
pub(super) fn for_line(register: &sip::Message, line: &str) -> sip::Message {
    let mut m = register.clone();
    for h in &mut m.headers {
        let with_user = |v: &str| match (v.find("<sip:"), v.find('@')) {
            (Some(start), Some(at)) if at > start => format!("{}<sip:{line}{}", &v[..start], &v[at..]),
            _ => v.to_owned(),
        };
        match h.name.as_str() {
            "From" => {
                let base = with_user(&h.value);
                let base = base.split(";tag=").next().unwrap_or("").to_owned();
                h.value = format!("{base};tag={}", random_hex(8));
            }
            "To" => h.value = with_user(&h.value),
            "Call-ID" => {
                let host = h.value.split_once('@').map(|(_, host)| host.to_owned()).unwrap_or_default();
                h.value = format!("{}@{host}", random_hex(12));
            }
            "Via" => {
                let base = h.value.split(";branch=").next().unwrap_or("").to_owned();
                h.value = format!("{base};branch=z9hG4bK{}", random_hex(8));
            }
            _ => {}
        }
    }
    m
}

pub(super) async fn sip_exchange<S>(stream: &mut S, request: &sip::Message, wait: Duration) -> Result<Answer, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let written = timeout(wait, async {
        stream.write_all(&request.to_bytes()).await?;
        stream.flush().await
    })
    .await;
    let mut reader = sip::Reader::new(sip::Limits::default());
    match written {
        Err(_) => return Err(Failure::Other("timed out sending the REGISTER".into())),
        // A refused TLS 1.3 phone may learn it only now: CallManager's alert is waiting to be read.
        Ok(Err(e)) => {
            return Err(match reader.next(stream, Duration::from_secs(1), Duration::from_secs(1)).await {
                Err(sip::ReadError::Io(later)) if alert_in(&later) => Failure::from_io(&later, "TLS"),
                _ => Failure::from_io(&e, "sending the REGISTER"),
            })
        }
        Ok(Ok(())) => {}
    }
    final_answer(&mut reader, stream, wait).await
}

/// The final answer to the request just sent, skipping provisional answers, keepalives and
/// CallManager's own requests; `reader` keeps what arrived beyond it.
pub(super) async fn final_answer<S>(reader: &mut sip::Reader, stream: &mut S, wait: Duration) -> Result<Answer, Failure>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        match reader.next(stream, wait, wait).await {
            Ok(sip::Event::Message(m)) => {
                let Some(code) = m.code() else { continue };
                if code < 200 {
                    continue; // provisional
                }
                let expires = m
                    .header("Expires")
                    .and_then(|v| v.trim().parse().ok())
                    .or_else(|| m.header("Contact").and_then(|c| sip::param(c, "expires").flatten()?.parse().ok()));
                return Ok(Answer::SipFinal { code, reason: m.reason().unwrap_or("").to_string(), expires });
            }
            Ok(sip::Event::Ping) => continue,
            Ok(sip::Event::Closed) => {
                return Err(Failure::Other("CallManager closed the connection without answering".into()))
            }
            Err(sip::ReadError::Io(e)) => return Err(Failure::from_io(&e, "reading the answer")),
            Err(sip::ReadError::Idle) | Err(sip::ReadError::Slow) => {
                return Err(Failure::Other(format!("no answer from CallManager within {} s", wait.as_secs())))
            }
            Err(e) => return Err(Failure::Other(format!("CallManager's answer: {e}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use opencapf_callmanager::sccp;

    use super::super::sccp_exchange::register_message;
    use super::*;

    #[test]
    fn the_register_names_the_device_everywhere_the_server_looks() {
        let local: SocketAddr = "192.0.2.7:51234".parse().unwrap();
        let m = register_request("SEP2C3124C9F8E1", "cucm.lab", local, true, 600, "CP-8861");
        let text = String::from_utf8(m.to_bytes()).unwrap();
        assert!(text.starts_with("REGISTER sip:cucm.lab SIP/2.0\r\n"), "{text}");
        assert_eq!(sip::user_of(m.header("To").unwrap()).as_deref(), Some("SEP2C3124C9F8E1"));
        assert_eq!(sip::user_of(m.header("From").unwrap()).as_deref(), Some("SEP2C3124C9F8E1"));
        let contact = m.header("Contact").unwrap();
        assert_eq!(sip::param(contact, "+u.sip!devicename.ccm.cisco.com"), Some(Some("SEP2C3124C9F8E1".into())));
        assert!(contact.contains("transport=tls"));
        assert!(m.header("Via").unwrap().starts_with("SIP/2.0/TLS 192.0.2.7:51234;branch=z9hG4bK"));
        assert_eq!(m.header("Expires"), Some("600"));
        let line = for_line(&m, "2222");
        assert_eq!(sip::user_of(line.header("To").unwrap()).as_deref(), Some("2222"));
        assert_eq!(sip::user_of(line.header("From").unwrap()).as_deref(), Some("2222"));
        assert_ne!(line.header("Call-ID"), m.header("Call-ID"), "each line registers with its own Call-ID");
        assert_eq!(line.header("Contact"), m.header("Contact"), "the Contact names the device");
        let frame = register_message("SEP2C3124C9F8E1", local);
        let back = sccp::RegisterMessage::decode(&frame.data).unwrap();
        assert_eq!(back.device_name, "SEP2C3124C9F8E1");
        assert_eq!(back.ip, Ipv4Addr::new(192, 0, 2, 7));
    }
}
