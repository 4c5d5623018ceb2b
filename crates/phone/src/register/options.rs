//! Where the phone registers: the standard CallManager ports, [`RegisterOptions`], and the
//! server's host and port (from `--server`, or the CAPF server's host in `phone.json`).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use opencapf_capf::client::TlsVersions;
use opencapf_model::{Protocol, SecurityMode};

use crate::{Phone, PhoneError, Result, TlsEngine};

/// SIP over TLS.
pub(crate) const SIP_TLS_PORT: u16 = 5061;
/// SIP over TCP.
pub(crate) const SIP_TCP_PORT: u16 = 5060;
/// SCCP over TLS.
pub(crate) const SCCP_TLS_PORT: u16 = 2443;
/// SCCP over TCP.
pub(crate) const SCCP_TCP_PORT: u16 = 2000;

/// The CallManager port of a protocol and transport.
pub(crate) fn standard_port(protocol: Protocol, tls: bool) -> u16 {
    match (protocol, tls) {
        (Protocol::Sip, true) => SIP_TLS_PORT,
        (Protocol::Sip, false) => SIP_TCP_PORT,
        (Protocol::Sccp, true) => SCCP_TLS_PORT,
        (Protocol::Sccp, false) => SCCP_TCP_PORT,
    }
}

/// Options of [`Phone::register`].
#[derive(Debug, Clone)]
pub struct RegisterOptions {
    /// `HOST` or `HOST:PORT` (`[IPv6]:PORT`); default: the host of the CAPF server in
    /// `phone.json` (CAPF and CallManager on the same node, as in a lab).
    pub server: Option<String>,
    /// The port, overriding the standard one and any port in `server`.
    pub port: Option<u16>,
    pub protocol: Protocol,
    /// The Device Security Mode of the phone's security profile (from its configuration file).
    pub security: SecurityMode,
    /// TLS versions to offer over rustls; default by security mode (see the `register` module doc).
    pub tls_versions: Option<TlsVersions>,
    /// rustls or OpenSSL (TLS 1.0, AES-SHA, `NULL-SHA` too when Authenticated); by default the
    /// phone model's.
    pub engine: TlsEngine,
    /// Connect, handshake, and wait for the answer, each at most this long.
    pub timeout: Duration,
    /// The SIP Expires asked for, in seconds.
    pub expires: u32,
    /// SIP: the directory numbers to register, one REGISTER each on the same connection (from
    /// the configuration's lines). Empty: one REGISTER naming the device (all its lines).
    pub lines: Vec<String>,
    /// The other members of the CallManager group after `server`, in priority order
    /// (`(processNodeName, port)`): the phone fails over to them (phone-boot.md §3.5).
    pub standby: Vec<(String, u16)>,
}

impl RegisterOptions {
    /// These options for each member of the CallManager group in priority order: `server`
    /// first, then each standby.
    pub fn group(&self) -> Vec<RegisterOptions> {
        let mut all = vec![RegisterOptions { standby: Vec::new(), ..self.clone() }];
        for (host, port) in &self.standby {
            all.push(RegisterOptions {
                server: Some(host.clone()),
                port: Some(*port),
                standby: Vec::new(),
                ..self.clone()
            });
        }
        all
    }

    pub fn new(protocol: Protocol, security: SecurityMode) -> Self {
        RegisterOptions {
            server: None,
            port: None,
            protocol,
            security,
            tls_versions: None,
            engine: TlsEngine::ByModel,
            timeout: Duration::from_secs(10),
            expires: 3600,
            lines: Vec::new(),
            standby: Vec::new(),
        }
    }
}

/// Where to connect: host and port.
pub(super) fn target(phone: &Phone, opts: &RegisterOptions, tls: bool) -> Result<(String, u16)> {
    let server = match &opts.server {
        Some(s) => s.trim().to_string(),
        None => split_host_port(&phone.config().capf_server)
            .map(|(h, _)| h)
            .ok_or_else(|| PhoneError::Invalid("phone.json has no usable server; pass --server HOST".into()))?,
    };
    let (host, port) = split_host_port(&server)
        .ok_or_else(|| PhoneError::Invalid(format!("--server '{server}': use HOST, HOST:PORT or [IPv6]:PORT")))?;
    let port = opts.port.or(port).unwrap_or_else(|| standard_port(opts.protocol, tls));
    if port == 0 {
        return Err(PhoneError::Invalid("port 0 cannot be contacted".into()));
    }
    Ok((host, port))
}

/// `HOST`, `HOST:PORT`, an IP address, `[IPv6]` or `[IPv6]:PORT`.
pub(crate) fn split_host_port(s: &str) -> Option<(String, Option<u16>)> {
    let s = s.trim();
    if s.is_empty() {
        return None;
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some((sa.ip().to_string(), Some(sa.port())));
    }
    if let Ok(ip) = s.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>() {
        return Some((ip.to_string(), None));
    }
    let (host, port) = match s.rsplit_once(':') {
        Some((h, p)) => (h, Some(p.parse::<u16>().ok()?)),
        None => (s, None),
    };
    if host.is_empty() || host.contains([':', '/', ' ', '[', ']', '@', ';']) {
        return None;
    }
    Some((host.to_string(), port))
}

/// A host as it goes into a SIP URI or a `HOST:PORT` text.
pub(super) fn uri_host(host: &str) -> String {
    if host.contains(':') {
        format!("[{host}]")
    } else {
        host.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::mac_of;
    use super::*;

    #[test]
    fn servers_and_ports() {
        assert_eq!(split_host_port("cucm.lab"), Some(("cucm.lab".into(), None)));
        assert_eq!(split_host_port("cucm.lab:15061"), Some(("cucm.lab".into(), Some(15061))));
        assert_eq!(split_host_port("127.0.0.1:3804"), Some(("127.0.0.1".into(), Some(3804))));
        assert_eq!(split_host_port("::1"), Some(("::1".into(), None)));
        assert_eq!(split_host_port("[::1]:5061"), Some(("::1".into(), Some(5061))));
        assert_eq!(split_host_port("a b"), None);
        assert_eq!(split_host_port("host:port"), None);
        assert_eq!(standard_port(Protocol::Sip, true), 5061);
        assert_eq!(standard_port(Protocol::Sccp, false), 2000);
        assert_eq!(uri_host("::1"), "[::1]");
        assert_eq!(mac_of("SEP2C3124C9F8E1"), [0x2c, 0x31, 0x24, 0xc9, 0xf8, 0xe1]);
    }
}
