//! What an administrator can tune in the CAPF server: where it listens, its limits and the
//! timeout of each stage of a session.

use std::net::SocketAddr;
use std::time::Duration;

/// The CAPF server's settings. [`Default`] gives values fit for a production cluster.
#[derive(Debug, Clone)]
pub struct CapfConfig {
    /// TCP address to listen on; CAPF's port is 3804.
    pub listen: SocketAddr,
    /// From TCP accept to the end of the TLS handshake.
    pub handshake_timeout: Duration,
    /// From AuthRequest to the phone's AuthResponse.
    pub auth_timeout: Duration,
    /// From KeyGenRequest to KeyGenResponse, however many RequestInProgress the phone sends
    /// meanwhile. Old phones may need 30 minutes or more for an RSA key.
    pub keygen_timeout: Duration,
    /// Any other wait for the phone (StoreCertificate, DeleteCertificate and
    /// FetchCertificate responses), and every write to it.
    pub read_timeout: Duration,
    /// Sessions at once; a connection beyond this is closed at once, with no CAPF message.
    pub max_sessions: usize,
    /// Sessions at once from one address (`None`: no limit); one more is closed at once.
    pub max_per_source: Option<usize>,
    /// Wrong authentication strings after which the operation is cancelled (0: no limit).
    pub max_auth_failures: u32,
    /// On shutdown, how long sessions in progress may take to finish before they are stopped
    /// (and recorded as such).
    pub shutdown_grace: Duration,
    /// The first session id. `None` (the default) starts at a random value, so that ids are not
    /// repeated across restarts either (the SUDI signature covers the session id). Ids then
    /// increase by one per connection and are never reused while the server runs.
    pub first_session_id: Option<u32>,
}

impl CapfConfig {
    /// The longest a session can work on a device's operation once it has named it (key
    /// generation, then storing the LSC, with room for the database): how long its claim on
    /// the operation lasts, so that a crashed server's claim expires.
    pub fn max_session_duration(&self) -> Duration {
        let margin = Duration::from_secs(60);
        self.keygen_timeout.saturating_add(self.read_timeout.saturating_mul(3)).saturating_add(margin)
    }
}

impl Default for CapfConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 3804)),
            handshake_timeout: Duration::from_secs(10),
            auth_timeout: Duration::from_secs(30),
            keygen_timeout: Duration::from_secs(30 * 60),
            read_timeout: Duration::from_secs(60),
            max_sessions: 500,
            max_per_source: Some(opencapf_net::Limits::DEFAULT_PER_SOURCE),
            max_auth_failures: 5,
            shutdown_grace: Duration::from_secs(10),
            first_session_id: None,
        }
    }
}
