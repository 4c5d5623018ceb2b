//! Issue 9's attacks on credentials, through the real CAPF listener: parallel guessing against
//! the lock-out, a second LSC from one credential, a late session overwriting a finished
//! operation, a replayed certificate AuthResponse without SudiData, and strings at rest.

use crate::server_common;

use std::time::Duration;

use opencapf_capf::proto::message::Reason;
use opencapf_model::{AuthMode, CertificateOperation, KeyOrder};
use opencapf_pki::{KeyAlgorithm, PrivateKey};
use server_common::*;
use tokio::task::JoinSet;

const PHONE: &str = "SEP001122334455";
const OTHER: &str = "SEP00AABBCCDDEE";
const RIGHT: &str = "4711";

/// A lab with room for 100 sessions at once and handshakes on a busy machine.
async fn lab(max_auth_failures: u32) -> Lab {
    let config = opencapf_capf::CapfConfig {
        max_sessions: 256,
        max_auth_failures,
        handshake_timeout: Duration::from_secs(30),
        auth_timeout: Duration::from_secs(30),
        ..test_config()
    };
    Lab::start_with(KeyAlgorithm::Rsa2048, config).await
}

/// A lab (five failures allowed) with PHONE scheduled By Authentication String RIGHT.
async fn phone_with_string() -> Lab {
    let lab = lab(5).await;
    lab.add_device(PHONE).await;
    schedule_string(&lab, PHONE, RIGHT).await;
    lab
}

async fn schedule_string(lab: &Lab, name: &str, digits: &str) {
    let op = CertificateOperation::InstallUpgrade;
    lab.schedule(name, op, AuthMode::AuthenticationString, Some(digits), KeyOrder::EcOnly).await;
}

async fn wrong_strings_recorded(lab: &Lab, name: &str) -> usize {
    lab.history(name).await.iter().filter(|h| h.status.ends_with("Invalid Authentication String")).count()
}

#[tokio::test]
async fn parallel_guesses_stop_at_the_limit_and_other_phones_still_get_lscs() {
    let lab = lab(5).await;
    lab.add_device(PHONE).await;
    lab.add_device(OTHER).await;
    schedule_string(&lab, PHONE, RIGHT).await;
    lab.schedule_install(OTHER, AuthMode::NullString, KeyOrder::EcOnly).await;

    let capf = lab.capf_der().await;
    let mut guesses = JoinSet::new();
    for guess in 1000..1100 {
        let (addr, capf) = (lab.addr, capf.clone());
        guesses.spawn(async move {
            let mut phone = Phone::connect(addr, capf, opencapf_tls::TlsVersions::Tls12And13).await;
            phone.authenticate(PHONE, &Creds::Password(guess.to_string())).await;
            phone.end_reason().await
        });
    }
    // A legitimate phone on another device, during the storm.
    let (lsc, _) = install(&lab, OTHER, &Creds::Null).await;
    assert!(!lsc.is_empty());
    while let Some(reason) = guesses.join_next().await {
        let reason = reason.unwrap();
        assert!(matches!(reason, Reason::InvalidElement | Reason::NoAction), "{reason:?}");
    }
    let evaluated = wrong_strings_recorded(&lab, PHONE).await;
    assert!((1..=5).contains(&evaluated), "{evaluated} guesses evaluated");
    // Whatever the storm left, the limit holds one guess after another too.
    for guess in 2000..2010 {
        refused(&lab, PHONE, &Creds::Password(guess.to_string())).await;
    }
    assert_eq!(wrong_strings_recorded(&lab, PHONE).await, 5, "exactly max_auth_failures guesses evaluated");
    assert_eq!(lab.device(PHONE).await.capf.operation, CertificateOperation::NoPendingOperation);

    // Locked out: even the right string gets no LSC.
    assert_eq!(refused(&lab, PHONE, &Creds::Password(RIGHT.into())).await, Reason::NoAction);
    assert!(lab.issued(PHONE).await.is_empty());
    assert_eq!(lab.device(OTHER).await.capf.status, "Upgrade Success");
}

#[tokio::test]
async fn a_refused_store_spends_the_string() {
    let lab = phone_with_string().await;

    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Password(RIGHT.into())).await;
    phone.answer_keygen(0).await;
    phone.store_lsc(false).await;
    assert_eq!(phone.end_reason().await, Reason::InvalidElement);

    // The same string again: nothing pending, no second LSC.
    assert_eq!(refused(&lab, PHONE, &Creds::Password(RIGHT.into())).await, Reason::NoAction);
    assert_eq!(lab.issued(PHONE).await.len(), 1, "one credential, one LSC");
    let d = lab.device(PHONE).await;
    assert_eq!(d.capf.operation, CertificateOperation::NoPendingOperation);
    assert!(!d.capf.auth_string_set);
    assert!(last_history(&lab, PHONE).await.detail.contains("credential spent: schedule the operation again"));
}

