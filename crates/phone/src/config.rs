//! `SEP<MAC>.cnf.xml`, the device configuration a phone downloads at boot (phone-boot.md §2), read
//! into a [`DeviceConfig`]: what the phone acts on (protocol, security mode, CallManagers, TVS,
//! CAPF, lines). Everything else in the file is ignored, as a phone ignores what it does not know.
//!
//! Bounded: at most [`MAX_CONFIG_BYTES`] (the phone's 2048 KB `GHTTP-LIMIT`), parsed by
//! `roxmltree` with its defaults (no DTD, so no entity expansion). Errors name the element.

use opencapf_model::{Protocol, SecurityMode};
use roxmltree::{Document, Node};
use serde::Serialize;

/// The phone refuses downloads larger than 2048 KB (phone-boot.md §1.2, `GHTTP-LIMIT`).
pub const MAX_CONFIG_BYTES: usize = 2048 * 1024;
/// At most 5 TVS, CAPF and CallManager members are meaningful (phone-boot.md §2.2).
const MAX_MEMBERS: usize = 5;
/// A phone has at most a few dozen line keys; the rest is ignored.
const MAX_LINES: usize = 64;

/// Why a configuration file was not accepted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("the configuration file is {0} bytes; a phone takes at most {MAX_CONFIG_BYTES}")]
    TooLarge(usize),
    #[error("the configuration file is not UTF-8 text")]
    NotText,
    #[error("the configuration file is not well-formed XML: {0}")]
    Xml(String),
    #[error("the root element is <{0}>, not <device>")]
    NotADevice(String),
    #[error("<{element}>: {problem}")]
    Element { element: String, problem: String },
}

fn bad(element: &str, problem: impl Into<String>) -> ConfigError {
    ConfigError::Element { element: element.into(), problem: problem.into() }
}

/// `transportLayerProtocol` (phone-boot.md §2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Transport {
    Tcp,
    Udp,
    Tls,
    /// "TCP+UDP": the phone uses TCP (sipcc `CONN_TCP_TMP`).
    TcpUdp,
}

impl Transport {
    fn from_code(code: u8) -> Option<Transport> {
        match code {
            1 => Some(Transport::Tcp),
            2 => Some(Transport::Udp),
            3 => Some(Transport::Tls),
            4 => Some(Transport::TcpUdp),
            _ => None,
        }
    }
}

/// `capfAuthMode` (phone-boot.md §2.2): what the phone does with CAPF after reading the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum CapfAuthMode {
    /// 0: no pending operation.
    None,
    /// 1: the user types the authentication string.
    AuthString,
    /// 2: the null string.
    NullString,
    /// 3: existing certificate, LSC first, then the MIC.
    ExistingLsc,
    /// 4: existing certificate, the MIC.
    Mic,
}

impl CapfAuthMode {
    fn from_code(code: u8) -> Option<CapfAuthMode> {
        match code {
            0 => Some(CapfAuthMode::None),
            1 => Some(CapfAuthMode::AuthString),
            2 => Some(CapfAuthMode::NullString),
            3 => Some(CapfAuthMode::ExistingLsc),
            4 => Some(CapfAuthMode::Mic),
            _ => None,
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

/// One `callManagerGroup` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CallManagerEntry {
    pub priority: u8,
    /// `callManager/name` (CUCM's server name).
    pub name: String,
    /// `processNodeName`: the host the phone connects to.
    pub process_node_name: String,
    pub sip_port: Option<u16>,
    pub secured_sip_port: Option<u16>,
    /// SCCP over TCP (2000). SCCP over TLS is 2443, which the file does not carry.
    pub ethernet_phone_port: Option<u16>,
}

/// One `TVS` member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TvsEntry {
    pub priority: u8,
    pub address: String,
    pub port: u16,
}

/// One `capfList/capf`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CapfEntry {
    pub process_node_name: String,
    pub phone_port: u16,
}

/// One line key (`sipLines/line` with `featureID` 9, or no featureID).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LineEntry {
    pub button: u16,
    /// The directory number.
    pub name: String,
    pub display_name: Option<String>,
}

