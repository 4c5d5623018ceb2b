//! A SIP registration kept open (`phone register --stay`), as a phone keeps it: the REGISTER is
//! refreshed 5 seconds before it expires (`timerRegisterDelta`, phone-boot.md §3.5) on the same
//! connection, OPTIONS and NOTIFYs from CallManager are answered, and CallManager's NOTIFY
//! `service-control` (§3.7) is logged, answered 200 and acted on when its `RegisterCallId` is the
//! current REGISTER's: `reset` and `restart` register again on a new connection (a new Call-ID,
//! as after a reboot); `apply-config` refreshes the registration on the same one. A connection
//! CallManager closes is registered again after a pause.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use opencapf_callmanager::sip;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::time::{sleep, timeout, Instant};

use super::sip_exchange::random_hex;
use super::{Answer, Failure, Hello, RegisterOptions};
use crate::{Phone, Result};

/// The register delta: a registration is refreshed this long before it expires.
const REGISTER_DELTA: u64 = 5;
/// After a failed registration, the phone tries again after this.
const RETRY: Duration = Duration::from_secs(5);

/// A connection a phone reads and writes SIP on (TCP or TLS).
pub(super) trait Stream: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Stream for T {}

/// A registered SIP connection, kept open ([`Phone::register_keeping`]).
pub struct Kept {
    stream: Box<dyn Stream>,
    reader: sip::Reader,
    /// The REGISTER, sent again (next CSeq) to refresh.
    register: sip::Message,
    /// The other lines' REGISTERs on the same connection, refreshed with the first.
    lines: Vec<sip::Message>,
    cseq: u32,
    expires: u32,
}

/// Only a granted SIP registration is worth a kept connection.
pub(super) fn worth_keeping(a: &Result<Answer, Failure>) -> bool {
    matches!(a, Ok(Answer::SipFinal { code: 200..=299, expires, .. }) if *expires != Some(0))
}

impl Kept {
    pub(super) fn new(
        stream: Box<dyn Stream>,
        hello: &Hello,
        answer: &Result<Answer, Failure>,
        lines: Vec<sip::Message>,
    ) -> Option<Kept> {
        let (Hello::Sip(register), Ok(Answer::SipFinal { expires, .. })) = (hello, answer) else { return None };
        let cseq = register.header("CSeq").and_then(|c| c.split_whitespace().next()?.parse().ok()).unwrap_or(101);
        Some(Kept {
            stream,
            reader: sip::Reader::new(sip::Limits::default()),
            register: register.clone(),
            lines,
            cseq,
            expires: expires.unwrap_or(3600),
        })
    }

    fn call_id(&self) -> &str {
        self.register.header("Call-ID").unwrap_or("")
    }

    /// A service-control names one of the registrations on this connection (CallManager names
    /// the last REGISTER it answered).
    fn is_mine(&self, call_id: &str) -> bool {
        std::iter::once(&self.register).chain(&self.lines).any(|m| m.header("Call-ID").is_some_and(|c| c == call_id))
    }

    /// Refreshes every registration on the connection (Apply Config).
    pub(crate) async fn refresh(&mut self) -> bool {
        self.send_register(self.expires).await
    }

    /// The REGISTERs again: next CSeq, new branch, `Expires` as given.
    async fn send_register(&mut self, expires: u32) -> bool {
        let all: Vec<sip::Message> = std::iter::once(self.register.clone()).chain(self.lines.clone()).collect();
        for m in all {
            if !self.send_one(m, expires).await {
                return false;
            }
        }
        true
    }

    async fn send_one(&mut self, m: sip::Message, expires: u32) -> bool {
        self.cseq += 1;
        send(&mut self.stream, &refreshed(m, self.cseq, expires)).await
    }
}

/// A REGISTER sent again to refresh it: CSeq `cseq`, a new branch, `Expires` as given.
pub(super) fn refreshed(mut m: sip::Message, cseq: u32, expires: u32) -> sip::Message {
    for h in &mut m.headers {
        match h.name.as_str() {
            "CSeq" => h.value = format!("{cseq} REGISTER"),
            "Expires" => h.value = expires.to_string(),
            "Via" => {
                let base = h.value.split(";branch=").next().unwrap_or("").to_owned();
                h.value = format!("{base};branch=z9hG4bK{}", random_hex(8));
            }
            _ => {}
        }
    }
    m
}

async fn send(stream: &mut Box<dyn Stream>, m: &sip::Message) -> bool {
    let bytes = m.to_bytes();
    matches!(
        timeout(Duration::from_secs(10), async { stream.write_all(&bytes).await.and(stream.flush().await) }).await,
        Ok(Ok(()))
    )
}

