//! `SEP<MAC>.cnf.xml`: the device configuration file as CUCM writes it (phone-boot.md §2), from
//! what the cluster knows of the device and the addresses its services answer on.
//!
//! Element order follows CUCM-derived files (phone-boot.md §2.1) [U: the order is not
//! documented; phones read elements by name]. Only what a phone needs to reach CAPF, TVS and
//! CallManager securely is written; locale, soft keys and dial rules fall back to the phone's
//! built-in defaults (§1.3 #5–#7).

use std::fmt::Write as _;

use opencapf_model::{xml_escape as escape, AuthMode, CertificateOperation, Device, Protocol, SecurityMode};

/// Where the cluster's services answer, as phones are told in their configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// `processNodeName`: the name or address phones connect to (the node's host name).
    pub host: String,
    pub sip_port: u16,
    pub secured_sip_port: u16,
    /// `ethernetPhonePort` (SCCP). Phones add 443 for SCCP over TLS (2000 → 2443) [U: the TLS
    /// port is not in the file; 2443 = 2000 + 443 is what every deployment shows].
    pub sccp_port: u16,
    pub capf_port: u16,
    pub tvs_port: u16,
}

impl Endpoints {
    /// CUCM's standard ports on `host`.
    pub fn standard(host: &str) -> Endpoints {
        Endpoints {
            host: host.to_owned(),
            sip_port: 5060,
            secured_sip_port: 5061,
            sccp_port: 2000,
            capf_port: 3804,
            tvs_port: 2445,
        }
    }
}

impl From<&opencapf_model::NodeAddresses> for Endpoints {
    fn from(a: &opencapf_model::NodeAddresses) -> Endpoints {
        Endpoints {
            host: a.host.clone(),
            sip_port: a.sip_port,
            secured_sip_port: a.secured_sip_port,
            sccp_port: a.sccp_port,
            capf_port: a.capf_port,
            tvs_port: a.tvs_port,
        }
    }
}

/// At most this many members in the CallManager group and the TVS list (phone-boot.md §2.2:
/// priorities 0–4).
const MAX_MEMBERS: usize = 5;

/// `capfAuthMode` (phone-boot.md §2.2): 0 when no operation is pending.
pub(crate) fn capf_auth_mode(device: &Device) -> u8 {
    if device.capf.operation == CertificateOperation::NoPendingOperation {
        return 0;
    }
    match device.capf.auth_mode {
        AuthMode::AuthenticationString => 1,
        AuthMode::NullString => 2,
        AuthMode::ExistingCertificateLsc => 3,
        AuthMode::ExistingCertificateMic => 4,
    }
}

fn security_mode_code(mode: SecurityMode) -> u8 {
    match mode {
        SecurityMode::NonSecure => 1,
        SecurityMode::Authenticated => 2,
        SecurityMode::Encrypted => 3,
    }
}

/// `transportLayerProtocol`: TLS (3) for a secure profile; otherwise CUCM's default phone profile
/// "TCP+UDP" (4), which phones use as TCP (phone-boot.md §2.2).
fn transport_code(mode: SecurityMode) -> u8 {
    match mode {
        SecurityMode::NonSecure => 4,
        _ => 3,
    }
}

/// The configuration file of `device`, served by the node at `at`; `group` is every running node
/// (the CallManager group and the TVS list, in that order; `at` alone when empty).
/// `version_stamp` is `<unix time>-<uuid>`.
pub(crate) fn device_config(
    device: &Device,
    group: &[Endpoints],
    at: &Endpoints,
    load: Option<&str>,
    version_stamp: &str,
) -> String {
    let group = if group.is_empty() { std::slice::from_ref(at) } else { &group[..group.len().min(MAX_MEMBERS)] };
    let mut x = Xml::default();
    x.open("device");
    x.leaf("fullConfig", "true");
    x.leaf("deviceProtocol", device.protocol.as_str());
    x.leaf("ipAddressMode", "0");
    x.open("devicePool");
    x.leaf("name", "Default");
    call_manager_group(&mut x, group);
    x.leaf("connectionMonitorDuration", "120");
    x.close("devicePool");
    // Every node runs TVS (cucm-reference.md §TVS); phones ask the members in priority order.
    x.open("TVS");
    x.open("members");
    for (priority, node) in group.iter().enumerate() {
        x.open_with("member", "priority", &priority.to_string());
        x.leaf("port", &node.tvs_port.to_string());
        x.leaf("address", &node.host);
        x.close("member");
    }
    x.close("members");
    x.close("TVS");
    if device.protocol == Protocol::Sip {
        sip_profile(&mut x, device, at);
    }
    if let Some(load) = load {
        x.leaf("loadInformation", load);
    }
    x.leaf("versionStamp", version_stamp);
    x.leaf("deviceSecurityMode", &security_mode_code(device.security_mode).to_string());
    x.leaf("transportLayerProtocol", &transport_code(device.security_mode).to_string());
    let mode = capf_auth_mode(device);
    if mode != 0 {
        x.leaf("capfAuthMode", &mode.to_string());
        // Every node runs CAPF on the shared database [U: CUCM lists the nodes running the
        // CAPF service; the file allows up to 5], in the group's order.
        x.open("capfList");
        for node in group {
            x.open("capf");
            x.leaf("phonePort", &node.capf_port.to_string());
            x.leaf("processNodeName", &node.host);
            x.close("capf");
        }
        x.close("capfList");
    }
    // Empty unless the configuration is encrypted (then the MD5 of the device certificate,
    // capf-protocol.md §4.8); encrypted configurations are not offered.
    x.leaf("certHash", "");
    x.leaf("encrConfig", "false");
    x.close("device");
    x.finish()
}

