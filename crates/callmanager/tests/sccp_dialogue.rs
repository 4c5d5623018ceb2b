//! A 7945-style SCCP phone walks the dialogue to its idle screen (phone-boot.md §4.4): every
//! answer is checked field by field, and tshark's skinny dissector, reading a capture of the
//! whole exchange, decodes every message without a malformed packet.

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{read_sccp, Cluster};
use opencapf_callmanager::sccp::{self, id, Button, ButtonDefinition, Frame};
use opencapf_model::{NewDevice, Protocol, SecurityMode};
use opencapf_testkit as testkit;
use time::OffsetDateTime;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const NAME: &str = "SEP00000000B945";
/// The CUCM model number of the 7945 (phone-boot.md §0).
const DEVICE_TYPE_7945: u32 = 435;
/// The protocol version a 7945 on SCCP 9.x firmware announces [U: 7945 loads of the 9.x era
/// announce a version from 17 on, which takes V17 headers].
const PROTOCOL: u8 = 20;
const V17: u32 = 0x11;

/// tshark writing a capture of loopback traffic on one port.
struct Capture {
    child: Child,
    file: PathBuf,
}

impl Capture {
    fn start(port: u16, file: PathBuf) -> Capture {
        let log = std::fs::File::create(file.with_extension("log")).unwrap();
        let child = Command::new("tshark")
            .args(["-i", "lo", "-f", &format!("tcp port {port}"), "-w"])
            .arg(&file)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("tshark is installed (Debian package tshark)");
        // Live once dumpcap has written the file's header.
        let until = Instant::now() + Duration::from_secs(20);
        while std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0) == 0 {
            assert!(Instant::now() < until, "tshark did not start capturing");
            std::thread::sleep(Duration::from_millis(50));
        }
        std::thread::sleep(Duration::from_millis(200));
        Capture { child, file }
    }

    /// Lets the last segments in, then stops tshark as Ctrl-C would.
    fn stop(mut self) -> PathBuf {
        std::thread::sleep(Duration::from_millis(500));
        let _ = Command::new("kill").arg("-INT").arg(self.child.id().to_string()).status();
        self.child.wait().unwrap();
        self.file.clone()
    }
}

/// The skinny message ids tshark decodes, in order, and its rows as text.
fn decoded(capture: &Path, port: u16) -> (Vec<u32>, String) {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-d", &format!("tcp.port=={port},skinny"), "-Y", "skinny", "-T", "fields"])
        .args(["-e", "skinny.messageId", "-e", "_ws.col.Info"])
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let ids = text
        .lines()
        .flat_map(|l| l.split('\t').next().unwrap_or("").split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|s| !s.is_empty())
        .map(|s| s.trim().parse::<u32>().unwrap_or_else(|_| panic!("message id {s}:\n{text}")))
        .collect();
    (ids, text)
}

