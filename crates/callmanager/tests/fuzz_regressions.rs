//! Inputs the fuzz targets (`fuzz/`, `scripts/fuzz.sh`) found, kept as tests.

use opencapf_callmanager::sccp::{MessageError, RegisterMessage, DEVICE_NAME_LEN};

/// The `sccp` target's RegisterMessage with a 16-byte device name and no NUL: it decoded to a
/// 16-character name that encoding then cut to 15, so the phone's name and the one answered
/// differed. The field is a C string: 15 characters and their NUL at most.
#[test]
fn a_register_message_whose_name_fills_its_field_without_a_nul_is_refused() {
    let mut data = RegisterMessage::new("SEP001122334455").encode();
    data[..DEVICE_NAME_LEN].copy_from_slice(b"SEP00112233445;5");
    assert_eq!(
        RegisterMessage::decode(&data),
        Err(MessageError::Unterminated { message: "RegisterMessage", field: "device name", size: DEVICE_NAME_LEN })
    );
    // The short form (36 bytes) is read the same way.
    assert!(matches!(RegisterMessage::decode(&data[..36]), Err(MessageError::Unterminated { .. })));
    // 15 characters and the NUL: read, and written back the same.
    let name = "SEP00112233445A";
    let m = RegisterMessage::decode(&RegisterMessage::new(name).encode()).unwrap();
    assert_eq!(m.device_name, name);
    assert_eq!(RegisterMessage::decode(&m.encode()).unwrap(), m);
}

/// The `sip_stream` and `sip_headers` targets' folded headers: an empty value continued on the
/// next line read as " SIP/2.0/TLS …" (a leading space), and a blank continuation line added a
/// trailing one, so a message written back did not read the same. Folding joins the non-empty
/// parts with one space.
#[test]
fn a_folded_header_reads_the_same_once_written_back() {
    use opencapf_callmanager::sip::{parse_datagram, Limits};
    let read = |text: &str| parse_datagram(text.as_bytes(), &Limits::default()).unwrap().unwrap();
    let m = read("REGISTER sip:10.10.10.1 SIP/2.0\r\nVia:\r\n SIP/2.0/TLS 10.10.20.15:5061;branch 0\r\nTo: <sip:1001@x>\r\n \t\r\n\r\n");
    assert_eq!(m.header("Via"), Some("SIP/2.0/TLS 10.10.20.15:5061;branch 0"));
    assert_eq!(m.header("To"), Some("<sip:1001@x>"));
    // Written back (with its Content-Length), it reads the same and writes the same bytes.
    let again = parse_datagram(&m.to_bytes(), &Limits::default()).unwrap().unwrap();
    assert_eq!(again.header("Via"), m.header("Via"));
    assert_eq!(again.to_bytes(), m.to_bytes());
    // An ordinary fold still joins with one space.
    assert_eq!(read("OPTIONS sip:x SIP/2.0\r\nSupported: a,\r\n  b\r\n\r\n").header("Supported"), Some("a, b"));
}
