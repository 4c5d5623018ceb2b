//! What the phone refuses or survives: a server certificate outside the trust list, a wrong
//! session id, a silent server, an LSC for another key, a key it cannot make, TLS 1.2 with RSA and
//! ECDSA servers, and one write per message.

use crate::client_support;

use std::io;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::Duration;

use client_support::*;
use opencapf_capf::client::{CapfClient, ClientError, Credentials, Operation, SessionEvent, Stage};
use opencapf_capf::proto::frame::{read_message, Command, RawMessage};
use opencapf_capf::proto::message::{
    AuthRequest, CapfMessage, CertPackage, CertType, DeleteCertificateRequest, EndSession, KeyGenRequest,
    KeyGenResponse, KeySpec, Message, Reason, StoreCertificateRequest, StoreCertificateResponse,
};
use opencapf_pki::{KeyAlgorithm, PrivateKey};
use opencapf_tls::TlsVersions;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};

fn cert_credentials() -> (Credentials, Vec<u8>) {
    let (der, key) = mic(KeyAlgorithm::Ec256);
    (Credentials::Certificate { cert: der.clone(), key }, der)
}

#[tokio::test]
async fn a_server_certificate_outside_the_trust_list_is_refused_with_unknown_ca() {
    let real = capf(KeyAlgorithm::Rsa2048);
    let trusted_other = capf(KeyAlgorithm::Rsa2048);
    let config = server_config(&real, TlsVersions::Tls12And13);
    let (addr, server) = serve_once(config, |_conn| async {}).await;
    let (credentials, mic_der) = cert_credentials();
    let mut handler = TestHandler { mic: mic_der, ..Default::default() };
    let err =
        CapfClient::run(&client_config(addr, vec![trusted_other.der.clone()]), &identity(credentials), &mut handler)
            .await
            .unwrap_err();
    let ClientError::ServerNotTrusted { subject, fingerprint, .. } = &err else { panic!("{err}") };
    assert!(subject.contains("CN=CAPF-"), "{subject}");
    assert_eq!(fingerprint, &opencapf_pki::fingerprint(&real.der));
    // The handler heard which certificate was refused.
    assert!(handler
        .events
        .iter()
        .any(|e| matches!(e, SessionEvent::ServerCertificate { der, trusted: false } if der == &real.der)));
    // The server saw the phone's fatal unknown_ca alert.
    let server_err = server.await.unwrap().unwrap_err();
    let inner = server_err.get_ref().and_then(|e| e.downcast_ref::<rustls::Error>());
    assert!(
        matches!(inner, Some(rustls::Error::AlertReceived(rustls::AlertDescription::UnknownCA))),
        "server saw {server_err:?}"
    );
}

#[tokio::test]
async fn a_wrong_session_id_from_the_server_is_refused() {
    let (_capf, trust, config) = tls13_capf();
    let (addr, server) = serve_once(config, |mut conn| async move {
        let _ = conn.open(7).await;
        conn.send(DeleteCertificateRequest, 8).await;
        // The phone answers nothing more and closes.
        conn.expect_closed().await
    })
    .await;
    let mut handler = TestHandler { lsc: Some(b"keep me".to_vec()), ..Default::default() };
    let err = CapfClient::run(&client_config(addr, trust), &identity(Credentials::NullString), &mut handler)
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            ClientError::SessionIdMismatch { expected: 7, got: 8, command: Command::DeleteCertificateRequest }
        ),
        "{err}"
    );
    assert_eq!(handler.delete_calls, 0, "nothing is done for a message of another session");
    assert!(handler.lsc.is_some());
    assert!(server.await.unwrap().unwrap(), "the phone sent nothing after the mismatch");
}

