use super::*;

fn hello(version: u16, suites: &[u16], supported: &[u16]) -> ClientHelloSummary {
    ClientHelloSummary {
        record_version: 0x0301,
        legacy_version: version,
        supported_versions: supported.to_vec(),
        cipher_suites: suites.to_vec(),
        compression_methods: vec![0],
        extensions: vec![],
    }
}

const AES256_SHA: u16 = 0x0035;
const AES128_SHA: u16 = 0x002f;
const ECDHE_RSA_AES128_GCM: u16 = 0xc02f;
const TLS13_AES128_GCM: u16 = 0x1301;

fn legacy(min_version: MinVersion, cbc: bool, null_sha: bool) -> LegacyPolicy {
    LegacyPolicy { min_version, cbc, null_sha, empty_fragments: false }
}

#[test]
fn the_cluster_settings_make_the_policy_and_null_sha_needs_both_switches() {
    let mut s = opencapf_model::TlsSettings {
        min_version: opencapf_model::TlsVersion::Tls10,
        cbc: true,
        ..Default::default()
    };
    let p = LegacyPolicy::from_settings(&s, true);
    assert_eq!((p.min_version, p.cbc, p.null_sha), (MinVersion::Tls10, true, s.null_sha));
    assert!(!LegacyPolicy::from_settings(&s, false).null_sha, "a listener without NULL-SHA never offers it");
    s.min_version = opencapf_model::TlsVersion::Tls13;
    assert_eq!(LegacyPolicy::from_settings(&s, true).min_version, MinVersion::Tls12);
}

#[test]
fn the_default_is_tls12_with_cbc_and_null_off_and_empty_fragments_as_capfd() {
    let p = LegacyPolicy::default();
    assert_eq!((p.min_version, p.cbc, p.null_sha, p.empty_fragments), (MinVersion::Tls12, false, false, true));
    assert!(p.suites().is_empty());
}

#[test]
fn rustls_serves_modern_clients_whatever_the_policy() {
    for policy in [LegacyPolicy::default(), legacy(MinVersion::Tls10, true, true)] {
        let tls13 = hello(0x0303, &[TLS13_AES128_GCM, AES128_SHA], &[0x0304, 0x0303]);
        assert_eq!(choose(&tls13, &policy), Route::Rustls);
        let tls12 = hello(0x0303, &[AES256_SHA, ECDHE_RSA_AES128_GCM], &[]);
        assert_eq!(choose(&tls12, &policy), Route::Rustls);
    }
}

#[test]
fn a_rustls_suite_needs_its_version() {
    // A TLS 1.3 suite offered by a TLS 1.2 client, and a TLS 1.2 suite by a TLS 1.3-only one.
    let p = legacy(MinVersion::Tls10, true, false);
    assert_eq!(choose(&hello(0x0303, &[TLS13_AES128_GCM, AES128_SHA], &[]), &p), Route::OpenSsl);
    let only13 = hello(0x0303, &[ECDHE_RSA_AES128_GCM], &[0x0304]);
    assert!(matches!(choose(&only13, &p), Route::Refuse(Refusal::NoSharedSuite { .. })));
}

#[test]
fn a_tls10_phone_goes_to_openssl_when_allowed() {
    let phone = hello(0x0301, &[AES256_SHA, AES128_SHA], &[]);
    assert_eq!(choose(&phone, &legacy(MinVersion::Tls10, true, false)), Route::OpenSsl);
    let Route::Refuse(r) = choose(&phone, &legacy(MinVersion::Tls11, true, false)) else { panic!() };
    assert_eq!(r.to_string(), "TLS 1.0 is below the cluster's minimum 1.1");
    let Route::Refuse(r) = choose(&phone, &LegacyPolicy::default()) else { panic!() };
    assert_eq!(r.to_string(), "TLS 1.0 is below the cluster's minimum 1.2");
}

