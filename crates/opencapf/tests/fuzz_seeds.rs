//! The fuzz targets' seed corpora (`fuzz/seeds/TARGET/`), made from what this project really
//! sends and reads: a cluster's ITL, signed and plain configuration files and a phone's console
//! log from a booted phone, a capture of a real TLS registration, the CP-7821 REGISTER shape,
//! SCCP registrations, CAPF sessions, TFTP and TVS requests written by the project's encoders.
//!
//! `cargo test -p opencapf --test suite fuzz_seeds:: -- --ignored` writes them again (keys and
//! certificates are new each time, so the files change); the test that always runs checks that
//! every committed seed is still what its parser reads as valid input, so that a protocol change
//! that would leave the fuzzers starting from junk fails here.

use crate::support;

use std::path::{Path, PathBuf};
use std::time::Duration;

use opencapf_callmanager::sccp;
use opencapf_callmanager::sip;
use opencapf_capf::proto::frame::RawMessage;
use opencapf_capf::proto::message::*;
use opencapf_pki::{KeyAlgorithm, PrivateKey};
use support::{Capture, Lab, Security, LOOPBACK_LISTENERS};

const DEVICE: &str = "SEP001122334455";

fn seeds_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/seeds")
}

/// The seeds of a target, by file name.
fn seeds(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = seeds_dir().join(target);
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| {
            let e = e.unwrap();
            (e.file_name().to_string_lossy().into_owned(), std::fs::read(e.path()).unwrap())
        })
        .collect();
    out.sort();
    assert!(!out.is_empty(), "no seeds for {target}");
    out
}

/// The CAPF messages of the stream seeds, each whole message decoding to a typed one.
fn capf_messages(stream: &[u8]) -> Vec<Message> {
    let mut out = Vec::new();
    let mut rest = stream;
    while !rest.is_empty() {
        let len = 8 + usize::from(u16::from_be_bytes([rest[6], rest[7]]));
        let raw = RawMessage::decode(&rest[..len]).unwrap();
        out.push(Message::decode(&raw).unwrap().message);
        rest = &rest[len..];
    }
    out
}

#[test]
fn every_committed_seed_is_valid_input_for_its_parser() {
    for (name, s) in seeds("capf_stream") {
        assert!(capf_messages(&s[1..]).len() >= 2, "capf_stream/{name}");
    }
    let limits = sip::Limits::default();
    for (name, s) in seeds("sip_message") {
        assert!(sip::parse_datagram(&s, &limits).unwrap().is_some(), "sip_message/{name}");
    }
    for (name, s) in seeds("sip_stream") {
        let text = &s[1..];
        let first = text.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
        let m = sip::parse_datagram(&text[..first], &limits).unwrap().unwrap();
        assert!(m.method().is_some() || m.code().is_some(), "sip_stream/{name}");
    }
    for (name, s) in seeds("sccp") {
        let length = u32::from_le_bytes(s[1..5].try_into().unwrap()) as usize;
        let id = u32::from_le_bytes(s[9..13].try_into().unwrap());
        let data = &s[13..9 + length];
        if id == sccp::id::REGISTER {
            assert_eq!(sccp::RegisterMessage::decode(data).unwrap().device_name, DEVICE, "sccp/{name}");
        }
    }
    for (name, s) in seeds("tftp_packet") {
        assert!(opencapf_tftp::Packet::parse(&s).is_ok(), "tftp_packet/{name}");
    }
    for (name, s) in seeds("tvs_request") {
        let ok = opencapf_tvs::Request::parse(&s).is_ok() || opencapf_tvs::VerifyResponse::parse(&s).is_ok();
        assert!(ok, "tvs_request/{name}");
    }
    for target in ["itl", "phone_itl"] {
        for (name, s) in seeds(target) {
            let itl = opencapf_pki::Itl::parse(&s).unwrap_or_else(|e| panic!("{target}/{name}: {e}"));
            let signer = itl.signer().and_then(|r| r.certificate.clone()).expect("a signer record");
            itl.verify_with(&signer).unwrap();
        }
    }
    for (name, s) in seeds("sgn") {
        assert!(!opencapf_pki::SignedFile::parse(&s).unwrap().content.is_empty(), "sgn/{name}");
    }
    for (name, s) in seeds("device_config") {
        let c = opencapf_phone::DeviceConfig::parse(&s).unwrap_or_else(|e| panic!("device_config/{name}: {e}"));
        assert!(!c.call_managers.is_empty(), "device_config/{name}");
    }
    for (name, s) in seeds("console_log") {
        let r = opencapf_diagnostics::log::analyze(&s[..]);
        assert!(r.lines_recognized > 0, "console_log/{name}");
    }
    for (name, s) in seeds("device_csv") {
        let (devices, problems) = opencapf_cluster::parse_device_csv(&s[..]).unwrap();
        assert!(!devices.is_empty() && problems.is_empty(), "device_csv/{name}: {problems:?}");
    }
    for (name, s) in seeds("config") {
        assert!(opencapf::fuzzing::parse_config(std::str::from_utf8(&s).unwrap()).is_ok(), "config/{name}");
    }
    for (name, s) in seeds("pcap") {
        let report = opencapf_diagnostics::pcap::analyze(&s[..], &Default::default()).unwrap();
        assert!(!report.connections.is_empty(), "pcap/{name}");
    }
    for (name, s) in seeds("client_hello") {
        assert!(opencapf_tls::ClientHelloSummary::parse(&s).is_ok(), "client_hello/{name}");
    }
    for (name, s) in seeds("certificates") {
        let ok =
            opencapf_pki::pem::parse_certificates(&s).is_ok_and(|c| !c.is_empty()) || PrivateKey::from_pem(&s).is_ok();
        assert!(ok, "certificates/{name}");
    }
    for (name, s) in seeds("request") {
        assert!(s.contains(&0), "request/{name}: a query, a NUL, a body");
    }
}

