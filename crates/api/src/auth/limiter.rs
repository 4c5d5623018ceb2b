//! Failed logins, counted per source address and per account name over a sliding window: past
//! either limit, logins from there (or to that account) wait. A correct password does not
//! bypass the wait, or the limit would only slow guessing down to one answer per window.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

const WINDOW: Duration = Duration::from_secs(5 * 60);
/// Failures from one address within the window.
const PER_SOURCE: usize = 10;
/// Failures against one account within the window, from anywhere.
const PER_ACCOUNT: usize = 5;
/// Addresses and names tracked at once (a flood of invented names stays bounded).
const MAX_KEYS: usize = 10_000;

#[derive(Default)]
pub(crate) struct LoginLimiter {
    by_source: Mutex<HashMap<IpAddr, Vec<Instant>>>,
    by_account: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LoginLimiter {
    /// How long before a login from `source` to `account` may be tried, if it must wait.
    pub(crate) fn wait(&self, source: IpAddr, account: &str) -> Option<Duration> {
        let now = Instant::now();
        let a = wait_for(&self.by_source.lock().expect("limiter lock"), &source, PER_SOURCE, now);
        let b = wait_for(&self.by_account.lock().expect("limiter lock"), account, PER_ACCOUNT, now);
        a.max(b)
    }

    pub(crate) fn failed(&self, source: IpAddr, account: &str) {
        let now = Instant::now();
        push(&mut self.by_source.lock().expect("limiter lock"), source, now);
        push(&mut self.by_account.lock().expect("limiter lock"), account.chars().take(64).collect(), now);
    }

    pub(crate) fn succeeded(&self, account: &str) {
        self.by_account.lock().expect("limiter lock").remove(account);
    }
}

fn wait_for<K, Q>(map: &HashMap<K, Vec<Instant>>, key: &Q, limit: usize, now: Instant) -> Option<Duration>
where
    K: std::borrow::Borrow<Q> + std::hash::Hash + Eq,
    Q: std::hash::Hash + Eq + ?Sized,
{
    let recent: Vec<&Instant> = map.get(key)?.iter().filter(|t| now.duration_since(**t) < WINDOW).collect();
    if recent.len() < limit {
        return None;
    }
    let oldest = recent.iter().min()?;
    Some(WINDOW.saturating_sub(now.duration_since(**oldest)).max(Duration::from_secs(1)))
}

fn push<K: std::hash::Hash + Eq>(map: &mut HashMap<K, Vec<Instant>>, key: K, now: Instant) {
    if map.len() >= MAX_KEYS {
        map.retain(|_, v| v.iter().any(|t| now.duration_since(*t) < WINDOW));
        if map.len() >= MAX_KEYS {
            map.clear();
        }
    }
    let v = map.entry(key).or_default();
    v.retain(|t| now.duration_since(*t) < WINDOW);
    v.push(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_account_waits_after_five_failures_from_anywhere() {
        let l = LoginLimiter::default();
        for i in 0..PER_ACCOUNT {
            assert!(l.wait(IpAddr::from([10, 0, 0, i as u8]), "admin").is_none());
            l.failed(IpAddr::from([10, 0, 0, i as u8]), "admin");
        }
        let wait = l.wait(IpAddr::from([10, 9, 9, 9]), "admin").expect("locked");
        assert!(wait <= WINDOW);
        assert!(l.wait(IpAddr::from([10, 9, 9, 9]), "jane").is_none(), "other accounts are not locked");
    }

    #[test]
    fn an_address_waits_after_ten_failures_on_any_names() {
        let l = LoginLimiter::default();
        let ip = IpAddr::from([192, 0, 2, 1]);
        for i in 0..PER_SOURCE {
            l.failed(ip, &format!("user{i}"));
        }
        assert!(l.wait(ip, "someone-else").is_some());
        assert!(l.wait(IpAddr::from([192, 0, 2, 2]), "someone-else").is_none());
    }
}
