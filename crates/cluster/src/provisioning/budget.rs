//! How often one address may add to the unknown-device list: every such request is a write, and
//! keep-alive HTTP lets one client send them as fast as it likes. A phone that is not a device
//! asks a few times per boot; anything beyond this budget is still answered 404, just not
//! recorded again.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Records per source address and window.
const PER_SOURCE: u32 = 20;
const WINDOW: Duration = Duration::from_secs(60);
/// Sources remembered at most; older windows are forgotten first.
const SOURCES: usize = 4096;

#[derive(Clone, Default)]
pub(crate) struct RecordBudget(Arc<Mutex<HashMap<IpAddr, (Instant, u32)>>>);

impl RecordBudget {
    /// True when `source` may record one more request now.
    pub(crate) fn take(&self, source: IpAddr) -> bool {
        let now = Instant::now();
        let mut spent = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if spent.len() >= SOURCES {
            spent.retain(|_, (start, _)| now.duration_since(*start) < WINDOW);
            if spent.len() >= SOURCES {
                return false;
            }
        }
        let (start, count) = spent.entry(source).or_insert((now, 0));
        if now.duration_since(*start) >= WINDOW {
            *start = now;
            *count = 0;
        }
        *count += 1;
        *count <= PER_SOURCE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_source_is_limited_others_are_not() {
        let b = RecordBudget::default();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        assert!((0..PER_SOURCE).all(|_| b.take(a)));
        assert!(!b.take(a));
        assert!(b.take("192.0.2.2".parse().unwrap()));
    }
}