/// What ends serving a kept connection.
enum Next {
    /// The registration must be made again on a new connection (after a pause when `pause`).
    Reregister { pause: bool },
    /// service-control `reset` or `restart` (only returned to the boot loop).
    Restart(String),
    /// service-control `apply-config` (only returned to the boot loop).
    ApplyConfig,
}

/// Why [`Phone::keep_booted`] returned.
pub(crate) enum Interrupt {
    /// Ctrl-C or SIGTERM: unregistered and closed.
    Stopped,
    /// CallManager asked for a reset or restart: the connection is closed, the phone boots again.
    Restart(String),
    /// CallManager asked to apply the configuration: the connection is still open.
    ApplyConfig(Kept),
}

impl Phone {
    /// Keeps a registration (see the module doc) until `stop` completes, then unregisters
    /// (`Expires: 0`) and closes the connection.
    pub async fn stay(&self, opts: &RegisterOptions, kept: Kept, stop: impl Future<Output = ()>) -> Result<()> {
        tokio::pin!(stop);
        self.run_stay(opts, kept, &mut stop, false).await.map(|_| ())
    }

    /// [`Phone::stay`] for the boot loop: returns on Reset/Restart and Apply Config too.
    pub(crate) async fn keep_booted<F: Future<Output = ()>>(
        &self,
        opts: &RegisterOptions,
        kept: Kept,
        stop: &mut Pin<&mut F>,
    ) -> Result<Interrupt> {
        self.run_stay(opts, kept, stop, true).await
    }

    async fn run_stay<F: Future<Output = ()>>(
        &self,
        opts: &RegisterOptions,
        kept: Kept,
        stop: &mut Pin<&mut F>,
        boot: bool,
    ) -> Result<Interrupt> {
        let log = self.console();
        let mut kept = Some(kept);
        loop {
            let next = match kept.as_mut() {
                None => Next::Reregister { pause: false },
                Some(k) => tokio::select! {
                    () = stop.as_mut() => {
                        log.info("SIP: -Unregistering (Expires: 0) and closing the connection");
                        if k.send_register(0).await {
                            let _ = k.reader.next(&mut k.stream, Duration::from_secs(2), Duration::from_secs(2)).await;
                        }
                        let _ = timeout(Duration::from_secs(1), k.stream.shutdown()).await;
                        return Ok(Interrupt::Stopped);
                    }
                    next = self.serve_kept(k, boot) => next,
                },
            };
            let pause = match next {
                Next::Reregister { pause } => pause,
                Next::ApplyConfig => match kept.take() {
                    Some(k) => return Ok(Interrupt::ApplyConfig(k)),
                    None => false,
                },
                Next::Restart(action) => {
                    if let Some(mut k) = kept.take() {
                        let _ = timeout(Duration::from_secs(1), k.stream.shutdown()).await;
                    }
                    return Ok(Interrupt::Restart(action));
                }
            };
            if let Some(mut k) = kept.take() {
                let _ = timeout(Duration::from_secs(1), k.stream.shutdown()).await;
            }
            if pause {
                tokio::select! {
                    () = stop.as_mut() => return Ok(Interrupt::Stopped),
                    () = sleep(RETRY) => {}
                }
            }
            // Down the CallManager group from its first member: fail-over while the active one is
            // gone, fall-back once it answers again (phone-boot.md §3.5).
            let (reports, again) = tokio::select! {
                () = stop.as_mut() => return Ok(Interrupt::Stopped),
                r = self.register_in_group(opts, true) => r?,
            };
            if again.is_none() {
                log.warn(&format!(
                    "SIP: -Registration not kept ({}); trying again in {} s",
                    reports.last().map_or("no CallManager", |r| r.summary.as_str()),
                    RETRY.as_secs()
                ));
                tokio::select! {
                    () = stop.as_mut() => return Ok(Interrupt::Stopped),
                    () = sleep(RETRY) => {}
                }
            }
            kept = again;
        }
    }

