//! The SIP registrations open now, each on its connection, so that CallManager can send a phone
//! a request on the connection it registered on, as CUCM does (phone-boot.md §3.1): here, the
//! NOTIFY `service-control` of Reset, Restart and Apply Config (§3.7).
//!
//! A SIP session holds an [`Inbox`]: it tells the [`Registry`] who registered on the connection
//! ([`Inbox::after_register`]), and reads the phone's messages through [`Inbox::next`], which
//! meanwhile writes the NOTIFYs ordered through [`Registry::service_control`] and takes the
//! phone's answers to them. Dropping the inbox (the connection closed) ends its registration here.
//! One device has one open registration: a new connection registering it replaces the old one.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use opencapf_model::{DeviceName, Transport};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;

use super::write;
use crate::sip::{self, Event, Message, ReadError, Reader};

/// How long [`Registry::service_control`] waits for the phones' answers.
const ANSWER_WAIT: Duration = Duration::from_secs(5);

/// "Everything is stale": the version stamps CallManager sends with a service-control NOTIFY.
/// OpenCAPF keeps no configuration versions, so it always asks for a full re-read.
const STALE: &str = "{00000000-0000-0000-0000-000000000000}";

/// What CUCM's Reset, Restart and Apply Config buttons ask of a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServiceControl {
    /// A full reboot.
    Reset,
    /// A quick restart: the phone fetches its configuration again and registers again.
    Restart,
    /// The phone applies configuration changes, restarting only when it must.
    ApplyConfig,
}

impl ServiceControl {
    /// The `action=` of the NOTIFY body.
    pub fn action(self) -> &'static str {
        match self {
            ServiceControl::Reset => "reset",
            ServiceControl::Restart => "restart",
            ServiceControl::ApplyConfig => "apply-config",
        }
    }
}

/// A phone a NOTIFY was written to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reached {
    pub device: DeviceName,
    /// Where its registration connection comes from.
    pub peer: SocketAddr,
    /// The phone's answer (200 when it acts on it); `None`: none within five seconds.
    pub answer: Option<u16>,
}

/// The open SIP registrations of this CallManager; cheap to clone.
#[derive(Clone, Default)]
pub struct Registry {
    inner: Arc<Mutex<Inner>>,
}

#[derive(Default)]
struct Inner {
    next_conn: u64,
    open: HashMap<DeviceName, Open>,
}

struct Open {
    conn: u64,
    peer: SocketAddr,
    orders: mpsc::Sender<Order>,
}

/// A NOTIFY to send, and where the phone's answer goes.
struct Order {
    action: ServiceControl,
    answer: oneshot::Sender<u16>,
}

impl Registry {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        // No code panics while holding the lock; a poisoned map is still consistent.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The devices registered over SIP now, by name.
    pub fn registered(&self) -> Vec<DeviceName> {
        let mut names: Vec<DeviceName> = self.lock().open.keys().cloned().collect();
        names.sort();
        names
    }

    /// Sends the NOTIFY `service-control` to these devices (`None`: every registered one) on
    /// their registration connections, and waits (at most five seconds) for their answers.
    /// Returns the devices reached, and the ones asked for that have no open registration.
    pub async fn service_control(
        &self,
        devices: Option<&[DeviceName]>,
        action: ServiceControl,
    ) -> (Vec<Reached>, Vec<DeviceName>) {
        let targets: Vec<DeviceName> = match devices {
            Some(d) => d.to_vec(),
            None => self.registered(),
        };
        let mut waiting = Vec::new();
        let mut missing = Vec::new();
        for device in targets {
            let open = self.lock().open.get(&device).map(|o| (o.peer, o.orders.clone()));
            let Some((peer, orders)) = open else {
                missing.push(device);
                continue;
            };
            let (answer, answered) = oneshot::channel();
            if orders.send(Order { action, answer }).await.is_err() {
                missing.push(device); // the connection closed meanwhile
                continue;
            }
            waiting.push((device, peer, answered));
        }
        let deadline = Instant::now() + ANSWER_WAIT;
        let mut reached = Vec::new();
        for (device, peer, answered) in waiting {
            let answer = tokio::time::timeout_at(deadline, answered).await.ok().and_then(Result::ok);
            reached.push(Reached { device, peer, answer });
        }
        (reached, missing)
    }