/// Writes `bytes` as `fuzz/seeds/TARGET/NAME`.
fn write(target: &str, name: &str, bytes: &[u8]) {
    let dir = seeds_dir().join(target);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn capf(messages: &[Message]) -> Vec<u8> {
    // The first byte is the stream targets' chunking plan.
    let mut out = vec![0];
    for m in messages {
        out.extend(m.encode(0x0102_0304).unwrap());
    }
    out
}

/// An AuthResponse by authentication string, or by certificate with signatures of the right
/// sizes (not valid ones: the fuzzer explores the checks).
fn auth_response(password: Option<&str>, certificate: Option<CertPackage>) -> Message {
    let signed = certificate.is_some();
    AuthResponse {
        reason: Some(Reason::OK),
        version: 3,
        device_name: DEVICE.into(),
        password: password.map(str::to_owned),
        certificate,
        signed_data_sha1: signed.then(|| vec![0x5a; 256]),
        sha2_signed_data: signed.then(|| SignatureRecord { hash: HashId::Sha512, signature: vec![0xa5; 256] }),
        sudi: None,
    }
    .into()
}

fn capf_seeds(lsc: &[u8], mic: &[u8], public_key: &[u8]) {
    let package = |der: &[u8], kind| CertPackage { cert_type: kind, ..CertPackage::new(der.to_vec()) };
    let install = [
        AuthRequest { version: 3, auth_type: Some(AuthType::Password) }.into(),
        auth_response(Some("20261127"), None),
        KeyGenRequest::new(KeySpec::Ec { curve: Curve::P256 }).into(),
        RequestInProgress.into(),
        KeyGenResponse { reason: Some(Reason::OK), public_key: Some(public_key.to_vec()) }.into(),
        StoreCertificateRequest { cert_type: CertType::Lsc, certificate: package(lsc, CertType::Lsc) }.into(),
        StoreCertificateResponse { reason: Reason::OK }.into(),
        EndSession { reason: Reason::OK }.into(),
    ];
    write("capf_stream", "install_by_auth_string", &capf(&install));
    let by_mic = [
        AuthRequest { version: 3, auth_type: Some(AuthType::Mic) }.into(),
        auth_response(None, Some(package(mic, CertType::Mic))),
        FetchCertificateRequest.into(),
        FetchCertificateResponse { reason: Reason::OK, certificate: Some(package(mic, CertType::Mic)) }.into(),
        DeleteCertificateRequest.into(),
        DeleteCertificateResponse { reason: Reason::OK }.into(),
        EndSession { reason: Reason::OK }.into(),
    ];
    write("capf_stream", "troubleshoot_by_mic", &capf(&by_mic));
}

/// The CP-7821 REGISTER shape (phone-boot.md §3.2, as tests/cisco_sip.rs in callmanager).
fn cp7821_register() -> String {
    let mac = DEVICE[3..].to_ascii_lowercase();
    format!(
        "REGISTER sip:10.10.10.1 SIP/2.0\r\n\
         Via: SIP/2.0/TLS 10.10.20.15:51778;branch=z9hG4bK2ac4b3f6\r\n\
         From: <sip:1001@10.10.10.1>;tag={mac}00020ec1c0e7-6f1d2c53\r\n\
         To: <sip:1001@10.10.10.1>\r\n\
         Call-ID: {mac}-00020001-3d9b7b77-39e7c5e2@10.10.20.15\r\n\
         Max-Forwards: 70\r\n\
         Session-ID: 2b0d0f6c00105000a000{mac};remote=00000000000000000000000000000000\r\n\
         Date: Sat, 09 Mar 2019 18:32:45 GMT\r\n\
         CSeq: 101 REGISTER\r\n\
         User-Agent: Cisco-CP7821/12.1.1\r\n\
         Contact: <sip:7c8e3b0a-9d2f-4e5b-8c1a-2f6d3e4b5a69@10.10.20.15:51778;transport=tls>;\
         +sip.instance=\"<urn:uuid:00000000-0000-0000-0000-{mac}>\";\
         +u.sip!devicename.ccm.cisco.com=\"{DEVICE}\";+u.sip!model.ccm.cisco.com=\"621\"\r\n\
         Supported: replaces,join,sdp-anat,norefersub,resource-priority,extended-refer,X-cisco-callinfo,\
         X-cisco-serviceuri,X-cisco-escapecodes,X-cisco-service-control,X-cisco-srtp-fallback,X-cisco-monrec,\
         X-cisco-config,X-cisco-sis-7.0.0,X-cisco-xsi-8.5.1\r\n\
         Reason: SIP;cause=200;text=\"cisco-alarm:23 Name={DEVICE} Last=reset-restart\"\r\n\
         Expires: 3600\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

fn sip_seeds() {
    let register = cp7821_register();
    write("sip_message", "cp7821_register", register.as_bytes());
    let req = sip::parse_datagram(register.as_bytes(), &sip::Limits::default()).unwrap().unwrap();
    let mut ok = sip::response_to(&req, 200, "OK", "a1b2");
    ok.push("Expires", "3600");
    ok.push("Contact", "<sip:7c8e3b0a@10.10.20.15:51778;transport=tls>;expires=3600;x-cisco-newreg");
    write("sip_message", "register_200_ok", &ok.to_bytes());
    let mut options = sip::Message::request("OPTIONS", "sip:10.10.10.1");
    options.push("Via", "SIP/2.0/UDP 10.10.20.15:5060;branch=z9hG4bK1").push("From", "<sip:1001@10.10.10.1>;tag=1");
    options.push("To", "<sip:10.10.10.1>").push("Call-ID", "1@10.10.20.15").push("CSeq", "1 OPTIONS");
    write("sip_message", "options", &options.to_bytes());
    // A stream: the REGISTER, a CRLF CRLF keepalive, the phone's own REGISTER form again.
    let mut stream = vec![3u8];
    stream.extend_from_slice(register.as_bytes());
    stream.extend_from_slice(b"\r\n\r\n");
    stream.extend_from_slice(support::register_request(DEVICE).as_bytes());
    write("sip_stream", "register_ping_register", &stream);
}

fn sccp_seeds() {
    let mut register = sccp::RegisterMessage::new(DEVICE);
    register.ip = [10, 10, 20, 15].into();
    register.device_type = 30018;
    register.mac = [0x00, 0x11, 0x22, 0x33, 0x44, 0x55];
    register.firmware = "SCCP78xx.12-1-1-12".into();
    let mut stream = vec![5u8];
    stream.extend(register.frame().encode());
    stream.extend(sccp::keepalive().encode());
    stream.extend(sccp::LineStatReq { line: 1 }.frame().encode());
    stream.extend(sccp::RegisterAvailableLines { max_lines: 2 }.frame().encode());
    stream.extend(sccp::unregister().encode());
    write("sccp", "register_then_unregister", &stream);
    let mut short = vec![1u8];
    short.extend(sccp::Frame::new(sccp::id::REGISTER, register.encode()[..36].to_vec()).encode());
    write("sccp", "register_short_form", &short);
}

fn tftp_seeds() {
    use opencapf_tftp::{Mode, Packet, Request};
    let options = |o: &[(&str, &str)]| o.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let rrq = |name: &str, mode, o| Packet::Rrq(Request { filename: name.into(), mode, options: o });
    let itl = rrq("ITLFile.tlv", Mode::Octet, options(&[("blksize", "1428"), ("tsize", "0"), ("timeout", "3")]));
    write("tftp_packet", "rrq_itl_options", &itl.encode());
    write("tftp_packet", "rrq_config_netascii", &rrq("SEP001122334455.cnf.xml.sgn", Mode::Netascii, vec![]).encode());
    write(
        "tftp_packet",
        "oack",
        &Packet::Oack { options: options(&[("blksize", "1428"), ("tsize", "4242")]) }.encode(),
    );
    write("tftp_packet", "data", &Packet::Data { block: 1, data: b"<device>".to_vec() }.encode());
    write("tftp_packet", "error", &Packet::Error { code: 1, message: "File not found".into() }.encode());
}

fn tvs_seeds(lsc: &[u8]) {
    use opencapf_tvs::{Answer, VerifyRequest, VerifyResponse};
    let req = VerifyRequest { session: 7, device_name: format!("CP-8861-{DEVICE}"), certificate: lsc.to_vec() };
    write("tvs_request", "verify_request", &req.encode().unwrap());
    let answer = Answer::Valid { roles: vec![opencapf_pki::Role::Sast, opencapf_pki::Role::Tftp], ttl: 86400 };
    write("tvs_request", "verify_response", &VerifyResponse { session: 7, answer }.encode());
}

/// A TLS ClientHello record as rustls (with aws-lc) sends it to a CallManager.
fn rustls_client_hello() -> Vec<u8> {
    let provider = std::sync::Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(rustls::RootCertStore::empty())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("cucm-pub.lab").unwrap();
    let mut conn = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut out = Vec::new();
    conn.write_tls(&mut out).unwrap();
    out
}

/// The seeds that need a running cluster: a booted phone's ITL, configuration and console log,
/// the signed configuration file, a capture of its TLS registration.
fn cluster_seeds(out: &Path) {
    let mut lab = Lab::new("cucm-pub.lab");
    let mut flags = LOOPBACK_LISTENERS.to_vec();
    flags.push(("--advertise", "127.0.0.1"));
    lab.serve_on(&flags);
    lab.add_device(DEVICE, "sip", Security::Authenticated);
    lab.trust_manufacturer("CAPF-trust");
    lab.schedule(DEVICE, "install", "mic");
    let dir = lab.path("phone");
    lab.ok(&["phone", "init", dir.to_str().unwrap(), "--name", DEVICE, "--factory"]);
    let a = lab.addrs();
    let capture = Capture::start(&format!("tcp port {}", a.sip_tls.port()), out.join("register.pcapng"));
    let (http, tftp) = (a.http.port().to_string(), a.tftp.port().to_string());
    lab.ok(&[
        "phone",
        "boot",
        dir.to_str().unwrap(),
        "--server",
        "127.0.0.1",
        "--http-port",
        &http,
        "--tftp-port",
        &tftp,
    ]);
    capture.stop();
    let itl = std::fs::read(dir.join(opencapf_phone::files::ITL)).unwrap();
    write("itl", "cluster_itl", &itl);
    write("phone_itl", "cluster_itl", &itl);
    write("device_config", "cluster_config", &std::fs::read(dir.join(opencapf_phone::files::CONFIG)).unwrap());
    write("console_log", "phone_boot", &std::fs::read(dir.join(opencapf_phone::files::CONSOLE_LOG)).unwrap());
    write("pcap", "sip_tls_registration", &std::fs::read(out.join("register.pcapng")).unwrap());
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let name = format!("{DEVICE}.cnf.xml.sgn");
    let sgn = rt.block_on(opencapf_tftp::http_get(&a.http.to_string(), &name, Duration::from_secs(10))).unwrap();
    write("sgn", "cluster_config_sgn", &sgn);
    let lsc = std::fs::read(dir.join(opencapf_phone::files::LSC_PEM)).unwrap();
    let lsc_der = opencapf_pki::pem::parse_certificates(&lsc).unwrap().remove(0);
    let mic = std::fs::read(dir.join(opencapf_phone::files::MIC_PEM)).unwrap();
    let mic_der = opencapf_pki::pem::parse_certificates(&mic).unwrap().remove(0);
    write("certificates", "phone_lsc_pem", &lsc);
    write("certificates", "phone_mic_key_pem", &std::fs::read(dir.join(opencapf_phone::files::MIC_KEY)).unwrap());
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    capf_seeds(&lsc_der, &mic_der, key.public_key_der());
    tvs_seeds(&lsc_der);
    write("config", "example", lab.ok(&["config", "example"]).as_bytes());
}

#[test]
#[ignore = "writes fuzz/seeds: run it by hand after a protocol change"]
fn write_fuzz_seeds() {
    let scratch = tempfile::tempdir().unwrap();
    cluster_seeds(scratch.path());
    sip_seeds();
    sccp_seeds();
    tftp_seeds();
    write("client_hello", "rustls", &rustls_client_hello());
    write(
        "device_csv",
        "opencapf_columns",
        b"name,model,protocol,security,description,lines\n\
          SEP001122334455,CP-8861,SIP,Encrypted,Lobby,1001;1002\n\
          SEP0011223344AA,CP-7821,SCCP,Authenticated,,2001\n",
    );
    write(
        "device_csv",
        "bat_export",
        b"DEVICE NAME,DESCRIPTION,DEVICE TYPE,DEVICE PROTOCOL,DIRECTORY NUMBER 1\n\
          SEP001122334455,Lobby,Cisco 8861,SIP,1001\n",
    );
    write("request", "search_and_bulk", b"name=SEP00&model=CP-8861&lsc=expiring&page=2&per_page=50\0{\"filter\":{\"name\":\"SEP00\"},\"capf\":{\"operation\":\"install\",\"auth_mode\":\"string\",\"auth_string\":\"1234\"}}");
}