    /// Reads and answers until the registration must be made again; refreshes it meanwhile.
    async fn serve_kept(&self, k: &mut Kept, boot: bool) -> Next {
        let log = self.console();
        let mut refresh_at =
            Instant::now() + Duration::from_secs(u64::from(k.expires).saturating_sub(REGISTER_DELTA).max(1));
        loop {
            let idle = refresh_at.saturating_duration_since(Instant::now());
            let m = match k.reader.next(&mut k.stream, idle, Duration::from_secs(10)).await {
                Ok(sip::Event::Message(m)) => m,
                Ok(sip::Event::Ping) => continue,
                Err(sip::ReadError::Idle) => {
                    if !k.send_register(k.expires).await {
                        log.warn("SIP: -Could not send the refresh REGISTER");
                        return Next::Reregister { pause: true };
                    }
                    refresh_at = Instant::now()
                        + Duration::from_secs(u64::from(k.expires).saturating_sub(REGISTER_DELTA).max(1));
                    continue;
                }
                Ok(sip::Event::Closed) | Err(_) => {
                    log.warn("SIP: -CallManager closed the registration connection");
                    return Next::Reregister { pause: true };
                }
            };
            match m.method().map(str::to_ascii_uppercase).as_deref() {
                None => match m.code() {
                    Some(code) if code >= 300 => {
                        log.warn(&format!("SIP: -Refresh refused: {code} {}", m.reason().unwrap_or("")));
                        return Next::Reregister { pause: true };
                    }
                    Some(200..=299) => {
                        if let Some(e) = m.header("Expires").and_then(|e| e.trim().parse().ok()).filter(|e| *e > 0) {
                            k.expires = e;
                        }
                    }
                    _ => {}
                },
                Some("NOTIFY") if is_service_control(&m) => {
                    let body = String::from_utf8_lossy(&m.body).into_owned();
                    let action = body_value(&body, "action").unwrap_or_default();
                    let call_id = body_value(&body, "RegisterCallId").unwrap_or_default();
                    log.info(&format!(
                        "SIP: -Received NOTIFY Event: service-control action={action} RegisterCallId={{{call_id}}}"
                    ));
                    let _ = send(&mut k.stream, &answer(&m, 200, "OK")).await;
                    log.info("SIP: -Sent 200 OK to the service-control NOTIFY");
                    if !k.is_mine(&call_id) {
                        log.warn(&format!(
                            "SIP: -service-control ignored: RegisterCallId is not the current REGISTER's ({})",
                            k.call_id()
                        ));
                        continue;
                    }
                    match action.as_str() {
                        "reset" | "restart" if boot => {
                            log.info(&format!("SIP: -service-control {action}: booting again"));
                            return Next::Restart(action);
                        }
                        "reset" | "restart" => {
                            log.info(&format!("SIP: -service-control {action}: registering again"));
                            return Next::Reregister { pause: false };
                        }
                        "apply-config" if boot => {
                            log.info("SIP: -service-control apply-config: fetching the configuration again");
                            return Next::ApplyConfig;
                        }
                        "apply-config" => {
                            log.info("SIP: -service-control apply-config: configuration applied, refreshing the registration");
                            if !k.send_register(k.expires).await {
                                return Next::Reregister { pause: true };
                            }
                        }
                        other => {
                            log.info(&format!("SIP: -service-control {other}: nothing to do"));
                        }
                    }
                }
                Some("NOTIFY") | Some("OPTIONS") => {
                    let _ = send(&mut k.stream, &answer(&m, 200, "OK")).await;
                }
                Some("ACK") => {}
                Some(_) => {
                    let _ = send(&mut k.stream, &answer(&m, 501, "Not Implemented")).await;
                }
            }
        }
    }
}

fn is_service_control(m: &sip::Message) -> bool {
    m.header("Event").is_some_and(|e| e.split(';').next().unwrap_or("").trim().eq_ignore_ascii_case("service-control"))
}

/// `value` of a `key=value` line of a service-control body; braces removed.
fn body_value(body: &str, key: &str) -> Option<String> {
    body.lines().find_map(|l| {
        let (k, v) = l.split_once('=')?;
        k.trim().eq_ignore_ascii_case(key).then(|| v.trim().trim_start_matches('{').trim_end_matches('}').to_owned())
    })
}

fn answer(req: &sip::Message, code: u16, reason: &str) -> sip::Message {
    let mut r = sip::response_to(req, code, reason, &random_hex(4));
    r.push("Allow", "ACK,BYE,CANCEL,INVITE,NOTIFY,OPTIONS,REFER,REGISTER,UPDATE,SUBSCRIBE");
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_control_bodies() {
        let body = "action=restart\r\nRegisterCallId={c8008 4aa@192.0.2.7}\r\nConfigVersionStamp={0}\r\n";
        assert_eq!(body_value(body, "action").as_deref(), Some("restart"));
        assert_eq!(body_value(body, "registercallid").as_deref(), Some("c8008 4aa@192.0.2.7"));
        assert_eq!(body_value(body, "CUCMResult"), None);
        let mut m = sip::Message::request("NOTIFY", "sip:2222@192.0.2.7");
        m.push("Event", "service-control");
        assert!(is_service_control(&m));
    }
}