/// One member per node, priority 0 first: phones register with the first they reach and fail
/// over down the list (phone-boot.md §3.5).
fn call_manager_group(x: &mut Xml, group: &[Endpoints]) {
    x.open("callManagerGroup");
    x.leaf("name", "Default");
    x.leaf("tftpDefault", "true");
    x.open("members");
    for (priority, at) in group.iter().enumerate() {
        call_manager_member(x, priority, at);
    }
    x.close("members");
    x.close("callManagerGroup");
}

fn call_manager_member(x: &mut Xml, priority: usize, at: &Endpoints) {
    x.open_with("member", "priority", &priority.to_string());
    x.open("callManager");
    x.leaf("name", &at.host);
    x.leaf("description", "OpenCAPF");
    x.open("ports");
    x.leaf("ethernetPhonePort", &at.sccp_port.to_string());
    x.leaf("sipPort", &at.sip_port.to_string());
    x.leaf("securedSipPort", &at.secured_sip_port.to_string());
    x.open("mgcpPorts");
    x.leaf("listen", "2427");
    x.leaf("keepAlive", "2428");
    x.close("mgcpPorts");
    x.close("ports");
    x.leaf("processNodeName", &at.host);
    x.close("callManager");
    x.close("member");
}

/// `sipProfile`: registration timers as CUCM's default SIP profile, and one `line` per
/// directory number in button order.
fn sip_profile(x: &mut Xml, device: &Device, at: &Endpoints) {
    x.open("sipProfile");
    x.open("sipProxies");
    x.leaf("registerWithProxy", "true");
    x.close("sipProxies");
    x.open("sipStack");
    x.leaf("timerRegisterExpires", "3600");
    x.leaf("timerRegisterDelta", "5");
    x.leaf("timerKeepAliveExpires", "120");
    x.close("sipStack");
    x.open("sipLines");
    for (i, dn) in device.lines.iter().enumerate() {
        let n = (i + 1).to_string();
        x.open_with2("line", ("button", &n), ("lineIndex", &n));
        x.leaf("featureID", "9");
        x.leaf("featureLabel", dn.as_str());
        x.leaf("proxy", "USECALLMANAGER");
        x.leaf("port", &at.sip_port.to_string());
        x.leaf("name", dn.as_str());
        x.leaf("displayName", dn.as_str());
        x.leaf("contact", dn.as_str());
        x.leaf("sharedLine", "false");
        x.leaf("maxNumCalls", "4");
        x.leaf("busyTrigger", "2");
        x.close("line");
    }
    x.close("sipLines");
    x.close("sipProfile");
}

/// A small indenting XML writer; every text and attribute value is escaped.
#[derive(Default)]
struct Xml {
    out: String,
    depth: usize,
}

impl Xml {
    fn indent(&mut self) {
        for _ in 0..self.depth {
            self.out.push_str("  ");
        }
    }

    fn open(&mut self, name: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>");
        self.depth += 1;
    }

    fn open_with(&mut self, name: &str, attr: &str, value: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name} {attr}=\"{}\">", escape(value));
        self.depth += 1;
    }

    fn open_with2(&mut self, name: &str, a: (&str, &str), b: (&str, &str)) {
        self.indent();
        let _ = writeln!(self.out, "<{name} {}=\"{}\" {}=\"{}\">", a.0, escape(a.1), b.0, escape(b.1));
        self.depth += 1;
    }

    fn close(&mut self, name: &str) {
        self.depth -= 1;
        self.indent();
        let _ = writeln!(self.out, "</{name}>");
    }

    fn leaf(&mut self, name: &str, text: &str) {
        self.indent();
        let _ = writeln!(self.out, "<{name}>{}</{name}>", escape(text));
    }

    fn finish(self) -> String {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_drops_controls() {
        assert_eq!(escape("a<b>&\"'\u{1}c"), "a&lt;b&gt;&amp;&quot;&apos;c");
    }
}