#[tokio::test]
async fn a_silent_server_times_out() {
    let (_capf, trust, config) = tls13_capf();
    let (addr, server) = serve_once(config, |conn| async move {
        tokio::time::sleep(Duration::from_secs(2)).await;
        drop(conn);
    })
    .await;
    let mut cfg = client_config(addr, trust);
    cfg.message_timeout = Duration::from_millis(300);
    let err = run_null(&cfg).await.unwrap_err();
    assert!(matches!(err, ClientError::Timeout(Stage::AuthRequest)), "{err}");
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn a_server_that_closes_mid_session_is_reported() {
    let (_capf, trust, config) = tls13_capf();
    let (addr, server) = serve_once(config, |mut conn| async move {
        let _ = conn.open(3).await;
        let _ = conn.stream.shutdown().await;
    })
    .await;
    let err = run_null(&client_config(addr, trust)).await.unwrap_err();
    assert!(matches!(err, ClientError::Closed(Stage::Operation)), "{err}");
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn an_lsc_for_another_key_is_not_stored() {
    let (capf, trust, config) = tls13_capf();
    let (addr, server) = serve_once(config, |mut conn| async move {
        let _ = conn.open(11).await;
        conn.send(KeyGenRequest::new(KeySpec::Ec { curve: opencapf_capf::proto::message::Curve::P256 }), 11).await;
        let response = KeyGenResponse::from_raw(&conn.recv().await).unwrap();
        assert!(response.public_key.is_some());
        let stranger = PrivateKey::generate(KeyAlgorithm::Ec256).unwrap();
        let lsc = capf.issue_lsc(stranger.public_key_der());
        conn.send(StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(lsc) }, 11).await;
        let stored = StoreCertificateResponse::from_raw(&conn.recv().await).unwrap();
        conn.end(Reason::OK, 11).await;
        stored.reason
    })
    .await;
    let mut handler = TestHandler::default();
    let mut cfg = client_config(addr, trust);
    cfg.progress_interval = None;
    let outcome = CapfClient::run(&cfg, &identity(Credentials::NullString), &mut handler).await.unwrap();
    assert_eq!(server.await.unwrap().unwrap(), Reason::InvalidElement);
    assert!(handler.stored.is_none(), "the handler never saw it");
    let Operation::Install(report) = &outcome.operation else { panic!() };
    assert!(!report.stored);
    assert!(report.store_error.as_deref().unwrap().contains("not for the key"), "{report:?}");
    assert_eq!(outcome.end_reason, Reason::OK, "capfd ends installs with 1 even after a failed store");
    assert!(!outcome.is_success());
}

#[tokio::test]
async fn a_failed_store_answers_reason_7() {
    let (capf, trust, config) = tls13_capf();
    let (addr, server) = serve_once(config, |mut conn| async move {
        let _ = conn.open(12).await;
        conn.send(KeyGenRequest::new(KeySpec::Rsa { bits: 1024 }), 12).await;
        let mut raw = conn.recv().await;
        while raw.command == Command::RequestInProgress {
            raw = conn.recv().await;
        }
        let response = KeyGenResponse::from_raw(&raw).unwrap();
        let lsc = capf.issue_lsc(&response.public_key.unwrap());
        conn.send(StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(lsc) }, 12).await;
        let stored = StoreCertificateResponse::from_raw(&conn.recv().await).unwrap();
        conn.end(Reason::OK, 12).await;
        stored.reason
    })
    .await;
    let mut handler = TestHandler { fail_store: true, ..Default::default() };
    let outcome =
        CapfClient::run(&client_config(addr, trust), &identity(Credentials::NullString), &mut handler).await.unwrap();
    assert_eq!(server.await.unwrap().unwrap(), Reason::InvalidElement);
    let Operation::Install(report) = &outcome.operation else { panic!() };
    assert_eq!(report.store_error.as_deref(), Some("disk full"));
    assert!(!outcome.is_success());
}

#[tokio::test]
async fn a_key_the_phone_cannot_make_gets_a_keygen_response_without_a_key() {
    let (_capf, trust, config) = tls13_capf();
    let (addr, server) = serve_once(config, |mut conn| async move {
        let _ = conn.open(13).await;
        conn.send(KeyGenRequest::new(KeySpec::Rsa { bits: 512 }), 13).await;
        let response = KeyGenResponse::from_raw(&conn.recv().await).unwrap();
        conn.end(Reason::InvalidElement, 13).await;
        response
    })
    .await;
    let outcome = run_null(&client_config(addr, trust)).await.unwrap();
    let response = server.await.unwrap().unwrap();
    assert_eq!(response, KeyGenResponse { reason: Some(Reason::InvalidElement), public_key: None });
    let Operation::Install(report) = &outcome.operation else { panic!() };
    assert!(report.keygen_error.as_deref().unwrap().contains("512"));
    assert_eq!(outcome.end_reason, Reason::InvalidElement);
    assert!(!outcome.is_success());
}