#[tokio::test]
async fn a_late_session_does_not_overwrite_success() {
    let lab = phone_with_string().await;

    // The right phone holds the operation while it generates its key…
    let mut phone = lab.connect().await;
    phone.authenticate(PHONE, &Creds::Password(RIGHT.into())).await;
    let spec = match phone.recv().await {
        opencapf_capf::proto::message::Message::KeyGenRequest(k) => k.key,
        other => panic!("expected KeyGenRequest, got {other:?}"),
    };
    // …so a second session, with a wrong string, ends at once, unrecorded.
    let history = lab.history(PHONE).await.len();
    assert_eq!(refused(&lab, PHONE, &Creds::Password("0000".into())).await, Reason::InvalidElement);
    assert_eq!(lab.history(PHONE).await.len(), history, "a refused concurrent session records nothing");
    assert_eq!(wrong_strings_recorded(&lab, PHONE).await, 0);

    let key = generate(spec);
    phone
        .send(opencapf_capf::proto::message::KeyGenResponse {
            reason: None,
            public_key: Some(key.public_key_der().to_vec()),
        })
        .await;
    phone.store_lsc(true).await;
    assert_eq!(phone.end_reason().await, Reason::OK);
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Success");

    // Late sessions after success change nothing.
    for creds in [Creds::Password("0000".into()), Creds::Password(RIGHT.into()), Creds::Null] {
        assert_eq!(refused(&lab, PHONE, &creds).await, Reason::NoAction);
    }
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Success");
}

#[tokio::test]
async fn require_sudi_refuses_an_auth_response_without_sudi() {
    let lab = lab(5).await;
    lab.add_device(PHONE).await;
    let mic_key = PrivateKey::generate(KeyAlgorithm::Rsa2048).unwrap();
    let mic = lab.mic(PHONE, &mic_key);
    let op = CertificateOperation::InstallUpgrade;
    lab.schedule(PHONE, op, AuthMode::ExistingCertificateMic, None, KeyOrder::EcOnly).await;
    assert!(!lab.store.require_sudi().await.unwrap(), "off by default");
    lab.store.set_require_sudi(true, "test").await.unwrap();
    assert!(lab.store.status().await.unwrap().require_sudi);

    // A signed AuthResponse without the session-bound SudiData (as a replay would be).
    let replayable = Creds::Cert { der: mic.clone(), key: mic_key.clone(), sha1: true, sudi: false };
    assert_eq!(refused(&lab, PHONE, &replayable).await, Reason::InvalidElement);
    assert!(last_history(&lab, PHONE).await.detail.contains("capf.require_sudi"));
    assert!(lab.issued(PHONE).await.is_empty());

    // With SudiData the phone gets its LSC.
    install(&lab, PHONE, &Creds::Cert { der: mic, key: mic_key, sha1: true, sudi: true }).await;
    assert_eq!(lab.device(PHONE).await.capf.status, "Upgrade Success");
    assert!(lab.audit().await.iter().any(|a| a.action == "settings.set" && a.target == "capf.require_sudi"));
}

#[tokio::test]
async fn the_database_files_do_not_hold_the_string() {
    let lab = lab(5).await;
    lab.add_device(PHONE).await;
    lab.add_device(OTHER).await;
    const STRING: &str = "8264913075";
    schedule_string(&lab, PHONE, STRING).await;
    schedule_string(&lab, OTHER, STRING).await;
    // One used, one still pending.
    install(&lab, PHONE, &Creds::Password(STRING.into())).await;
    assert!(lab.device(OTHER).await.capf.auth_string_set);

    let dir = lab.store.data_dir().to_path_buf();
    for file in ["cluster.db", "cluster.db-wal"] {
        let path = dir.join(file);
        let Ok(bytes) = std::fs::read(&path) else { continue };
        let found = bytes.windows(STRING.len()).any(|w| w == STRING.as_bytes());
        assert!(!found, "{} holds the authentication string", path.display());
    }
    // Still usable: the pending one is checked against its keyed hash.
    install(&lab, OTHER, &Creds::Password(STRING.into())).await;
}
