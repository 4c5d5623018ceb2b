//! `diagnose log` on the seed's console lines verbatim, the reference's other lines, and broken input.

use crate::common;

use opencapf_diagnostics::log::{self, LogEvent, LogReport};
use opencapf_diagnostics::Severity;

fn run(text: &str) -> LogReport {
    log::analyze(text.as_bytes())
}

fn codes(r: &LogReport) -> Vec<&str> {
    r.findings.iter().map(|f| f.code.as_str()).collect()
}

/// domain.md's English lines (rules 1 and 2), verbatim.
const DOMAIN_LINES: &str = "SECD: -PXY_NO_LSC: No LSC for [SCCP], will try MIC
SECD: -PXY_CERT_CIPHER: [SCCP], [TLSv1], cert [LSC], cipher [AES256-SHA:AES128-SHA]
SECD: -STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA]
";

#[test]
fn domain_lines_give_the_findings_in_order() {
    let r = run(DOMAIN_LINES);
    assert_eq!(r.lines_read, 3);
    assert_eq!(r.lines_recognized, 3);
    assert!(r.malformed.is_empty());
    assert_eq!(
        r.events[1].event,
        LogEvent::CertCipher {
            protocol: "SCCP".into(),
            tls_version: "TLSv1".into(),
            certificate: "LSC".into(),
            ciphers: vec!["AES256-SHA".into(), "AES128-SHA".into()],
        }
    );
    assert_eq!(codes(&r), ["phone-certificate", "mic-fallback", "unknown-ca"]);
    assert_eq!(
        r.findings[0].title,
        "The phone uses its LSC for SCCP over TLSv1, ciphers AES256-SHA:AES128-SHA (line 2)"
    );
    assert!(r.findings[1].title.contains("falls back to its MIC for SCCP"));
    let alert = &r.findings[2];
    assert_eq!(alert.severity, Severity::Error);
    assert!(alert.detail.contains("another cluster") && alert.detail.contains("removed from CallManager-trust"));
    let remedy = alert.remedy.join("\n");
    assert!(remedy.contains("rule 5") && remedy.contains("Non Secure") && remedy.contains("MIC"), "{remedy}");
    assert!(remedy.contains("rule 9") && remedy.contains("opencapf capf reissue"), "{remedy}");
    assert!(remedy.contains("rule 6"), "{remedy}");
    assert_eq!(r.summary.errors, 1);
}

#[test]
fn the_french_seed_file_verbatim() {
    let seed = std::fs::read_to_string(common::shared().join("seed/000_97626ba51d4b1a35.txt")).unwrap();
    let r = run(&seed);
    assert!(r.malformed.is_empty(), "{:?}", r.malformed);
    let events: Vec<&LogEvent> = r.events.iter().map(|e| &e.event).collect();
    let no_lsc = events.iter().filter(|e| matches!(e, LogEvent::NoLsc { protocol } if protocol == "SCCP")).count();
    assert_eq!(no_lsc, 2, "{events:#?}");
    // `3469 PAS 00:01:31.935298 DPE : -PXY_CERT_CIPHER : [SCCP], [TLSv1], cert [LSC],` wraps onto
    // `chiffrement [AES256-SHA:AES128-SHA]`.
    assert!(events.contains(&&LogEvent::CertCipher {
        protocol: "SCCP".into(),
        tls_version: "TLSv1".into(),
        certificate: "LSC".into(),
        ciphers: vec!["AES256-SHA".into(), "AES128-SHA".into()],
    }));
    // `… Alerte SSL3 [read] : [fatal] : [CA` wraps onto `inconnue]`.
    let alert = r.events.iter().find(|e| matches!(e.event, LogEvent::Ssl3Alert { .. })).unwrap();
    assert_eq!(
        alert.event,
        LogEvent::Ssl3Alert { direction: "read".into(), level: "fatal".into(), description: "unknown CA".into() }
    );
    assert_eq!(alert.level.as_deref(), Some("ERR"));
    assert_eq!(alert.time.as_deref(), Some("00:01:31.938954"));
    let c = codes(&r);
    let pos = |code: &str| c.iter().position(|x| *x == code).unwrap();
    assert!(pos("phone-certificate") < pos("mic-fallback") && pos("mic-fallback") < pos("unknown-ca"), "{c:?}");
}

#[test]
fn domain_md_itself_is_read_as_a_log() {
    let text = std::fs::read_to_string(common::shared().join("docs/domain.md")).unwrap();
    let r = run(&text);
    assert_eq!(codes(&r)[..3], ["phone-certificate", "mic-fallback", "unknown-ca"]);
}

