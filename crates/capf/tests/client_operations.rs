//! Delete, Troubleshoot (fetch), no pending operation and unknown device from the phone's side,
//! and the byte-exact AuthResponse of the authentication-string and null-string modes (§5.1).

use crate::client_support;

use client_support::*;
use opencapf_capf::client::{CapfClient, Credentials, Operation, PhoneIdentity, SessionOutcome};
use opencapf_capf::proto::element::{ElementSet, Tag};
use opencapf_capf::proto::frame::{Command, RawMessage};
use opencapf_capf::proto::message::{
    CapfMessage, CertType, DeleteCertificateRequest, DeleteCertificateResponse, FetchCertificateRequest,
    FetchCertificateResponse, Message, Reason,
};
use opencapf_pki::KeyAlgorithm;
use opencapf_tls::TlsVersions;

/// Runs one session in which the server, after the AuthResponse, sends `request` (if any), reads
/// one response and ends with `end`. Returns the client's outcome, the handler, the raw
/// AuthResponse and the raw response.
async fn session(
    credentials: Credentials,
    device_name: &str,
    session_id: u32,
    request: Option<Message>,
    end: Reason,
    mut handler: TestHandler,
) -> (SessionOutcome, TestHandler, RawMessage, Option<RawMessage>) {
    let capf = capf(KeyAlgorithm::Rsa2048);
    let trust = vec![capf.der.clone()];
    let config = server_config(&capf, TlsVersions::Tls12And13);
    let (addr, server) = serve_once(config, move |mut conn| async move {
        let (auth_raw, _) = conn.open(session_id).await;
        let mut response = None;
        if let Some(request) = request {
            conn.send(request, session_id).await;
            let raw = conn.recv().await;
            assert_eq!(raw.session_id, session_id);
            response = Some(raw);
        }
        conn.end(end, session_id).await;
        (auth_raw, response)
    })
    .await;
    let identity = PhoneIdentity { device_name: device_name.into(), credentials, sudi: None };
    let outcome = CapfClient::run(&client_config(addr, trust), &identity, &mut handler).await.unwrap();
    let (auth_raw, response) = server.await.unwrap().unwrap();
    (outcome, handler, auth_raw, response)
}

fn mic_handler() -> TestHandler {
    TestHandler { mic: mic(KeyAlgorithm::Rsa2048).0, ..Default::default() }
}

#[tokio::test]
async fn authentication_string_auth_response_is_byte_exact() {
    let (outcome, _, auth, _) =
        session(Credentials::AuthString("123456".into()), "SEP58971ECC97C1", 1, None, Reason::NoAction, mic_handler())
            .await;
    // §5.1 "AuthResponse, password 123456, SEP58971ECC97C1 (capfc element order)".
    let expected = hex::decode(
        "5502000000010025010001010700010\
         30b000731323334353600\
         0d0010534550353839373145434339374331\
         00"
        .replace(' ', ""),
    )
    .unwrap();
    assert_eq!(hex::encode(auth.encode().unwrap()), hex::encode(expected));
    assert_eq!(outcome.operation, Operation::None);
    assert_eq!(outcome.end_reason, Reason::NoAction);
    assert!(outcome.is_success());
}

#[tokio::test]
async fn null_string_auth_response_is_byte_exact() {
    let (_, _, auth, _) =
        session(Credentials::NullString, "SEP58971ECC97C1", 1, None, Reason::NoAction, mic_handler()).await;
    // §5.1 "AuthResponse, null string (capfc)".
    let expected = "55020000000100\
                    1f0100010107000103\
                    0b000100\
                    0d001053455035383937314543433937433100";
    assert_eq!(hex::encode(auth.encode().unwrap()), expected);
}

#[tokio::test]
async fn delete_removes_the_lsc_and_answers_reason_1() {
    let mut handler = mic_handler();
    handler.lsc = Some(b"an LSC".to_vec());
    let (outcome, handler, _, response) =
        session(Credentials::NullString, DEVICE, 77, Some(DeleteCertificateRequest.into()), Reason::OK, handler).await;
    let response = DeleteCertificateResponse::from_raw(&response.unwrap()).unwrap();
    assert_eq!(response.reason, Reason::OK);
    assert_eq!(handler.delete_calls, 1);
    assert!(handler.lsc.is_none());
    assert_eq!(outcome.operation, Operation::Delete { result: Ok(true) });
    assert_eq!(outcome.end_reason, Reason::OK);
    assert!(outcome.is_success());
}

#[tokio::test]
async fn delete_without_an_lsc_answers_reason_7() {
    let (outcome, _, _, response) =
        session(Credentials::NullString, DEVICE, 78, Some(DeleteCertificateRequest.into()), Reason::OK, mic_handler())
            .await;
    let response = DeleteCertificateResponse::from_raw(&response.unwrap()).unwrap();
    assert_eq!(response.reason, Reason::InvalidElement);
    assert_eq!(outcome.operation, Operation::Delete { result: Ok(false) });
    assert!(!outcome.is_success());
}