    /// The inbox of a new SIP connection.
    pub(super) fn inbox(&self, peer: SocketAddr, transport: Transport) -> Inbox {
        let conn = {
            let mut inner = self.lock();
            inner.next_conn += 1;
            inner.next_conn
        };
        let (tx, rx) = mpsc::channel(4);
        Inbox { registry: self.clone(), conn, peer, transport, tx, rx, current: None, pending: None, cseq: 100 }
    }
}

/// The registration on one connection, as the NOTIFY needs it.
struct Current {
    /// The Call-ID of the phone's REGISTER: the phone acts only on a NOTIFY that names it.
    register_call_id: String,
    /// Where the phone takes requests: its Contact URI.
    contact: String,
    /// The line the phone registered (From/To user).
    line: String,
}

/// One SIP connection's side of the [`Registry`].
pub(super) struct Inbox {
    registry: Registry,
    conn: u64,
    peer: SocketAddr,
    transport: Transport,
    tx: mpsc::Sender<Order>,
    rx: mpsc::Receiver<Order>,
    current: Option<Current>,
    /// The Call-ID of the NOTIFY written last, and who waits for its answer.
    pending: Option<(String, oneshot::Sender<u16>)>,
    cseq: u32,
}

impl Inbox {
    /// After each REGISTER is answered: `device` is the one registered on the connection now.
    pub(super) fn after_register(&mut self, request: &Message, response: &Message, device: Option<&DeviceName>) {
        let Some(device) = device else {
            self.current = None;
            self.registry.lock().open.retain(|_, o| o.conn != self.conn);
            return;
        };
        if response.code() != Some(200) {
            return;
        }
        self.current = Some(Current {
            register_call_id: request.header("Call-ID").unwrap_or("").trim().to_owned(),
            contact: request.header("Contact").map(|c| sip::uri_of(c).to_owned()).unwrap_or_default(),
            line: request.header("To").and_then(sip::user_of).unwrap_or_default(),
        });
        let open = Open { conn: self.conn, peer: self.peer, orders: self.tx.clone() };
        let mut inner = self.registry.lock();
        inner.open.retain(|d, o| o.conn != self.conn || d == device);
        inner.open.insert(device.clone(), open);
    }

    /// The phone's next message (as [`Reader::next`]); meanwhile, writes the NOTIFYs ordered for
    /// this connection and takes the phone's answers to them (which are not returned).
    pub(super) async fn next<S>(
        &mut self,
        reader: &mut Reader,
        stream: &mut S,
        idle: Duration,
        whole: Duration,
        host: &str,
    ) -> Result<Event, ReadError>
    where
        S: AsyncRead + AsyncWrite + Unpin + Send,
    {
        loop {
            // `Reader::next` keeps what it read in its buffer, so dropping it for an order loses
            // nothing; its idle time starts again, which only a NOTIFY causes.
            let order = tokio::select! {
                event = reader.next(stream, idle, whole) => Err(event),
                Some(order) = self.rx.recv() => Ok(order),
            };
            let order = match order {
                Ok(order) => order,
                Err(Ok(Event::Message(m))) if self.is_answer(&m) => {
                    if let (Some(code), Some((_, answer))) = (m.code().filter(|c| *c >= 200), self.pending.take()) {
                        let _ = answer.send(code);
                    }
                    continue;
                }
                Err(other) => return other,
            };
            let Some(notify) = self.notify(order.action, host) else {
                continue; // nothing registered here any more: the order's answer is dropped
            };
            let call_id = notify.header("Call-ID").unwrap_or("").to_owned();
            self.pending = Some((call_id, order.answer));
            if !write(stream, &notify.to_bytes()).await {
                return Err(ReadError::Io(std::io::Error::other("writing a NOTIFY failed")));
            }
        }
    }

    /// A response to the NOTIFY written last.
    fn is_answer(&self, m: &Message) -> bool {
        m.method().is_none()
            && self.pending.as_ref().is_some_and(|(id, _)| m.header("Call-ID").is_some_and(|c| c.trim() == id))
    }