#[test]
fn reference_lines_secureapp_trust_list_tvs_and_reason_14() {
    let text = "\
1201 NOT 10:00:01.000001 SECUREAPP-SSL session setup - cert len=785, type=LSC
1202 NOT 10:00:01.000002 SECUREAPP-Certificate subject name = /serialNumber=PID:CP-8861 SN:FCH18198CNQ/C=AU/O=stormin/OU=IST/CN=CP-8861-SEPB000B4BA0AEE
1203 NOT 10:00:01.000003 SECUREAPP-Certificate issuer name = /C=AU/O=stormin/OU=IST/CN=CAPF-a7fb32bf/ST=NSQ/L=Sydney
1204 ERR 10:00:01.000004 SECUREAPP-No match found in trust list against the item
1205 ERR 10:00:01.000005 JAVA-Sec SSL Connection - Handshake failed.
1206 NOT 10:00:01.000006 SECUREAPP-Hashes match... authentication successful.
1207 NOT 10:00:01.000007 SECUREAPP-TL file verified successfully.
1208 NOT 10:00:01.000008 SECUREAPP-TVS added cert to TVS cache - expires in 24 hours
1209 NOT 10:00:01.000009 dgetfile: src=ITLSEP2C3124C9F8E1.tlv
1210 ERR 10:00:02.000000 invalid file SEP2C3124C9F8E1.cnf.xml.sgn, authenticated fail. Reason:14
ERR ... SECD: -STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA
";
    let r = run(text);
    assert!(r.malformed.is_empty(), "{:?}", r.malformed);
    assert_eq!(r.lines_recognized, 11);
    assert!(r
        .events
        .iter()
        .any(|e| e.event == LogEvent::SessionSetup { cert_len: Some(785), certificate: "LSC".into() }));
    assert!(r.events.iter().any(|e| matches!(&e.event, LogEvent::CertificateIssuer { kind, .. } if kind == "LSC")));
    assert!(r
        .events
        .iter()
        .any(|e| e.event == LogEvent::ConfigRejected { file: Some("SEP2C3124C9F8E1.cnf.xml.sgn".into()), reason: 14 }));
    // The reference's truncated alert line (no closing bracket) is still read.
    assert!(r
        .events
        .iter()
        .any(|e| matches!(&e.event, LogEvent::Ssl3Alert { description, .. } if description == "unknown CA")));
    let c = codes(&r);
    for code in [
        "phone-certificate",
        "certificate-issuer",
        "unknown-ca",
        "trust-list-no-match",
        "config-file-rejected",
        "tls-handshake-failed",
        "trust-list-verified",
        "tvs-cached",
        "trust-list-download",
    ] {
        assert!(c.contains(&code), "{code} missing from {c:?}");
    }
    // The session used the LSC: the unknown CA finding gives the LSC causes.
    let unknown = r.findings.iter().find(|f| f.code == "unknown-ca").unwrap();
    assert!(unknown.detail.contains("its LSC"), "{}", unknown.detail);
    let reason14 = r.findings.iter().find(|f| f.code == "config-file-rejected").unwrap();
    assert!(reason14.detail.contains("another cluster"));
    assert!(c.iter().position(|x| *x == "unknown-ca") < c.iter().position(|x| *x == "trust-list-no-match"));
}

#[test]
fn a_mic_session_refused_points_at_the_manufacturing_ca() {
    let r = run("4878 WRN 15:47:34.756063 SECD: -PXY_NO_LSC: No LSC for [SIP], tries MIC\n\
                 4879 ERR 15:47:34.900000 SECD: -STATE_SSL3_ALERT: SSL3 alert [read]:[fatal]:[unknown CA]\n");
    let f = r.findings.iter().find(|f| f.code == "unknown-ca").unwrap();
    assert!(f.remedy.join(" ").contains("Cisco Manufacturing CA SHA2"), "{:?}", f.remedy);
    let r = run("SECD: -STATE_SSL3_ALERT: SSL3 alert [write]:[fatal]:[unknown CA]\n");
    assert_eq!(codes(&r), ["unknown-ca-sent"]);
}

#[test]
fn malformed_and_unknown_lines_never_stop_the_reading() {
    let mut text = String::new();
    text.push_str("SECD: -PXY_CERT_CIPHER: [SCCP]\n"); // malformed: no version, no cert
    text.push_str("SECD: -PXY_CERT_CIPHER: [SIP], [TLSv1.2], cert [XYZ]\n"); // malformed: cert type
    text.push_str("SECD: -PXY_NO_LSC: No LSC\n"); // malformed: no protocol
    text.push_str("SECD: -STATE_SSL3_ALERT: SSL3 alert [sideways]:[fatal]:[unknown CA]\n"); // malformed
    text.push_str("5000 NOT 10:00:00.000000 SIPCC-SIP_CC_PROV: registration succeeded\n"); // unknown
    text.push_str("\u{0}\u{1}\u{2} garbage \u{fffd}\n"); // unknown, binary
    text.push_str(&"x".repeat(200_000)); // a very long line
    text.push('\n');
    text.push_str(DOMAIN_LINES);
    let mut bytes = text.into_bytes();
    bytes.extend_from_slice(b"\xff\xfe invalid utf-8 PXY_NO_LSC: [SCCP]\r\n");
    let r = log::analyze(bytes.as_slice());
    assert_eq!(r.malformed.len(), 4, "{:?}", r.malformed);
    assert_eq!(r.malformed[0].line, 1);
    assert_eq!(r.lines_read, 11);
    assert_eq!(r.lines_skipped, 3);
    assert_eq!(r.lines_recognized, 4);
    assert!(codes(&r).contains(&"unknown-ca"));
    assert!(codes(&r).contains(&"malformed-lines"));
    let empty = run("");
    assert_eq!(codes(&empty), ["no-security-lines"]);
}