/// What the phone acts on in `SEP<MAC>.cnf.xml`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeviceConfig {
    pub protocol: Protocol,
    pub security_mode: SecurityMode,
    pub transport: Transport,
    /// By priority, lowest first.
    pub call_managers: Vec<CallManagerEntry>,
    /// By priority, lowest first.
    pub tvs: Vec<TvsEntry>,
    pub capf_auth_mode: CapfAuthMode,
    pub capf: Vec<CapfEntry>,
    /// By button.
    pub lines: Vec<LineEntry>,
    pub load_information: Option<String>,
    pub version_stamp: Option<String>,
}

impl DeviceConfig {
    /// Reads a `SEP<MAC>.cnf.xml` (see the module doc).
    pub fn parse(bytes: &[u8]) -> Result<DeviceConfig, ConfigError> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(ConfigError::TooLarge(bytes.len()));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| ConfigError::NotText)?;
        let doc = Document::parse(text).map_err(|e| ConfigError::Xml(e.to_string()))?;
        let root = doc.root_element();
        if root.tag_name().name() != "device" {
            return Err(ConfigError::NotADevice(printable(root.tag_name().name())));
        }
        let protocol = match text_of(root, "deviceProtocol").as_deref() {
            // CUCM always writes it; a file without it is taken as SIP, the current phones' protocol [U].
            None => Protocol::Sip,
            Some(p) if p.eq_ignore_ascii_case("SIP") => Protocol::Sip,
            Some(p) if p.eq_ignore_ascii_case("SCCP") => Protocol::Sccp,
            Some(p) => return Err(bad("deviceProtocol", format!("'{}' is neither SIP nor SCCP", printable(p)))),
        };
        let security_mode = match number::<u8>(root, "deviceSecurityMode")? {
            None | Some(1) => SecurityMode::NonSecure,
            Some(2) => SecurityMode::Authenticated,
            Some(3) => SecurityMode::Encrypted,
            Some(n) => return Err(bad("deviceSecurityMode", format!("{n} is not 1, 2 or 3"))),
        };
        let transport = match number::<u8>(root, "transportLayerProtocol")? {
            // Absent: what the security mode needs (TLS for 2 and 3, else TCP) [U].
            None if security_mode == SecurityMode::NonSecure => Transport::Tcp,
            None => Transport::Tls,
            Some(n) => {
                Transport::from_code(n).ok_or_else(|| bad("transportLayerProtocol", format!("{n} is not 1 to 4")))?
            }
        };
        let capf_auth_mode = match number::<u8>(root, "capfAuthMode")? {
            None => CapfAuthMode::None,
            Some(n) => CapfAuthMode::from_code(n).ok_or_else(|| bad("capfAuthMode", format!("{n} is not 0 to 4")))?,
        };
        Ok(DeviceConfig {
            protocol,
            security_mode,
            transport,
            call_managers: call_managers(root)?,
            tvs: tvs_members(root)?,
            capf_auth_mode,
            capf: capf_list(root)?,
            lines: lines(root)?,
            load_information: text_of(root, "loadInformation"),
            version_stamp: text_of(root, "versionStamp"),
        })
    }
}

/// Wire text made safe for logs and terminals.
fn printable(s: &str) -> String {
    opencapf_model::printable(s).into_owned()
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    node.children().find(|n| n.is_element() && n.tag_name().name() == name)
}

fn children<'a, 'i: 'a>(node: Node<'a, 'i>, name: &'a str) -> impl Iterator<Item = Node<'a, 'i>> + 'a {
    node.children().filter(move |n| n.is_element() && n.tag_name().name() == name)
}

/// The trimmed text of a child element; `None` when absent or empty.
fn text_of(node: Node<'_, '_>, name: &str) -> Option<String> {
    let t = child(node, name)?.text().unwrap_or("").trim();
    (!t.is_empty()).then(|| t.to_string())
}

fn number<T: std::str::FromStr>(node: Node<'_, '_>, name: &str) -> Result<Option<T>, ConfigError> {
    match text_of(node, name) {
        None => Ok(None),
        Some(t) => t.parse().map(Some).map_err(|_| bad(name, format!("'{}' is not a number in range", printable(&t)))),
    }
}

