//! The one connection-limit policy: connections at once in total (shared by the listeners of a
//! [`Gate`]) and per source address, and what happens to one more.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// What a listener does with a connection beyond [`Limits::max_connections`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WhenFull {
    /// Accept it and close it at once, with no protocol message (CAPF: a phone retries later,
    /// and its handshake timer does not run meanwhile).
    Close,
    /// Stop accepting until a connection ends: new ones wait in the listen queue (CallManager:
    /// phones re-registering after an outage queue rather than fail).
    Wait,
}

/// Connections at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// In total, for every listener sharing the gate (clamped to 1..=`Semaphore::MAX_PERMITS`).
    pub max_connections: usize,
    /// From one IP address; one more is closed at once, whatever `when_full` says.
    pub max_per_source: Option<usize>,
    pub when_full: WhenFull,
}

impl Limits {
    /// Connections from one address that a building of phones behind one NAT stays under.
    pub const DEFAULT_PER_SOURCE: usize = 256;
}

/// Why a connection was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    #[error("too many connections")]
    Full,
    #[error("too many connections from this address")]
    SourceFull,
}

/// The counters of a [`Limits`], shared (clone it) by the listeners it covers.
#[derive(Clone)]
pub struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    limits: Limits,
    slots: Arc<Semaphore>,
    per_source: Mutex<HashMap<IpAddr, usize>>,
}

/// An admitted connection's place: freed when dropped.
pub struct Admission {
    _slot: OwnedSemaphorePermit,
    source: Option<(Arc<Inner>, IpAddr)>,
}

impl Gate {
    pub fn new(limits: Limits) -> Gate {
        let max = limits.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let limits = Limits { max_connections: max, ..limits };
        let slots = Arc::new(Semaphore::new(max));
        Gate { inner: Arc::new(Inner { limits, slots, per_source: Mutex::new(HashMap::new()) }) }
    }

    pub fn limits(&self) -> Limits {
        self.inner.limits
    }

    /// In [`WhenFull::Wait`] mode, a slot taken before accepting (so that the next connection
    /// stays in the listen queue until one is free); `None` in [`WhenFull::Close`] mode.
    pub async fn reserve(&self) -> Option<OwnedSemaphorePermit> {
        match self.inner.limits.when_full {
            WhenFull::Close => None,
            WhenFull::Wait => self.inner.slots.clone().acquire_owned().await.ok(),
        }
    }

    /// Admits a connection from `source`, with the slot [`Gate::reserve`] gave, if any.
    pub fn admit(&self, reserved: Option<OwnedSemaphorePermit>, source: IpAddr) -> Result<Admission, Refused> {
        let slot = match reserved {
            Some(slot) => slot,
            None => self.inner.slots.clone().try_acquire_owned().map_err(|_| Refused::Full)?,
        };
        let Some(max) = self.inner.limits.max_per_source else {
            return Ok(Admission { _slot: slot, source: None });
        };
        let mut counts = self.inner.per_source.lock().unwrap_or_else(|e| e.into_inner());
        let count = counts.entry(source).or_insert(0);
        if *count >= max {
            return Err(Refused::SourceFull);
        }
        *count += 1;
        Ok(Admission { _slot: slot, source: Some((self.inner.clone(), source)) })
    }
}

impl Drop for Admission {
    fn drop(&mut self) {
        let Some((inner, source)) = self.source.take() else { return };
        let mut counts = inner.per_source.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = counts.get_mut(&source) {
            *count -= 1;
            if *count == 0 {
                counts.remove(&source);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    const A: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const B: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn close_mode_refuses_beyond_the_total_and_frees_on_drop() {
        let gate = Gate::new(Limits { max_connections: 2, max_per_source: None, when_full: WhenFull::Close });
        let first = gate.admit(None, A).unwrap();
        let _second = gate.admit(None, B).unwrap();
        assert_eq!(gate.admit(None, A).err(), Some(Refused::Full));
        drop(first);
        assert!(gate.admit(None, A).is_ok());
    }

    #[test]
    fn per_source_limit_counts_each_address() {
        let gate = Gate::new(Limits { max_connections: 10, max_per_source: Some(1), when_full: WhenFull::Close });
        let a = gate.admit(None, A).unwrap();
        assert_eq!(gate.admit(None, A).err(), Some(Refused::SourceFull));
        let _b = gate.admit(None, B).unwrap();
        drop(a);
        assert!(gate.admit(None, A).is_ok(), "the address's place is free again");
    }

    #[tokio::test]
    async fn wait_mode_reserves_before_accepting() {
        let gate = Gate::new(Limits { max_connections: 1, max_per_source: None, when_full: WhenFull::Wait });
        let held = gate.admit(gate.reserve().await, A).unwrap();
        let waiting = tokio::time::timeout(Duration::from_millis(50), gate.reserve()).await;
        assert!(waiting.is_err(), "no slot while the only one is held");
        drop(held);
        let slot = tokio::time::timeout(Duration::from_secs(1), gate.reserve()).await.unwrap();
        assert!(gate.admit(slot, A).is_ok());
    }
}