    /// The NOTIFY `service-control` as CUCM sends it (phone-boot.md §3.7).
    fn notify(&mut self, action: ServiceControl, host: &str) -> Option<Message> {
        let cur = self.current.as_ref()?;
        self.cseq += 1;
        let transport = if self.transport == Transport::Tls { "TLS" } else { "TCP" };
        let mut m = Message::request("NOTIFY", &cur.contact);
        m.push("Via", format!("SIP/2.0/{transport} {host};branch=z9hG4bK{}", random_hex()));
        m.push("From", format!("<sip:{host}>;tag={}", u32::from_str_radix(&random_hex()[..7], 16).unwrap_or(1)));
        m.push("To", format!("<sip:{}@{}>", cur.line, host_of(self.peer)));
        m.push("Call-ID", format!("{}@{host}", random_hex()));
        m.push("CSeq", format!("{} NOTIFY", self.cseq));
        m.push("Max-Forwards", "70");
        m.push("Date", http_date());
        m.push("User-Agent", "OpenCAPF CallManager");
        m.push("Event", "service-control");
        m.push("Subscription-State", "active");
        m.push("Contact", format!("<sip:{host};transport={}>", transport.to_ascii_lowercase()));
        m.push("Content-Type", "text/plain");
        let mut body = format!("action={}\r\nRegisterCallId={{{}}}\r\n", action.action(), cur.register_call_id);
        for stamp in ["ConfigVersionStamp", "DialplanVersionStamp", "SoftkeyVersionStamp"] {
            body.push_str(&format!("{stamp}={STALE}\r\n"));
        }
        if action == ServiceControl::ApplyConfig {
            // [U] CUCM compares versions to choose no_change / config_applied / reregister_needed;
            // OpenCAPF keeps none, so it says the configuration was applied.
            body.push_str(&format!("FeatureControlVersionStamp={STALE}\r\nCUCMResult={{config_applied}}\r\n"));
        }
        m.body = body.into_bytes();
        Some(m)
    }
}

impl Drop for Inbox {
    fn drop(&mut self) {
        self.registry.lock().open.retain(|_, o| o.conn != self.conn);
    }
}

fn host_of(peer: SocketAddr) -> String {
    match peer {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    }
}

/// 16 hex digits, unique enough for a branch, a tag or a Call-ID.
fn random_hex() -> String {
    let mut h = RandomState::new().build_hasher();
    h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_nanos());
    format!("{:016x}", h.finish())
}

/// `Sat, 09 Mar 2019 18:32:46 GMT` (RFC 1123), as CUCM writes `Date`.
fn http_date() -> String {
    let f = time::macros::format_description!(
        "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
    );
    time::OffsetDateTime::now_utc().format(f).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_notify_names_the_registration_it_resets() {
        let registry = Registry::default();
        let peer: SocketAddr = "192.0.2.7:51234".parse().unwrap();
        let mut inbox = registry.inbox(peer, Transport::Tcp);
        let device: DeviceName = "SEPC80084AA8743".parse().unwrap();
        let mut register = Message::request("REGISTER", "sip:cucm.lab");
        register.push("To", "<sip:2222@cucm.lab>");
        register.push("Call-ID", "c80084aa-87430002-1@192.0.2.7");
        register.push("Contact", "<sip:abc@192.0.2.7:51234;transport=tcp>;+u.sip!devicename.ccm.cisco.com=\"x\"");
        inbox.after_register(&register, &Message::response(200, "OK"), Some(&device));
        assert_eq!(registry.registered(), std::slice::from_ref(&device));

        let m = inbox.notify(ServiceControl::ApplyConfig, "cucm.lab").unwrap();
        let text = String::from_utf8(m.to_bytes()).unwrap();
        assert!(text.starts_with("NOTIFY sip:abc@192.0.2.7:51234;transport=tcp SIP/2.0\r\n"), "{text}");
        assert_eq!(m.header("To"), Some("<sip:2222@192.0.2.7>"));
        assert_eq!(m.header("Event"), Some("service-control"));
        assert_eq!(m.header("CSeq"), Some("101 NOTIFY"));
        assert!(m.header("Date").unwrap().ends_with(" GMT"));
        let body = String::from_utf8(m.body).unwrap();
        assert!(
            body.starts_with("action=apply-config\r\nRegisterCallId={c80084aa-87430002-1@192.0.2.7}\r\n"),
            "{body}"
        );
        assert!(body.contains("CUCMResult={config_applied}\r\n"), "{body}");

        // Unregistered, then the connection gone: nothing left.
        inbox.after_register(&register, &Message::response(200, "OK"), None);
        assert!(registry.registered().is_empty());
        inbox.after_register(&register, &Message::response(200, "OK"), Some(&device));
        drop(inbox);
        assert!(registry.registered().is_empty());
    }
}