fn priority(member: Node<'_, '_>, element: &str) -> Result<u8, ConfigError> {
    match member.attribute("priority") {
        None => Ok(0),
        Some(p) => p.trim().parse().map_err(|_| bad(element, format!("priority '{}' is not 0 to 255", printable(p)))),
    }
}

fn required(node: Node<'_, '_>, name: &str, within: &str) -> Result<String, ConfigError> {
    text_of(node, name).ok_or_else(|| bad(within, format!("no <{name}>")))
}

fn call_managers(root: Node<'_, '_>) -> Result<Vec<CallManagerEntry>, ConfigError> {
    let Some(members) =
        child(root, "devicePool").and_then(|p| child(p, "callManagerGroup")).and_then(|g| child(g, "members"))
    else {
        return Ok(Vec::new());
    };
    let mut list = Vec::new();
    for member in children(members, "member").take(MAX_MEMBERS) {
        let priority = priority(member, "callManagerGroup/members/member")?;
        let cm =
            child(member, "callManager").ok_or_else(|| bad("callManagerGroup/members/member", "no <callManager>"))?;
        let ports = child(cm, "ports");
        let port = |name: &str| match ports {
            Some(p) => number::<u16>(p, name),
            None => Ok(None),
        };
        let process_node_name = required(cm, "processNodeName", "callManager")?;
        list.push(CallManagerEntry {
            priority,
            name: text_of(cm, "name").map(|n| printable(&n)).unwrap_or_else(|| printable(&process_node_name)),
            process_node_name,
            sip_port: port("sipPort")?,
            secured_sip_port: port("securedSipPort")?,
            ethernet_phone_port: port("ethernetPhonePort")?,
        });
    }
    list.sort_by_key(|m| m.priority);
    Ok(list)
}

fn tvs_members(root: Node<'_, '_>) -> Result<Vec<TvsEntry>, ConfigError> {
    let Some(members) = child(root, "TVS").and_then(|t| child(t, "members")) else { return Ok(Vec::new()) };
    let mut list = Vec::new();
    for member in children(members, "member").take(MAX_MEMBERS) {
        list.push(TvsEntry {
            priority: priority(member, "TVS/members/member")?,
            address: required(member, "address", "TVS/members/member")?,
            port: number(member, "port")?.unwrap_or(2445),
        });
    }
    list.sort_by_key(|m| m.priority);
    Ok(list)
}

fn capf_list(root: Node<'_, '_>) -> Result<Vec<CapfEntry>, ConfigError> {
    let Some(list) = child(root, "capfList") else { return Ok(Vec::new()) };
    children(list, "capf")
        .take(MAX_MEMBERS)
        .map(|capf| {
            Ok(CapfEntry {
                process_node_name: required(capf, "processNodeName", "capfList/capf")?,
                phone_port: number(capf, "phonePort")?.unwrap_or(3804),
            })
        })
        .collect()
}

