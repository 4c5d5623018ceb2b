//! Install/Upgrade from the phone's side against a scripted CAPF server over real TLS:
//! certificate authentication with RSA-1024, RSA-2048 and EC P-256 keys (both signatures verified
//! strictly), key generation with RequestInProgress, storing the LSC, and the byte-exact
//! AuthResponse of the authentication-string and null-string modes.

use crate::client_support;

use std::time::Duration;

use client_support::*;
use opencapf_capf::client::{CapfClient, CertifiedKey, Credentials, Operation, SessionEvent};
use opencapf_capf::proto::frame::Command;
use opencapf_capf::proto::message::{
    CapfMessage, CertPackage, CertType, Curve, KeyGenRequest, KeyGenResponse, KeySpec, Reason, StoreCertificateRequest,
    StoreCertificateResponse,
};
use opencapf_pki::{CertificateInfo, KeyAlgorithm};
use opencapf_tls::TlsVersions;

/// What the scripted server saw.
struct Seen {
    auth_cert: Vec<u8>,
    sudi_cert: Option<Vec<u8>>,
    requests_in_progress: u32,
    public_key: Vec<u8>,
    lsc: Vec<u8>,
}

/// [`install`] with RequestInProgress every 1 ms, key generation of at least 20 ms, no SUDI.
async fn install_slowly(auth_alg: KeyAlgorithm, request: KeySpec) {
    install(auth_alg, request, Some(Duration::from_millis(1)), Duration::from_millis(20), false).await
}

