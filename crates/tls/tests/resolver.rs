//! The resolver follows its source: the same certificate while the fingerprint is the same,
//! the new one from the next connection after it changes.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use opencapf_tls::{CertResolver, Identity, IdentitySource, SourceError, TlsVersions};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use tokio_rustls::TlsConnector;

/// Two certificates; `active` says which one the "store" holds now.
struct Switch {
    certs: Vec<(Vec<u8>, Vec<u8>)>,
    active: Mutex<usize>,
    loads: AtomicUsize,
}

impl IdentitySource for Switch {
    type Extra = usize;

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(format!("fp{}", *self.active.lock().unwrap()))
    }

    async fn load(&self) -> Result<Identity<usize>, SourceError> {
        self.loads.fetch_add(1, Ordering::SeqCst);
        let i = *self.active.lock().unwrap();
        let (der, key) = self.certs[i].clone();
        Ok(Identity { fingerprint: format!("fp{i}"), chain: vec![der], key, extra: i })
    }
}

/// Accepts any server certificate: the test compares what was presented.
#[derive(Debug)]
struct AnyServer;

impl ServerCertVerifier for AnyServer {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(m, c, d, &opencapf_tls::provider().signature_verification_algorithms)
    }

    fn verify_tls13_signature(
        &self,
        m: &[u8],
        c: &CertificateDer<'_>,
        d: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(m, c, d, &opencapf_tls::provider().signature_verification_algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        opencapf_tls::provider().signature_verification_algorithms.supported_schemes()
    }
}

/// The certificate a new connection is served.
async fn presented(resolver: &CertResolver<Switch>) -> Vec<u8> {
    let served = resolver.current().await.unwrap();
    let (client, server) = tokio::io::duplex(16 * 1024);
    let config =
        opencapf_tls::client_config(opencapf_tls::provider(), TlsVersions::Tls12And13, Arc::new(AnyServer), None)
            .unwrap();
    let connect = TlsConnector::from(Arc::new(config)).connect(ServerName::try_from("cm.lab").unwrap(), client);
    let (client, server) = tokio::join!(connect, served.acceptor().accept(server));
    server.unwrap();
    client.unwrap().get_ref().1.peer_certificates().unwrap()[0].to_vec()
}

#[tokio::test]
async fn a_new_fingerprint_is_served_from_the_next_connection() {
    let certs = (0..2)
        .map(|_| {
            let c = rcgen::generate_simple_self_signed(vec!["cm.lab".to_string()]).unwrap();
            (c.cert.der().to_vec(), c.signing_key.serialize_der())
        })
        .collect::<Vec<_>>();
    let resolver =
        CertResolver::new(Switch { certs: certs.clone(), active: Mutex::new(0), loads: AtomicUsize::new(0) });

    assert_eq!(presented(&resolver).await, certs[0].0);
    assert_eq!(presented(&resolver).await, certs[0].0);
    assert_eq!(resolver.source().loads.load(Ordering::SeqCst), 1, "loaded once while the fingerprint is the same");

    *resolver.source().active.lock().unwrap() = 1;
    assert_eq!(presented(&resolver).await, certs[1].0, "regenerated: the next connection gets the new one");
    assert_eq!(resolver.current().await.unwrap().extra, 1);
    assert_eq!(resolver.source().loads.load(Ordering::SeqCst), 2);
}