#[tokio::test]
async fn fetch_uploads_the_lsc_when_there_is_one() {
    let mut handler = mic_handler();
    let lsc = mic(KeyAlgorithm::Ec256).0; // any certificate will do as "the LSC"
    handler.lsc = Some(lsc.clone());
    let (outcome, handler, _, response) =
        session(Credentials::NullString, DEVICE, 5, Some(FetchCertificateRequest.into()), Reason::NoAction, handler)
            .await;
    let raw = response.unwrap();
    let response = FetchCertificateResponse::from_raw(&raw).unwrap();
    assert_eq!(response.reason, Reason::OK);
    let package = response.certificate.unwrap();
    assert_eq!(package.der, lsc);
    // The package as capfd writes and reads it: 01 len 00 01 DER (§1.5.1).
    let elements = ElementSet::parse(&raw.body).unwrap();
    let value = elements.get(Tag::Certificate).unwrap();
    assert_eq!(&value[3..5], &[0, 1]);
    assert_eq!(&value[5..], lsc.as_slice());
    assert_eq!(handler.fetch_requests, vec![None]);
    assert_eq!(outcome.operation, Operation::Fetch { requested: None, uploaded: Some(lsc) });
    assert_eq!(outcome.end_reason, Reason::NoAction);
    assert!(outcome.is_success());
}

#[tokio::test]
async fn fetch_uploads_the_mic_without_an_lsc_or_when_asked_for_it() {
    let handler = mic_handler();
    let mic_der = handler.mic.clone();
    let (_, _, _, response) =
        session(Credentials::NullString, DEVICE, 6, Some(FetchCertificateRequest.into()), Reason::NoAction, handler)
            .await;
    let response = FetchCertificateResponse::from_raw(&response.unwrap()).unwrap();
    assert_eq!(response.certificate.unwrap().der, mic_der);

    // A server that names the MIC with a CertificateType element gets it even when an LSC exists.
    let mut handler = mic_handler();
    handler.lsc = Some(b"an LSC".to_vec());
    let mic_der = handler.mic.clone();
    let mut elements = ElementSet::new();
    elements.insert(Tag::CertificateType, vec![2]);
    let request = Message::Other { command: Command::FetchCertificateRequest, elements };
    let (outcome, handler, _, response) =
        session(Credentials::NullString, DEVICE, 7, Some(request), Reason::NoAction, handler).await;
    let response = FetchCertificateResponse::from_raw(&response.unwrap()).unwrap();
    assert_eq!(response.certificate.unwrap().der, mic_der);
    assert_eq!(handler.fetch_requests, vec![Some(CertType::Mic)]);
    assert!(matches!(outcome.operation, Operation::Fetch { requested: Some(CertType::Mic), .. }));
}

#[tokio::test]
async fn unknown_device_ends_with_reason_9() {
    let (outcome, _, _, _) =
        session(Credentials::NullString, DEVICE, 9, None, Reason::UnknownDevice, mic_handler()).await;
    assert_eq!(outcome.operation, Operation::None);
    assert_eq!(outcome.end_reason, Reason::UnknownDevice);
    assert!(!outcome.is_success());
}

/// CUCM's forms (§1.11): an AuthRequest with the version only, a KeyGenRequest with the key size
/// only; the RSA-2048 KeyGenResponse then has exactly the captured lengths (`01 29` / `01 26`),
/// and a server that ends the session instead of delivering a certificate is reported as such.
#[tokio::test]
async fn cucm_style_requests_and_an_install_the_server_abandons() {
    use opencapf_capf::proto::message::{AuthRequest, EndSession, KeyGenRequest, KeySpec};
    let (_capf, trust, config) = tls13_capf();
    let (addr, server) = serve_once(config, |mut conn| async move {
        conn.send(AuthRequest { version: 3, auth_type: None }, 0x0102_0304).await;
        let auth = conn.recv().await;
        assert_eq!(auth.session_id, 0x0102_0304);
        let keygen = KeyGenRequest { key: KeySpec::Rsa { bits: 2048 }, omit_key_type: true };
        assert_eq!(hex::encode(Message::from(keygen.clone()).encode(1).unwrap()), "55030000000100050a00020800");
        conn.send(keygen, 0x0102_0304).await;
        let response = conn.recv().await;
        conn.send(EndSession { reason: Reason::InvalidElement }, 0x0102_0304).await;
        response
    })
    .await;
    let mut cfg = client_config(addr, trust);
    cfg.progress_interval = None;
    let mut handler = TestHandler::default();
    let outcome = CapfClient::run(&cfg, &identity(Credentials::NullString), &mut handler).await.unwrap();
    let response = server.await.unwrap().unwrap();
    assert_eq!(response.command, Command::KeyGenResponse);
    let bytes = response.encode().unwrap();
    assert_eq!(hex::encode(&bytes[..15]), "550401020304012909012630820122");
    assert_eq!(outcome.server_auth_type, None);
    assert_eq!(outcome.end_reason, Reason::InvalidElement);
    let Operation::Install(report) = &outcome.operation else { panic!("{outcome:?}") };
    assert_eq!(report.key, Some(KeySpec::Rsa { bits: 2048 }));
    assert!(report.lsc.is_none() && !report.stored && report.keygen_error.is_none());
    assert!(handler.stored.is_none());
    assert!(!outcome.is_success());
}
