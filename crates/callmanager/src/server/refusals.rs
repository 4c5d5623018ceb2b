//! Refusals, aggregated: anyone can send REGISTERs or handshakes, so a refusal is not one write
//! of its own. Refusals from one address for one reason add up (count, first and last time) and
//! are written together at most once a second, with no audit record. Per address and second,
//! [`KEYS_PER_SOURCE`] distinct reasons get rows of their own; more share one row.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use opencapf_cluster::Cluster;
use opencapf_model::{now, NewRegistration, Protocol, RefusalCount, Transport};
use time::OffsetDateTime;
use tokio::time::Instant;
use tracing::{error, warn};

/// The shortest time between two writes.
const FLUSH_EVERY: Duration = Duration::from_secs(1);
/// Distinct reasons (or devices) per address between two writes that get rows of their own.
const KEYS_PER_SOURCE: usize = 16;
/// Rows waiting for the next write, at most; refusals beyond it are only counted in the log.
const MAX_PENDING: usize = 4096;

/// What makes two refusals one row: the address, and what the phone showed and was told.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Key {
    source: IpAddr,
    protocol: Protocol,
    transport: Transport,
    /// `None`: the shared row of an address past [`KEYS_PER_SOURCE`].
    what: Option<What>,
}

/// The device named, the reason, and the certificate's subject and serial.
type What = (Option<String>, String, Option<String>, Option<String>);

/// The refusals waiting for the next write.
#[derive(Default)]
struct State {
    pending: HashMap<Key, RefusalCount>,
    keys_per_source: HashMap<IpAddr, usize>,
    dropped: u64,
}

impl State {
    fn add(&mut self, event: NewRegistration, source: IpAddr, at: OffsetDateTime) {
        let what = (event.device.clone(), event.reason.clone(), event.cert_subject.clone(), event.serial.clone());
        let mut key = Key { source, protocol: event.protocol, transport: event.transport, what: Some(what) };
        if !self.pending.contains_key(&key)
            && self.keys_per_source.get(&source).copied().unwrap_or(0) >= KEYS_PER_SOURCE
        {
            key.what = None;
        }
        if let Some(row) = self.pending.get_mut(&key) {
            row.count = row.count.saturating_add(1);
            row.last = at;
            if key.what.is_none() {
                row.event.reason = overflow_reason(&event.reason);
                row.event.peer = event.peer;
            }
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            self.dropped += 1;
            return;
        }
        let event = match key.what {
            Some(_) => {
                *self.keys_per_source.entry(source).or_default() += 1;
                event
            }
            None => {
                let reason = overflow_reason(&event.reason);
                let bare = NewRegistration::bare(event.peer, event.protocol, event.transport, event.result, reason);
                NewRegistration { lines: event.lines, ..bare }
            }
        };
        self.pending.insert(key, RefusalCount { event, count: 1, first: at, last: at });
    }

    /// The rows to write, oldest first, and how many refusals did not fit.
    fn take(&mut self) -> (Vec<RefusalCount>, u64) {
        self.keys_per_source.clear();
        let mut rows: Vec<RefusalCount> = self.pending.drain().map(|(_, r)| r).collect();
        rows.sort_by_key(|r| r.last);
        (rows, std::mem::take(&mut self.dropped))
    }
}

fn overflow_reason(last: &str) -> String {
    format!("refusals from this address for more devices or reasons than are recorded one by one; the last: {last}")
}

/// The aggregated refusals of one CallManager, written to its cluster.
#[derive(Clone)]
pub struct RefusalLog {
    inner: Arc<Inner>,
}

struct Inner {
    store: Cluster,
    state: Mutex<Schedule>,
}

#[derive(Default)]
struct Schedule {
    refusals: State,
    last_write: Option<Instant>,
    write_planned: bool,
}

impl RefusalLog {
    pub(super) fn new(store: Cluster) -> RefusalLog {
        RefusalLog { inner: Arc::new(Inner { store, state: Mutex::new(Schedule::default()) }) }
    }

    /// Counts one refusal; written at once when the last write is a second old, else with the
    /// next one (planned here when none is).
    pub(super) async fn add(&self, event: NewRegistration, source: IpAddr) {
        let wait = {
            let mut s = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
            s.refusals.add(event, source, now());
            match s.last_write {
                Some(last) if last.elapsed() < FLUSH_EVERY => {
                    if s.write_planned {
                        return;
                    }
                    s.write_planned = true;
                    Some(FLUSH_EVERY - last.elapsed())
                }
                _ => None,
            }
        };
        match wait {
            None => self.flush().await,
            Some(wait) => {
                let log = self.clone();
                tokio::spawn(async move {
                    tokio::time::sleep(wait).await;
                    log.flush().await;
                });
            }
        }
    }

    /// Writes what is waiting: before a registration is recorded (so that records stay in
    /// order), and when CallManager stops.
    pub async fn flush(&self) {
        let (rows, dropped) = {
            let mut s = self.inner.state.lock().unwrap_or_else(|e| e.into_inner());
            s.write_planned = false;
            if s.refusals.pending.is_empty() && s.refusals.dropped == 0 {
                return;
            }
            s.last_write = Some(Instant::now());
            s.refusals.take()
        };
        if dropped > 0 {
            warn!(dropped, "too many refusals at once: {dropped} were not recorded");
        }
        if let Err(e) = self.inner.store.record_refusals(&rows).await {
            error!("could not record {} refusal rows: {e}", rows.len());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use opencapf_model::RegistrationResult;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    fn refused(device: &str, source: IpAddr) -> NewRegistration {
        let reason = format!("{device} is not a device of this cluster");
        let bare = NewRegistration::bare(
            format!("{source}:5060"),
            Protocol::Sip,
            Transport::Tcp,
            RegistrationResult::Refused,
            reason,
        );
        NewRegistration { device: Some(device.into()), ..bare }
    }

    #[test]
    fn the_same_refusal_from_one_address_is_one_row_with_its_count() {
        let mut state = State::default();
        let t = now();
        for i in 0..5 {
            state.add(refused("SEP001122334455", A), A, t + time::Duration::seconds(i));
        }
        state.add(refused("SEP001122334455", B), B, t);
        let (rows, dropped) = state.take();
        assert_eq!(dropped, 0);
        assert_eq!(rows.len(), 2);
        let a = rows.iter().find(|r| r.event.peer.starts_with("192.0.2.1")).unwrap();
        assert_eq!((a.count, a.first, a.last), (5, t, t + time::Duration::seconds(4)));
        assert!(state.take().0.is_empty(), "taken once");
    }

    #[test]
    fn many_names_from_one_address_share_a_row_beyond_the_limit() {
        let mut state = State::default();
        let t = now();
        for i in 0..1000 {
            state.add(refused(&format!("SEP{i:012X}"), A), A, t);
        }
        let (rows, _) = state.take();
        assert_eq!(rows.len(), KEYS_PER_SOURCE + 1);
        let shared = rows.iter().find(|r| r.event.device.is_none()).unwrap();
        assert_eq!(shared.count as usize, 1000 - KEYS_PER_SOURCE);
        assert!(shared.event.reason.ends_with("SEP0000000003E7 is not a device of this cluster"));
        assert_eq!(rows.iter().map(|r| r.count as usize).sum::<usize>(), 1000);
    }
}
