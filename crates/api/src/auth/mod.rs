//! Who is calling. Scripts send an API token (`Authorization: Bearer ...`); people log in on the
//! web pages and carry a session cookie. Either way the handler gets a [`Caller`], whose role
//! decides what it may change and whose actor name goes into the audit log.
//!
//! - `sessions`: the in-memory [`Sessions`] and their cookie.
//! - `limiter`: failed logins per source address and per account name.
//! - `csrf`: the check every state-changing request made with a cookie passes.

mod caller;
mod csrf;
mod limiter;
mod sessions;

pub(crate) use caller::{Admin, Caller};
pub(crate) use csrf::check as csrf_check;
pub(crate) use limiter::LoginLimiter;
pub(crate) use sessions::{clear_cookie, session_cookie, Session};
pub use sessions::{Sessions, SESSION_COOKIE};
