//! The TVS server against its own client, hostile input, and a real OpenSSL peer.

mod common;

use std::time::Duration;

use common::{exchange_plain, exchange_raw, rsa_cert, start, start_directory, start_with, Cert};
use opencapf_model::Role;
use opencapf_pki::{profiles, KeyAlgorithm, PrivateKey, SubjectFields};
use opencapf_tvs::{verify, Answer, Directory, TvsError, TvsOptions, VerifyRequest, VerifyResponse};

const PHONE: &str = "CP-8861-SEP58971ECC97C1";
const BOUND: Duration = Duration::from_secs(20);

/// A certificate a phone might ask about (the CallManager of another node, Tomcat...).
fn ec_cert(name: &str) -> Vec<u8> {
    let key = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
    profiles::callmanager_certificate(&key, name, &SubjectFields::default(), 365, opencapf_testkit::now()).unwrap().der
}

fn request(session: u32, certificate: &[u8]) -> Vec<u8> {
    VerifyRequest { session, device_name: PHONE.into(), certificate: certificate.to_vec() }.encode().unwrap()
}

struct Lab {
    tvs: Cert,
    known: Vec<u8>,
    unknown: Vec<u8>,
}

fn lab() -> Lab {
    Lab { tvs: rsa_cert("tvs.example.com"), known: ec_cert("cm2.example.com"), unknown: ec_cert("rogue.example.com") }
}

#[tokio::test]
async fn a_known_certificate_is_valid_with_its_roles_and_an_unknown_one_invalid() {
    let lab = lab();
    let server = start(&lab.tvs, &[(&lab.known, vec![Role::AppServer, Role::Ccm])]).await;
    let answer = server.verify(PHONE, &lab.known).await.unwrap();
    assert_eq!(answer, Answer::Valid { roles: vec![Role::Ccm, Role::AppServer], ttl: 86_400 });

    let answer = server.verify(PHONE, &lab.unknown).await.unwrap();
    assert_eq!(answer, Answer::Invalid);
}

#[tokio::test]
async fn the_ttl_is_a_server_option() {
    let lab = lab();
    let options = TvsOptions { ttl: 3600, ..TvsOptions::default() };
    let server = start_with(&lab.tvs, &[(&lab.known, vec![Role::Tftp])], options).await;
    let answer = server.verify(PHONE, &lab.known).await;
    assert_eq!(answer.unwrap(), Answer::Valid { roles: vec![Role::Tftp], ttl: 3600 });
}

#[tokio::test]
async fn the_client_refuses_a_server_whose_certificate_is_not_in_its_list() {
    let lab = lab();
    let server = start(&lab.tvs, &[(&lab.known, vec![Role::Ccm])]).await;
    let other_tvs = rsa_cert("tvs.example.com").der;
    let result = verify(&server.addr.to_string(), &[other_tvs], PHONE, &lab.known, BOUND).await;
    match result {
        Err(TvsError::UntrustedServer { fingerprint }) => {
            assert_eq!(fingerprint, opencapf_pki::fingerprint(&server.certificate));
        }
        other => panic!("expected UntrustedServer, got {other:?}"),
    }
}

#[tokio::test]
async fn the_server_echoes_the_session_and_answers_in_the_codecs_bytes() {
    let lab = lab();
    let server = start(&lab.tvs, &[(&lab.known, vec![Role::Ccm])]).await;
    let got = exchange_raw(server.addr, &server.certificate, &request(0xdead_beef, &lab.known)).await;
    let expected =
        VerifyResponse { session: 0xdead_beef, answer: Answer::Valid { roles: vec![Role::Ccm], ttl: 86_400 } };
    assert_eq!(got, expected.encode());
}