fn lines(root: Node<'_, '_>) -> Result<Vec<LineEntry>, ConfigError> {
    let Some(sip_lines) = child(root, "sipProfile").and_then(|p| child(p, "sipLines")) else { return Ok(Vec::new()) };
    let mut list = Vec::new();
    for line in children(sip_lines, "line").take(MAX_LINES) {
        // 9 is a line; speed dials, BLF and service URLs are not registered.
        if number::<u16>(line, "featureID")?.is_some_and(|f| f != 9) {
            continue;
        }
        let button = match line.attribute("button") {
            None => list.len() as u16 + 1,
            Some(b) => b.trim().parse().map_err(|_| bad("sipLines/line", format!("button '{}'", printable(b))))?,
        };
        let Some(name) = text_of(line, "name") else { continue };
        list.push(LineEntry { button, name, display_name: text_of(line, "displayName") });
    }
    list.sort_by_key(|l| l.button);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// phone-boot.md §2.1, with the `…` placeholders filled in.
    const SKELETON: &str = r#"<device>
  <fullConfig>true</fullConfig>
  <deviceProtocol>SIP</deviceProtocol>
  <sshUserId>admin</sshUserId><sshPassword>secret</sshPassword>
  <ipAddressMode>0</ipAddressMode>
  <devicePool>
    <name>Default</name>
    <dateTimeSetting><name>CMLocal</name><dateTemplate>D/M/Y</dateTemplate>
      <timeZone>GMT Standard/Daylight Time</timeZone><olsonTimeZone>Europe/London</olsonTimeZone>
      <ntps><ntp><name>HOST</name><ntpMode>Unicast</ntpMode></ntp></ntps></dateTimeSetting>
    <callManagerGroup><name>Default</name><tftpDefault>true</tftpDefault><members>
      <member priority="1"><callManager><name>cucm-sub</name><description>sub</description>
        <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort>
          <securedSipPort>5061</securedSipPort></ports>
        <processNodeName>10.0.0.2</processNodeName></callManager></member>
      <member priority="0"><callManager><name>cucm-pub</name><description>pub</description>
        <ports><ethernetPhonePort>2000</ethernetPhonePort><sipPort>5060</sipPort>
          <securedSipPort>5061</securedSipPort><mgcpPorts><listen>2427</listen><keepAlive>2428</keepAlive></mgcpPorts></ports>
        <processNodeName>10.0.0.1</processNodeName></callManager></member>
    </members></callManagerGroup>
    <srstInfo><name>Disable</name></srstInfo><connectionMonitorDuration>120</connectionMonitorDuration>
  </devicePool>
  <TVS><members><member priority="0"><port>2445</port><address>10.0.0.1</address></member></members></TVS>
  <sipProfile>
    <sipProxies><registerWithProxy>true</registerWithProxy></sipProxies>
    <sipStack><timerRegisterExpires>3600</timerRegisterExpires><timerRegisterDelta>5</timerRegisterDelta></sipStack>
    <sipLines>
      <line button="2" lineIndex="2"><featureID>9</featureID><featureLabel>2223</featureLabel>
        <proxy>USECALLMANAGER</proxy><port>5060</port><name>2223</name><displayName>Second</displayName></line>
      <line button="1" lineIndex="1"><featureID>9</featureID><featureLabel>2222</featureLabel>
        <proxy>USECALLMANAGER</proxy><port>5060</port><name>2222</name><displayName>Reception</displayName>
        <authName>a</authName><authPassword>p</authPassword><contact>x</contact>
        <sharedLine>false</sharedLine><maxNumCalls>4</maxNumCalls><busyTrigger>2</busyTrigger></line>
      <line button="3"><featureID>2</featureID><name>5555</name></line>
    </sipLines>
    <dialTemplate>dialplan.xml</dialTemplate><softKeyFile>SKdefault.xml</softKeyFile>
  </sipProfile>
  <loadInformation>sip88xx.14-2-1-0001-14</loadInformation>
  <vendorConfig><webAccess>0</webAccess></vendorConfig>
  <versionStamp>1552156347-145cec2d-3b45-430f-acaf-d79657a15c58</versionStamp>
  <userLocale><name>English_United_States</name><uid>1</uid><langCode>en</langCode><version>1</version><winCharSet>utf-8</winCharSet></userLocale>
  <networkLocale>United_States</networkLocale><networkLocaleInfo><name>United_States</name><uid>64</uid><version>1</version></networkLocaleInfo>
  <deviceSecurityMode>3</deviceSecurityMode>
  <transportLayerProtocol>3</transportLayerProtocol>
  <capfAuthMode>2</capfAuthMode>
  <capfList><capf><phonePort>3804</phonePort><processNodeName>10.0.0.1</processNodeName></capf></capfList>
  <certHash></certHash><encrConfig>false</encrConfig><userId>u</userId><phoneServices useHTTPS="true"></phoneServices>
</device>"#;

    #[test]
    fn the_skeleton_reads_as_the_phone_acts_on_it() {
        let c = DeviceConfig::parse(SKELETON.as_bytes()).unwrap();
        assert_eq!(c.protocol, Protocol::Sip);
        assert_eq!(c.security_mode, SecurityMode::Encrypted);
        assert_eq!(c.transport, Transport::Tls);
        assert_eq!(c.capf_auth_mode, CapfAuthMode::NullString);
        assert_eq!(c.capf, vec![CapfEntry { process_node_name: "10.0.0.1".into(), phone_port: 3804 }]);
        assert_eq!(c.tvs, vec![TvsEntry { priority: 0, address: "10.0.0.1".into(), port: 2445 }]);
        let names: Vec<&str> = c.call_managers.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names, ["cucm-pub", "cucm-sub"], "lowest priority first");
        let pub_ = &c.call_managers[0];
        assert_eq!(pub_.process_node_name, "10.0.0.1");
        assert_eq!(
            (pub_.sip_port, pub_.secured_sip_port, pub_.ethernet_phone_port),
            (Some(5060), Some(5061), Some(2000))
        );
        let lines: Vec<(u16, &str, Option<&str>)> =
            c.lines.iter().map(|l| (l.button, l.name.as_str(), l.display_name.as_deref())).collect();
        assert_eq!(lines, [(1, "2222", Some("Reception")), (2, "2223", Some("Second"))], "speed dial 5555 is no line");
        assert_eq!(c.load_information.as_deref(), Some("sip88xx.14-2-1-0001-14"));
        assert_eq!(c.version_stamp.as_deref(), Some("1552156347-145cec2d-3b45-430f-acaf-d79657a15c58"));
    }

    #[test]
    fn a_minimal_file_takes_the_defaults() {
        let c = DeviceConfig::parse(b"<device><deviceProtocol>SCCP</deviceProtocol></device>").unwrap();
        assert_eq!(c.protocol, Protocol::Sccp);
        assert_eq!(c.security_mode, SecurityMode::NonSecure);
        assert_eq!(c.transport, Transport::Tcp);
        assert_eq!(c.capf_auth_mode, CapfAuthMode::None);
        assert!(c.call_managers.is_empty() && c.tvs.is_empty() && c.capf.is_empty() && c.lines.is_empty());
        let c = DeviceConfig::parse(b"<device><deviceSecurityMode>2</deviceSecurityMode></device>").unwrap();
        assert_eq!((c.security_mode, c.transport), (SecurityMode::Authenticated, Transport::Tls));
    }

    #[test]
    fn errors_name_the_element() {
        let err = |xml: &str| DeviceConfig::parse(xml.as_bytes()).unwrap_err().to_string();
        assert!(err("<device><deviceSecurityMode>7</deviceSecurityMode></device>").starts_with("<deviceSecurityMode>"));
        assert!(err("<device><capfAuthMode>x</capfAuthMode></device>").starts_with("<capfAuthMode>"));
        assert!(err("<device><transportLayerProtocol>5</transportLayerProtocol></device>")
            .starts_with("<transportLayerProtocol>"));
        assert!(err("<device><deviceProtocol>H323</deviceProtocol></device>").starts_with("<deviceProtocol>"));
        assert!(err("<device><capfList><capf><phonePort>3804</phonePort></capf></capfList></device>")
            .contains("no <processNodeName>"));
        assert!(err(
            "<device><TVS><members><member><port>99999</port><address>a</address></member></members></TVS></device>"
        )
        .starts_with("<port>"));
        assert_eq!(err("<Default></Default>"), "the root element is <Default>, not <device>");
        assert!(err("<device>").starts_with("the configuration file is not well-formed XML"));
    }

    #[test]
    fn hostile_files_are_refused() {
        let big = vec![b' '; MAX_CONFIG_BYTES + 1];
        assert_eq!(DeviceConfig::parse(&big), Err(ConfigError::TooLarge(MAX_CONFIG_BYTES + 1)));
        assert_eq!(DeviceConfig::parse(&[0xff, 0xfe]), Err(ConfigError::NotText));
        let bomb = r#"<!DOCTYPE d [<!ENTITY a "aaaaaaaaaa">]><device>&a;</device>"#;
        assert!(matches!(DeviceConfig::parse(bomb.as_bytes()), Err(ConfigError::Xml(_))), "no DTD");
        let c = DeviceConfig::parse("<device><loadInformation>\u{1b}[2J</loadInformation></device>".as_bytes());
        assert!(matches!(c, Err(ConfigError::Xml(_))), "XML 1.0 has no control characters");
    }
}