#[test]
fn cbc_off_names_the_offer_and_the_switch() {
    let phone = hello(0x0301, &[AES256_SHA, AES128_SHA, 0x00ff], &[]);
    let Route::Refuse(r) = choose(&phone, &legacy(MinVersion::Tls10, false, true)) else { panic!() };
    assert_eq!(r.to_string(), "no shared cipher suite: offered AES256-SHA, AES128-SHA; CBC suites are off");
}

#[test]
fn null_sha_follows_its_switch() {
    let authenticated = hello(0x0303, &[0x0002], &[]);
    assert_eq!(choose(&authenticated, &legacy(MinVersion::Tls12, false, true)), Route::OpenSsl);
    let Route::Refuse(r) = choose(&authenticated, &legacy(MinVersion::Tls12, true, false)) else { panic!() };
    assert_eq!(r.to_string(), "no shared cipher suite: offered NULL-SHA; NULL-SHA is off");
}

#[test]
fn nothing_either_engine_has() {
    // 3DES and RC4 only: no switch would help, so none is named.
    let old = hello(0x0303, &[0x000a, 0x0005], &[]);
    let Route::Refuse(r) = choose(&old, &legacy(MinVersion::Tls10, true, true)) else { panic!() };
    assert_eq!(
        r.to_string(),
        "no shared cipher suite: offered TLS_RSA_WITH_3DES_EDE_CBC_SHA, TLS_RSA_WITH_RC4_128_SHA"
    );
    let empty = hello(0x0303, &[], &[]);
    let Route::Refuse(r) = choose(&empty, &legacy(MinVersion::Tls10, true, true)) else { panic!() };
    assert_eq!(r.to_string(), "no shared cipher suite: offered none");
}

#[test]
fn long_offers_are_cut() {
    let many: Vec<u16> = (0x0001..=0x000c).collect();
    let Route::Refuse(r) = choose(&hello(0x0303, &many, &[]), &LegacyPolicy::default()) else { panic!() };
    assert!(r.to_string().contains(", and 4 more; NULL-SHA is off"), "{r}");
}

#[test]
fn ssl3_and_unknown_versions() {
    let p = legacy(MinVersion::Tls10, true, true);
    let Route::Refuse(r) = choose(&hello(0x0300, &[AES128_SHA], &[]), &p) else { panic!() };
    assert_eq!(r.to_string(), "SSL 3.0 is not served (TLS 1.0 to 1.3 only)");
    let Route::Refuse(r) = choose(&hello(0x0303, &[AES128_SHA], &[0x7f1c]), &p) else { panic!() };
    assert_eq!(r.to_string(), "version 0x7f1c is not served (TLS 1.0 to 1.3 only)");
}

#[test]
fn a_tls11_client_meets_each_minimum() {
    let c = hello(0x0302, &[AES128_SHA], &[]);
    assert_eq!(choose(&c, &legacy(MinVersion::Tls10, true, false)), Route::OpenSsl);
    assert_eq!(choose(&c, &legacy(MinVersion::Tls11, true, false)), Route::OpenSsl);
    assert!(matches!(choose(&c, &legacy(MinVersion::Tls12, true, false)), Route::Refuse(Refusal::BelowMinimum { .. })));
}

#[test]
fn policy_suites_are_openssl_names() {
    let names: Vec<_> = legacy(MinVersion::Tls10, true, true).suites().into_iter().map(|(_, n)| n).collect();
    assert_eq!(names, ["ECDHE-RSA-AES128-SHA", "ECDHE-RSA-AES256-SHA", "AES128-SHA", "AES256-SHA", "NULL-SHA"]);
    for (id, name) in CBC_SUITES.iter().chain([&NULL_SHA]) {
        let rustls_name = crate::cipher_name(CipherSuite::from(*id));
        if !rustls_name.starts_with("TLS_") {
            assert_eq!(&rustls_name, name);
        }
    }
}