async fn install(
    auth_alg: KeyAlgorithm,
    request: KeySpec,
    progress: Option<Duration>,
    min_keygen: Duration,
    sudi: bool,
) {
    let capf = capf(KeyAlgorithm::Rsa2048);
    let (mic_der, mic_key) = mic(auth_alg);
    let config = server_config(&capf, TlsVersions::Tls12And13);
    const SID: u32 = 0x2A;
    let capf_der = capf.der.clone();
    let other_capf = client_support::capf(KeyAlgorithm::Ec256);
    let (addr, server) = serve_once(config, move |mut conn| async move {
        let (_, auth) = conn.open(SID).await;
        assert_eq!(auth.device_name, DEVICE);
        assert_eq!(auth.version, 3);
        assert_eq!(auth.reason, Some(Reason::OK));
        assert_eq!(auth.password, None, "certificate mode sends no password");
        let auth_cert = verify_certificate_auth(&auth);
        let sudi_cert = auth.sudi.as_ref().map(|_| verify_sudi(&auth, SID));
        conn.send(KeyGenRequest::new(request), SID).await;
        let mut requests_in_progress = 0;
        let response = loop {
            let raw = conn.recv().await;
            assert_eq!(raw.session_id, SID);
            match raw.command {
                Command::RequestInProgress => {
                    assert!(raw.body.is_empty());
                    requests_in_progress += 1;
                }
                Command::KeyGenResponse => break KeyGenResponse::from_raw(&raw).unwrap(),
                other => panic!("unexpected {other:?}"),
            }
        };
        let public_key = response.public_key.expect("a public key");
        let lsc = capf.issue_lsc(&public_key);
        conn.send(
            StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(lsc.clone()) },
            SID,
        )
        .await;
        let stored = StoreCertificateResponse::from_raw(&conn.recv().await).unwrap();
        assert_eq!(stored.reason, Reason::OK);
        conn.end(Reason::OK, SID).await;
        Seen { auth_cert, sudi_cert, requests_in_progress, public_key, lsc }
    })
    .await;

    // The trust list holds the CAPF certificate among others (as a phone's ITL does).
    let mut cfg = client_config(addr, vec![other_capf.der.clone(), capf_der.clone()]);
    cfg.progress_interval = progress;
    cfg.min_keygen_time = min_keygen;
    let mut id = identity(Credentials::Certificate { cert: mic_der.clone(), key: mic_key.clone() });
    if sudi {
        id.sudi = Some(CertifiedKey { cert_der: mic_der.clone(), key: mic_key.clone() });
    }
    let mut handler = TestHandler { mic: mic_der.clone(), ..Default::default() };
    let outcome = CapfClient::run(&cfg, &id, &mut handler).await.unwrap();
    let seen = server.await.unwrap().unwrap();

    assert_eq!(seen.auth_cert, mic_der);
    assert_eq!(seen.sudi_cert.is_some(), sudi);
    assert_eq!(outcome.session_id, SID);
    assert_eq!(outcome.end_reason, Reason::OK);
    assert!(outcome.is_success());
    let tls = outcome.tls.as_ref().unwrap();
    assert_eq!(tls.version, "TLSv1.3");
    let Operation::Install(report) = &outcome.operation else { panic!("not an install: {outcome:?}") };
    assert_eq!(report.key, Some(request));
    assert!(report.stored);
    assert_eq!(report.lsc.as_deref(), Some(seen.lsc.as_slice()));
    assert_eq!(report.requests_in_progress, seen.requests_in_progress, "client and server count the same");
    // The handler got the LSC with the key whose public half the server received.
    let (lsc, key) = handler.stored.as_ref().unwrap();
    assert_eq!(lsc, &seen.lsc);
    assert_eq!(key.public_key_der(), seen.public_key.as_slice());
    let expected_alg = match request {
        KeySpec::Rsa { bits } => KeyAlgorithm::rsa(u32::from(bits)).unwrap(),
        KeySpec::Ec { curve: Curve::P256 } => KeyAlgorithm::Ec256,
        KeySpec::Ec { curve: Curve::P384 } => KeyAlgorithm::Ec384,
        KeySpec::Ec { curve: Curve::P521 } => KeyAlgorithm::Ec521,
    };
    assert_eq!(key.algorithm(), expected_alg);
    assert_eq!(CertificateInfo::parse(lsc).unwrap().public_key_der, key.public_key_der());
    match progress {
        Some(_) => assert!(seen.requests_in_progress >= 1, "RequestInProgress while generating"),
        None => assert_eq!(seen.requests_in_progress, 0),
    }
    // The events tell the story in order.
    let kinds: Vec<&str> = handler
        .events
        .iter()
        .map(|e| match e {
            SessionEvent::Connected { .. } => "connected",
            SessionEvent::ServerCertificate { trusted: true, .. } => "trusted",
            SessionEvent::TlsEstablished { .. } => "tls",
            SessionEvent::AuthRequest { .. } => "auth-request",
            SessionEvent::AuthResponseSent { .. } => "auth-response",
            SessionEvent::KeyGenRequest { .. } => "keygen-request",
            SessionEvent::RequestInProgressSent { .. } => "in-progress",
            SessionEvent::KeyGenerated { .. } => "generated",
            SessionEvent::StoreCertificateRequest { .. } => "store-request",
            SessionEvent::StoreCertificateResponse { .. } => "store-response",
            SessionEvent::EndSession { .. } => "end",
            other => panic!("unexpected event {other:?}"),
        })
        .filter(|k| *k != "in-progress")
        .collect();
    assert_eq!(
        kinds,
        [
            "connected",
            "trusted",
            "tls",
            "auth-request",
            "auth-response",
            "keygen-request",
            "generated",
            "store-request",
            "store-response",
            "end"
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_1024_key_authenticates_and_gets_an_rsa_1024_lsc() {
    install_slowly(KeyAlgorithm::Rsa1024, KeySpec::Rsa { bits: 1024 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rsa_2048_key_with_sudi_gets_an_rsa_2048_lsc_with_request_in_progress() {
    // No artificial delay: RSA-2048 generation itself outlasts a 1 ms interval.
    install(KeyAlgorithm::Rsa2048, KeySpec::Rsa { bits: 2048 }, Some(Duration::from_millis(1)), Duration::ZERO, true)
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec_p256_key_authenticates_and_gets_an_ec_p256_lsc() {
    install_slowly(KeyAlgorithm::Ec256, KeySpec::Ec { curve: Curve::P256 }).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ec_p384_lsc_for_an_rsa_phone_without_request_in_progress() {
    install(KeyAlgorithm::Rsa2048, KeySpec::Ec { curve: Curve::P384 }, None, Duration::from_millis(20), false).await;
}