/// Packets tshark calls malformed, or flags as errors.
fn malformed(capture: &Path, port: u16) -> String {
    let out = Command::new("tshark")
        .arg("-r")
        .arg(capture)
        .args(["-d", &format!("tcp.port=={port},skinny"), "-Y", "_ws.malformed || _ws.expert.severity == error"])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

async fn send(s: &mut TcpStream, f: Frame) {
    s.write_all(&f.encode()).await.unwrap();
}

/// The next frame, with the id and header version expected.
async fn expect(s: &mut TcpStream, message: u32, version: u32) -> Frame {
    let f = read_sccp(s).await.unwrap();
    assert_eq!(
        (f.id, f.version),
        (message, version),
        "{} instead of {}",
        sccp::message_name(f.id),
        sccp::message_name(message)
    );
    f
}

/// The requests a 7945 sends after RegisterAck, with its header version.
fn req(message: u32) -> Frame {
    sccp::request(message).with_version(V17)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_7945_reaches_its_idle_screen_and_tshark_decodes_every_message() {
    let c = Cluster::new().await;
    let device = NewDevice {
        model: "CP-7945".into(),
        protocol: Protocol::Sccp,
        security_mode: SecurityMode::NonSecure,
        lines: vec!["2222".parse().unwrap(), "2223".parse().unwrap()],
        ..testkit::new_device(NAME)
    };
    testkit::add_device(&c.store, device).await;
    let server = c.start().await;
    let addr = server.addrs.sccp_tcp.unwrap();
    let capture = Capture::start(addr.port(), c.dir.path().join("sccp-dialogue.pcapng"));

    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut register = sccp::RegisterMessage::new(NAME);
    register.ip = std::net::Ipv4Addr::LOCALHOST;
    register.device_type = DEVICE_TYPE_7945;
    register.protocol_version = PROTOCOL;
    register.max_lines = 2;
    register.mac = [0, 0, 0, 0, 0xb9, 0x45];
    register.firmware = "SCCP45.9-4-2SR3-1S".into();
    send(&mut s, register.frame()).await;

    // RegisterAck (Basic header), then CapabilitiesReq (V17, empty).
    let ack = sccp::RegisterAck::decode(&expect(&mut s, id::REGISTER_ACK, 0).await.data).unwrap();
    assert_eq!(
        ack,
        sccp::RegisterAck {
            keepalive_interval: 30,
            date_template: "M/D/YA".into(),
            secondary_keepalive_interval: 30,
            max_protocol_version: PROTOCOL,
            phone_features: 0,
        }
    );
    assert!(expect(&mut s, id::CAPABILITIES_REQ, V17).await.data.is_empty());

    // IpPort and CapabilitiesRes get no answer.
    send(&mut s, Frame::new(id::IP_PORT, 20000u32.to_le_bytes().to_vec()).with_version(V17)).await;
    let caps = [(4, 40), (2, 40), (11, 60), (257, 0)]
        .map(|(payload, frames)| sccp::Capability { payload, max_frames_per_packet: frames });
    send(&mut s, sccp::Capabilities { caps: caps.to_vec() }.frame().with_version(V17)).await;

    // ButtonTemplate: one line button per directory number.
    send(&mut s, req(id::BUTTON_TEMPLATE_REQ)).await;
    let f = expect(&mut s, id::BUTTON_TEMPLATE, V17).await;
    assert_eq!(f.data.len(), 96);
    let line = |instance| Button { instance, definition: ButtonDefinition::Line };
    assert_eq!(
        sccp::ButtonTemplate::decode(&f.data).unwrap(),
        sccp::ButtonTemplate { offset: 0, total: 2, buttons: vec![line(1), line(2)] }
    );
    assert!(f.data[16..].iter().all(|b| *b == 0), "unused buttons are zero");

    // SoftKeyTemplateRes.
    send(&mut s, req(id::SOFT_KEY_TEMPLATE_REQ)).await;
    let f = expect(&mut s, id::SOFT_KEY_TEMPLATE_RES, V17).await;
    let t = sccp::SoftKeyTemplate::decode(&f.data).unwrap();
    assert_eq!((t.offset, t.total, t.keys.len()), (0, 18, 18));
    assert_eq!((t.keys[0].label.as_str(), t.keys[0].event), ("Redial", 1));
    assert_eq!((t.keys[8].label.as_str(), t.keys[8].event), ("EndCall", 9));
    assert_eq!((t.keys[10].label.as_str(), t.keys[10].event), ("Answer", 11));
    assert_eq!(t, sccp::SoftKeyTemplate::standard());

    // SoftKeySetRes, then SelectSoftKeys for the idle screen.
    send(&mut s, req(id::SOFT_KEY_SET_REQ)).await;
    let f = expect(&mut s, id::SOFT_KEY_SET_RES, V17).await;
    let sets = sccp::SoftKeySets::decode(&f.data).unwrap();
    assert_eq!((sets.offset, sets.total, sets.sets.len()), (0, 11, 11));
    assert_eq!(sets.sets[0].keys(), [1, 2, 5, 17, 18], "OnHook: Redial NewCall CFwdAll PickUp GPickUp");
    assert_eq!(sets.sets[3].keys(), [11], "RingIn: Answer");
    assert_eq!(sets.sets[0].info_index[..5], [1, 2, 5, 17, 18]);
    let select = sccp::SelectSoftKeys::decode(&expect(&mut s, id::SELECT_SOFT_KEYS, V17).await.data).unwrap();
    assert_eq!(select, sccp::SelectSoftKeys::on_hook());
    assert_eq!((select.line_instance, select.call_reference, select.soft_key_set), (0, 0, 0));

    // ConfigStat.
    send(&mut s, req(id::CONFIG_STAT_REQ)).await;
    let f = expect(&mut s, id::CONFIG_STAT, V17).await;
    assert_eq!(
        sccp::ConfigStat::decode(&f.data).unwrap(),
        sccp::ConfigStat {
            device_name: NAME.into(),
            station_user_id: 0,
            instance: 1,
            user_name: String::new(),
            server_name: "cucm.lab".into(),
            lines: 2,
            speed_dials: 0,
        }
    );

    // LineStat for each line button, then one the device does not have.
    for (n, dn) in [(1, "2222"), (2, "2223"), (3, "")] {
        send(&mut s, sccp::LineStatReq { line: n }.frame().with_version(V17)).await;
        let f = expect(&mut s, id::LINE_STAT, V17).await;
        assert_eq!(f.data.len(), 112);
        let l = sccp::LineStat::decode(&f.data).unwrap();
        assert_eq!((l.line, l.dir_number.as_str(), l.display_name.as_str(), l.label.as_str()), (n, dn, dn, ""));
        assert_eq!(l.display_options, if dn.is_empty() { 0 } else { 0x0F });
    }

    // RegisterAvailableLines gets no answer; TimeDateReq gets the time.
    send(&mut s, sccp::RegisterAvailableLines { max_lines: 2 }.frame().with_version(V17)).await;
    send(&mut s, req(id::TIME_DATE_REQ)).await;
    let now = OffsetDateTime::now_utc();
    let t = sccp::DefineTimeDate::decode(&expect(&mut s, id::DEFINE_TIME_DATE, V17).await.data).unwrap();
    assert!((i64::from(t.system_time) - now.unix_timestamp()).abs() <= 5, "{t:?}");
    let sent = OffsetDateTime::from_unix_timestamp(i64::from(t.system_time)).unwrap();
    assert_eq!(
        (t.year, t.month, t.day),
        (sent.year() as u32, u32::from(u8::from(sent.month())), u32::from(sent.day()))
    );
    assert_eq!(t.day_of_week, u32::from(sent.weekday().number_days_from_sunday()));
    assert_eq!(
        (t.hour, t.minute, t.second),
        (u32::from(sent.hour()), u32::from(sent.minute()), u32::from(sent.second()))
    );
    assert!(t.milliseconds < 1000);

    // Idle: keepalive, then the phone unregisters.
    send(&mut s, sccp::keepalive()).await;
    expect(&mut s, id::KEEP_ALIVE_ACK, 0).await;
    send(&mut s, sccp::unregister()).await;
    let bye = expect(&mut s, id::UNREGISTER_ACK, 0).await;
    assert_eq!(bye.data, [0, 0, 0, 0]);
    drop(s);

    let file = capture.stop();
    let port = addr.port();
    let (ids, text) = decoded(&file, port);
    let expected = [
        id::REGISTER,
        id::REGISTER_ACK,
        id::CAPABILITIES_REQ,
        id::IP_PORT,
        id::CAPABILITIES_RES,
        id::BUTTON_TEMPLATE_REQ,
        id::BUTTON_TEMPLATE,
        id::SOFT_KEY_TEMPLATE_REQ,
        id::SOFT_KEY_TEMPLATE_RES,
        id::SOFT_KEY_SET_REQ,
        id::SOFT_KEY_SET_RES,
        id::SELECT_SOFT_KEYS,
        id::CONFIG_STAT_REQ,
        id::CONFIG_STAT,
        id::LINE_STAT_REQ,
        id::LINE_STAT,
        id::LINE_STAT_REQ,
        id::LINE_STAT,
        id::LINE_STAT_REQ,
        id::LINE_STAT,
        id::REGISTER_AVAILABLE_LINES,
        id::TIME_DATE_REQ,
        id::DEFINE_TIME_DATE,
        id::KEEP_ALIVE,
        id::KEEP_ALIVE_ACK,
        id::UNREGISTER,
        id::UNREGISTER_ACK,
    ];
    assert_eq!(ids, expected, "tshark decoded:\n{text}");
    assert!(!text.contains("Malformed"), "{text}");
    let bad = malformed(&file, port);
    assert!(bad.is_empty(), "malformed or erroneous packets:\n{bad}");
    server.stop().await;
}
