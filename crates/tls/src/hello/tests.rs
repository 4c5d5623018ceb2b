use super::*;

/// A ClientHello record: `version` in the hello, `suites`, and `supported_versions` when given.
fn hello(record_version: u16, version: u16, suites: &[u16], supported: Option<&[u16]>) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend([7u8; 32]);
    body.push(0); // session id
    body.extend(((suites.len() * 2) as u16).to_be_bytes());
    suites.iter().for_each(|s| body.extend(s.to_be_bytes()));
    body.extend([1, 0]); // null compression
    if let Some(versions) = supported {
        let mut ext = vec![0x00, 0x2b];
        ext.extend(((versions.len() * 2 + 1) as u16).to_be_bytes());
        ext.push((versions.len() * 2) as u8);
        versions.iter().for_each(|v| ext.extend(v.to_be_bytes()));
        ext.extend([0xff, 0x01, 0x00, 0x01, 0x00]); // renegotiation_info
        body.extend((ext.len() as u16).to_be_bytes());
        body.extend(ext);
    }
    let mut msg = vec![1];
    msg.extend(&(body.len() as u32).to_be_bytes()[1..]);
    msg.extend(body);
    let mut record = vec![22];
    record.extend(record_version.to_be_bytes());
    record.extend((msg.len() as u16).to_be_bytes());
    record.extend(msg);
    record
}

#[test]
fn a_tls10_hello_offers_tls10_only() {
    let h = ClientHelloSummary::parse(&hello(0x0301, 0x0301, &[0x0035, 0x002f], None)).unwrap();
    assert_eq!(h.record_version, 0x0301);
    assert_eq!(h.legacy_version, 0x0301);
    assert_eq!(h.cipher_suites, vec![0x0035, 0x002f]);
    assert_eq!(h.compression_methods, vec![0]);
    assert!(h.supported_versions.is_empty());
    assert_eq!(h.offered_versions(), vec![0x0301]);
}

#[test]
fn a_tls12_hello_offers_every_version_up_to_12() {
    let h = ClientHelloSummary::parse(&hello(0x0301, 0x0303, &[0x0002], None)).unwrap();
    assert_eq!(h.offered_versions(), vec![0x0301, 0x0302, 0x0303]);
}

#[test]
fn supported_versions_replace_client_version_and_lose_grease() {
    let bytes = hello(0x0301, 0x0303, &[0x1301], Some(&[0x3a3a, 0x0304, 0x0303]));
    let h = ClientHelloSummary::parse(&bytes).unwrap();
    assert_eq!(h.supported_versions, vec![0x0304, 0x0303]);
    assert_eq!(h.offered_versions(), vec![0x0303, 0x0304]);
    assert_eq!(h.extensions, vec![0x002b, 0xff01]);
}

#[test]
fn every_truncation_is_truncated() {
    let bytes = hello(0x0301, 0x0301, &[0x002f], None);
    for n in 0..bytes.len() {
        let err = ClientHelloSummary::parse(&bytes[..n]).unwrap_err();
        assert!(matches!(err, HelloError::Truncated), "{n}: {err:?}");
    }
}

#[test]
fn hostile_first_bytes_are_typed_errors() {
    // SSLv2 ClientHello: 2-byte length with the top bit, type 1, version 3.1.
    assert_eq!(ClientHelloSummary::parse(&[0x80, 0x2e, 0x01, 0x03, 0x01, 0, 0x15]), Err(HelloError::Sslv2));
    assert_eq!(ClientHelloSummary::parse(b"GET / HTTP/1.1\r\n"), Err(HelloError::NotTls(b'G')));
    assert_eq!(ClientHelloSummary::parse(&[0x55, 0x01]), Err(HelloError::NotTls(0x55)));
    assert_eq!(ClientHelloSummary::parse(&[22, 3, 1, 0xff, 0xff]), Err(HelloError::Oversize(65535)));
    assert_eq!(ClientHelloSummary::parse(&[22, 3, 1, 0, 4, 2, 0, 0, 0]), Err(HelloError::NotClientHello(2)));
    // A handshake header that claims more than the record holds.
    assert_eq!(ClientHelloSummary::parse(&[22, 3, 1, 0, 4, 1, 0, 1, 0]), Err(HelloError::Fragmented));
    assert_eq!(ClientHelloSummary::parse(&[22, 3, 1, 0, 2, 1, 0]), Err(HelloError::Fragmented));
    // A body too short for a ClientHello.
    assert_eq!(ClientHelloSummary::parse(&[22, 3, 1, 0, 6, 1, 0, 0, 2, 3, 1]), Err(HelloError::Malformed));
}

#[test]
fn grease_values() {
    assert!(is_grease(0x0a0a) && is_grease(0xfafa));
    assert!(!is_grease(0x0a1a) && !is_grease(0x002f));
}
