//! Issue 14: the counters of `/metrics` move when a phone runs CAPF and registers, in-process
//! (CAPF server and client, CallManager and a phone's TLS on one cluster), read back from
//! `opencapf_telemetry::render` as a scraper reads them.

mod common;

use std::time::Duration;

use common::{register, sip_exchange, tls_connect, Cluster, Phone, Version};
use opencapf_capf::client::{CapfClient, ClientConfig, Credentials, PhoneIdentity, SessionHandler};
use opencapf_capf::proto::message::CertType;
use opencapf_capf::{CapfConfig, CapfServer};
use opencapf_model::{AuthMode, CapfUpdate, CertificateOperation, KeyOrder, Protocol, SecurityMode, Service};
use opencapf_pki::PrivateKey;
use opencapf_telemetry::{check_exposition, render, sample_value, ClusterGauges};
use tokio::net::TcpStream;

const A: &str = "SEP00000000E014";

/// The phone's side of CAPF: keeps the LSC it is sent.
#[derive(Default)]
struct Keeper(Option<Phone>);

impl SessionHandler for Keeper {
    fn store_lsc(&mut self, lsc_der: &[u8], key: &PrivateKey) -> Result<(), String> {
        self.0 = Some(Phone { cert: lsc_der.to_vec(), key: key.clone() });
        Ok(())
    }
    fn delete_lsc(&mut self) -> Result<bool, String> {
        Ok(false)
    }
    fn certificate_to_upload(&mut self, _requested: Option<CertType>) -> Option<Vec<u8>> {
        None
    }
}

fn scrape() -> String {
    let text = render(&ClusterGauges::default());
    check_exposition(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    text
}

fn value(text: &str, name: &str, labels: &[(&str, &str)]) -> f64 {
    sample_value(text, name, labels).unwrap_or(0.0)
}

/// `value` once it reaches `want`, or what it is after 10 s: the server counts a session after
/// its EndSession, which the client may have read first.
async fn settled(name: &str, labels: &[(&str, &str)], want: f64) -> f64 {
    for _ in 0..200 {
        let v = value(&scrape(), name, labels);
        if v >= want {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    value(&scrape(), name, labels)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn capf_and_registration_move_their_counters() {
    let c = Cluster::new().await;
    c.add_device(A, Protocol::Sip, SecurityMode::Encrypted).await;
    let update = CapfUpdate {
        operation: CertificateOperation::InstallUpgrade,
        auth_mode: AuthMode::NullString,
        auth_string: None,
        key_order: KeyOrder::EcOnly,
        rsa_bits: 2048,
        ec_bits: 256,
        completes_by: Some(time::OffsetDateTime::now_utc() + time::Duration::days(1)),
    };
    c.store.save_capf(&A.parse().unwrap(), &update, "test", "test").await.unwrap();
    let config = CapfConfig { listen: "127.0.0.1:0".parse().unwrap(), ..CapfConfig::default() };
    let (capf_addr, capf) = CapfServer::bind(c.store.clone(), config).await.unwrap();
    tokio::spawn(capf.serve_until(std::future::pending()));
    let server = c.start().await;

    let before = scrape();
    let success = [("operation", "install_upgrade"), ("result", "success")];
    let unknown = [("operation", "none"), ("result", "unknown_device")];
    let sessions = |t: &str, l: &[(&str, &str)]| value(t, "opencapf_capf_sessions_total", l);
    let issued = |t: &str| value(t, "opencapf_capf_issuance_seconds_count", &[]);

    // CAPF Install/Upgrade by Null String: one successful session, one LSC issued.
    let capf_der = c.store.require_certificate(Service::Capf).await.unwrap().der;
    let client = ClientConfig::new(capf_addr.to_string(), vec![capf_der]);
    let phone = PhoneIdentity { device_name: A.into(), credentials: Credentials::NullString, sudi: None };
    let mut keeper = Keeper::default();
    CapfClient::run(&client, &phone, &mut keeper).await.unwrap();
    let lsc = keeper.0.expect("the phone was sent its LSC");
    let want = sessions(&before, &success) + 1.0;
    assert_eq!(settled("opencapf_capf_sessions_total", &success, want).await, want);
    assert_eq!(issued(&scrape()), issued(&before) + 1.0);
    // And a phone the cluster does not know.
    let stranger = PhoneIdentity { device_name: "SEP00000000E099".into(), ..phone };
    CapfClient::run(&client, &stranger, &mut Keeper::default()).await.unwrap();
    let want = sessions(&before, &unknown) + 1.0;
    assert_eq!(settled("opencapf_capf_sessions_total", &unknown, want).await, want);

    // SIP over TLS with the new LSC: one registration; the connection counts open meanwhile.
    let mut tls =
        tls_connect(server.addrs.sip_tls.unwrap(), &server.cm_cert, Some(&lsc), Version::Tls13).await.unwrap();
    let ok = sip_exchange(&mut tls, &register(A, A, "TLS", 600)).await.unwrap();
    assert_eq!(ok.code(), Some(200), "{ok:?}");
    let text = scrape();
    let sip_tls = [("transport", "sip-tls")];
    let registrations = |t: &str, l: &[(&str, &str)]| value(t, "opencapf_registrations_total", l);
    assert_eq!(registrations(&text, &sip_tls), registrations(&before, &sip_tls) + 1.0);
    assert!(value(&text, "opencapf_open_connections", &[("listener", "SIP over TLS")]) >= 1.0, "{text}");

    // The same device over SIP TCP: refused, its security profile requires TLS.
    let mut tcp = TcpStream::connect(server.addrs.sip_tcp.unwrap()).await.unwrap();
    let refused = sip_exchange(&mut tcp, &register(A, A, "TCP", 600)).await.unwrap();
    assert_eq!(refused.code(), Some(403), "{refused:?}");
    let text = scrape();
    let tls_required = [("transport", "sip-tcp"), ("reason", "tls_required")];
    let refusals = |t: &str| value(t, "opencapf_registration_refusals_total", &tls_required);
    assert_eq!(refusals(&text), refusals(&before) + 1.0);
    assert_eq!(registrations(&text, &[("transport", "sip-tcp")]), registrations(&before, &[("transport", "sip-tcp")]));
}