/// TLS 1.2 exercises `verify_tls12_signature` with an RSA and an ECDSA server key.
#[tokio::test]
async fn tls_1_2_with_rsa_and_ecdsa_servers() {
    for (alg, cipher_prefix) in [(KeyAlgorithm::Rsa2048, "ECDHE-RSA-"), (KeyAlgorithm::Ec256, "ECDHE-ECDSA-")] {
        let capf = capf(alg);
        let trust = vec![capf.der.clone()];
        let config = server_config(&capf, TlsVersions::Tls12Only);
        let (addr, server) = serve_once(config, |mut conn| async move {
            let _ = conn.open(1).await;
            conn.end(Reason::NoAction, 1).await;
        })
        .await;
        let outcome = CapfClient::run(
            &client_config(addr, trust),
            &identity(Credentials::NullString),
            &mut TestHandler::default(),
        )
        .await
        .unwrap();
        server.await.unwrap().unwrap();
        let tls = outcome.tls.unwrap();
        assert_eq!(tls.version, "TLSv1.2");
        assert!(tls.cipher.starts_with(cipher_prefix), "{alg}: {}", tls.cipher);
        assert_eq!(tls.server_certificate, capf.der);
    }
}

/// A stream that records what each `poll_write` was handed.
struct RecordingStream<S> {
    inner: S,
    writes: Arc<Mutex<Vec<Vec<u8>>>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for RecordingStream<S> {
    fn poll_read(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for RecordingStream<S> {
    fn poll_write(mut self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        let r = Pin::new(&mut self.inner).poll_write(cx, buf);
        if let Poll::Ready(Ok(n)) = &r {
            self.writes.lock().unwrap().push(buf[..*n].to_vec());
        }
        r
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[tokio::test]
async fn every_message_is_one_write() {
    let (client_end, mut server_end) = tokio::io::duplex(1 << 17);
    let writes = Arc::new(Mutex::new(Vec::new()));
    let stream = RecordingStream { inner: client_end, writes: writes.clone() };
    let capf = capf(KeyAlgorithm::Rsa2048);
    let server = tokio::spawn(async move {
        let send = |m: Message| m.encode(21).unwrap();
        server_end.write_all(&send(AuthRequest { version: 3, auth_type: None }.into())).await.unwrap();
        let mut seen = vec![read_message(&mut server_end).await.unwrap()];
        server_end.write_all(&send(KeyGenRequest::new(KeySpec::Rsa { bits: 2048 }).into())).await.unwrap();
        let response = loop {
            let raw = read_message(&mut server_end).await.unwrap();
            seen.push(raw.clone());
            if raw.command == Command::KeyGenResponse {
                break KeyGenResponse::from_raw(&raw).unwrap();
            }
        };
        let lsc = capf.issue_lsc(&response.public_key.unwrap());
        let store = StoreCertificateRequest { cert_type: CertType::Lsc, certificate: CertPackage::new(lsc) };
        server_end.write_all(&send(store.into())).await.unwrap();
        seen.push(read_message(&mut server_end).await.unwrap());
        server_end.write_all(&send(EndSession { reason: Reason::OK }.into())).await.unwrap();
        seen
    });
    let (credentials, mic_der) = cert_credentials();
    let mut cfg = client_config("127.0.0.1:1".parse().unwrap(), vec![]);
    cfg.progress_interval = Some(Duration::from_millis(1));
    cfg.min_keygen_time = Duration::from_millis(20);
    let mut handler = TestHandler { mic: mic_der, ..Default::default() };
    let outcome = CapfClient::run_over(stream, &cfg, &identity(credentials), &mut handler).await.unwrap();
    assert!(outcome.is_success());
    assert!(outcome.tls.is_none());
    let seen: Vec<RawMessage> = server.await.unwrap();
    let writes = writes.lock().unwrap().clone();
    // Each write is exactly one whole message, and together they are what the server read.
    assert_eq!(writes.len(), seen.len());
    for (write, message) in writes.iter().zip(&seen) {
        assert_eq!(write, &message.encode().unwrap());
        assert_eq!(message.session_id, 21);
    }
    let commands: Vec<Command> = seen.iter().map(|m| m.command).collect();
    assert_eq!(commands.first(), Some(&Command::AuthResponse));
    assert!(commands.contains(&Command::RequestInProgress));
    assert_eq!(&commands[commands.len() - 2..], &[Command::KeyGenResponse, Command::StoreCertificateResponse]);
}
