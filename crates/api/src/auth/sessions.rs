//! Sessions of people logged in to the web pages: a random id in a cookie that scripts cannot
//! read (HttpOnly), never sent over plain HTTP (Secure) nor by another site's pages
//! (SameSite=Strict), and a CSRF token per session for the forms.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use axum::http::HeaderMap;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "opencapf_session";
/// A session ends after this long without a request...
const IDLE: Duration = Duration::from_secs(30 * 60);
/// ...and after this long in any case (a working day).
const ABSOLUTE: Duration = Duration::from_secs(12 * 3600);
/// Sessions kept at once: past it, the least recently used goes.
const MAX_SESSIONS: usize = 10_000;

/// A session: whose it is and the token its forms carry.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) id: String,
    pub(crate) account: String,
    pub(crate) csrf: String,
    created: Instant,
    last_seen: Instant,
}

/// The open sessions of this process.
#[derive(Clone, Default)]
pub struct Sessions {
    inner: Arc<Mutex<HashMap<String, Session>>>,
}

pub(crate) fn random_hex() -> String {
    let mut b = [0u8; 32];
    SystemRandom::new().fill(&mut b).expect("the system random generator works");
    hex::encode(b)
}

impl Sessions {
    /// Opens a session for `account` (after a login).
    pub(crate) fn open(&self, account: &str) -> Session {
        let now = Instant::now();
        let s =
            Session { id: random_hex(), account: account.to_owned(), csrf: random_hex(), created: now, last_seen: now };
        let mut map = self.inner.lock().expect("sessions lock");
        map.retain(|_, s| live(s, now));
        if map.len() >= MAX_SESSIONS {
            if let Some(oldest) = map.values().min_by_key(|s| s.last_seen).map(|s| s.id.clone()) {
                map.remove(&oldest);
            }
        }
        map.insert(s.id.clone(), s.clone());
        s
    }

    /// The live session of this id (its idle time restarts), or `None`.
    pub(crate) fn get(&self, id: &str) -> Option<Session> {
        let now = Instant::now();
        let mut map = self.inner.lock().expect("sessions lock");
        let s = map.get_mut(id)?;
        if !live(s, now) {
            map.remove(id);
            return None;
        }
        s.last_seen = now;
        Some(s.clone())
    }

    pub(crate) fn close(&self, id: &str) {
        self.inner.lock().expect("sessions lock").remove(id);
    }

    /// Ends every session of an account (password changed elsewhere, account removed).
    pub fn close_account(&self, account: &str) {
        self.close_account_except(account, None);
    }

    /// Ends every session of an account but `keep` (the one that changed the password).
    pub(crate) fn close_account_except(&self, account: &str, keep: Option<&str>) {
        self.inner.lock().expect("sessions lock").retain(|id, s| s.account != account || Some(id.as_str()) == keep);
    }

    /// The session id in a request's cookies.
    pub(crate) fn id_in(headers: &HeaderMap) -> Option<String> {
        headers
            .get_all(axum::http::header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|c| c.trim().split_once('='))
            .find(|(k, _)| *k == SESSION_COOKIE)
            .map(|(_, v)| v.to_owned())
    }
}

fn live(s: &Session, now: Instant) -> bool {
    now.duration_since(s.last_seen) < IDLE && now.duration_since(s.created) < ABSOLUTE
}

/// The `Set-Cookie` value that gives the browser a session.
pub(crate) fn session_cookie(s: &Session) -> String {
    format!("{SESSION_COOKIE}={}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age={}", s.id, ABSOLUTE.as_secs())
}

/// The `Set-Cookie` value that removes it.
pub(crate) fn clear_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=0")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_found_by_its_cookie_and_closed() {
        let sessions = Sessions::default();
        let s = sessions.open("jane");
        let mut h = HeaderMap::new();
        h.insert("cookie", format!("theme=dark; {SESSION_COOKIE}={}", s.id).parse().unwrap());
        let id = Sessions::id_in(&h).unwrap();
        assert_eq!(sessions.get(&id).unwrap().account, "jane");
        assert_ne!(s.id, s.csrf);
        sessions.close_account("jane");
        assert!(sessions.get(&id).is_none());
        assert!(session_cookie(&s).contains("HttpOnly; SameSite=Strict"));
    }
}