/// Each hostile input gets no answer (or a TLS alert for non-TLS bytes, never a TVS message), and
/// the server answers the next client.
#[tokio::test]
async fn hostile_input_gets_no_answer_and_the_server_keeps_serving() {
    let lab = lab();
    let server = start(&lab.tvs, &[(&lab.known, vec![Role::Ccm])]).await;
    let good = request(1, &lab.known);
    let mut wrong_id = good.clone();
    wrong_id[0] = 0x55;
    let mut version2 = good.clone();
    version2[1] = 2;
    let mut beyond = good.clone();
    beyond[8..10].copy_from_slice(&(good.len() as u16).to_be_bytes());
    let mut unknown_tag = good.clone();
    unknown_tag.extend_from_slice(&[7, 0, 1, 0]);
    let len = u16::from_be_bytes([good[8], good[9]]) + 4;
    unknown_tag[8..10].copy_from_slice(&len.to_be_bytes());
    let garbage: Vec<u8> = (0..2_000_000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8).collect();
    let bad_name =
        VerifyRequest { session: 2, device_name: "CP 8861\u{1b}[31m".into(), certificate: lab.known.clone() }
            .encode()
            .unwrap();
    let query = [0x57, 1, 3, 0, 0, 0, 0, 3, 0, 0];

    let cases: [(&str, &[u8]); 7] = [
        ("wrong protocol id", &wrong_id),
        ("version 2", &version2),
        ("a body length beyond what is sent", &beyond),
        ("an unknown tag", &unknown_tag),
        ("2 MB of garbage", &garbage),
        ("an unusable device name", &bad_name),
        ("a query request", &query),
    ];
    for (what, bytes) in cases {
        let got = exchange_raw(server.addr, &server.certificate, bytes).await;
        assert!(got.is_empty(), "{what}: no answer expected, got {got:02x?}");
        let answer = server.verify(PHONE, &lab.known).await;
        assert!(matches!(answer, Ok(Answer::Valid { .. })), "after {what}: {answer:?}");
    }

    let got = exchange_plain(server.addr, b"GET / HTTP/1.1\r\nHost: tvs\r\n\r\n").await;
    assert!(got.first() != Some(&0x57), "a plain-TCP client gets no TVS message: {got:02x?}");
    let answer = server.verify(PHONE, &lab.unknown).await;
    assert_eq!(answer.unwrap(), Answer::Invalid);
}

#[tokio::test]
async fn an_unusable_device_name_is_closed_without_a_reply_as_tvsd_does() {
    let lab = lab();
    let server = start(&lab.tvs, &[(&lab.known, vec![Role::Ccm])]).await;
    let result = server.verify("", &lab.known).await;
    assert!(matches!(result, Err(TvsError::NoAnswer)), "{result:?}");
}

/// `openssl s_client` fed a VerifyRequest gets exactly the codec's response bytes back.
#[tokio::test]
async fn openssl_s_client_gets_the_exact_response() {
    let lab = lab();
    let server = start(&lab.tvs, &[(&lab.known, vec![Role::Ccm, Role::AppServer])]).await;
    let req = request(0x0000_1234, &lab.known);
    let addr = server.addr.to_string();
    let output = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        use std::process::{Command, Stdio};
        // `timeout` bounds the peer; -quiet also means -ign_eof: s_client ends when TVS closes.
        let mut child = Command::new("timeout")
            .args(["20", "openssl", "s_client", "-connect", &addr, "-quiet"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("openssl (Debian package openssl) and timeout (coreutils)");
        child.stdin.take().unwrap().write_all(&req).unwrap();
        child.wait_with_output().unwrap()
    })
    .await
    .unwrap();
    let expected = VerifyResponse {
        session: 0x0000_1234,
        answer: Answer::Valid { roles: vec![Role::Ccm, Role::AppServer], ttl: 86_400 },
    }
    .encode();
    assert_eq!(output.stdout, expected, "stderr: {}", String::from_utf8_lossy(&output.stderr));
}

struct BrokenDirectory;

impl Directory for BrokenDirectory {
    async fn vouch(&self, _certificate: &[u8]) -> Result<Option<Vec<Role>>, String> {
        Err("database is locked".into())
    }
}

/// A lookup that fails gets no answer (not a wrong "invalid" the phone would cache): the phone
/// tries its next TVS.
#[tokio::test]
async fn a_failed_lookup_is_closed_without_a_reply() {
    let lab = lab();
    let server = start_directory(&lab.tvs, BrokenDirectory, TvsOptions::default()).await;
    let result = server.verify(PHONE, &lab.known).await;
    assert!(matches!(result, Err(TvsError::NoAnswer)), "{result:?}");
}
