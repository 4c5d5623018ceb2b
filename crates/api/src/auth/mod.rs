//! Who is calling. Scripts send an API token (`Authorization: Bearer ...`); people log in on the
//! web pages and carry a session cookie. Either way the handler gets a [`Caller`], whose role
//! decides what it may change and whose actor name goes into the audit log.
//!
//! Sessions and failed-login counts are the cluster's (`Cluster::web_session`,
//! `Cluster::login_wait`...), in the database: every node behind one name shares them.
//!
//! - `sessions`: the session cookie.
//! - `csrf`: the check every state-changing request made with a cookie passes.

mod caller;
mod csrf;
mod sessions;

pub(crate) use caller::{Admin, Caller};
pub(crate) use csrf::check as csrf_check;
pub use sessions::SESSION_COOKIE;
pub(crate) use sessions::{clear_cookie, request_session, session_cookie, Session};
