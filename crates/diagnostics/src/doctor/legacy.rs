//! The phones whose newest registration was legacy TLS (below 1.2, a CBC or NULL suite): while
//! they are in the fleet, `tls.min_version` and `tls.cbc` cannot go back to modern TLS only.

use opencapf_model::{Registration, RegistrationResult, TlsVersion};

use crate::finding::{Finding, Severity};

pub(super) fn newest(registrations: &[Registration]) -> Option<Finding> {
    let legacy: Vec<&Registration> = registrations
        .iter()
        .filter(|r| r.result == RegistrationResult::Registered && r.is_legacy() && r.device.is_some())
        .collect();
    if legacy.is_empty() {
        return None;
    }
    let lowest = legacy.iter().filter_map(|r| r.tls_version.as_deref().and_then(TlsVersion::from_name)).min();
    let on = match lowest {
        Some(v) if v.is_legacy() => format!("TLS {}", v.token()),
        _ => "CBC or NULL suites".to_owned(),
    };
    let names: Vec<String> = legacy.iter().filter_map(|r| r.device.clone()).collect();
    Some(
        Finding::new(
            Severity::Warning,
            "legacy-tls-phones",
            format!("{} device(s) last registered over legacy TLS: these phones hold the fleet on {on}", names.len()),
        )
        .detail(
            "Their newest registration used TLS below 1.2 or a CBC or NULL cipher suite, served by the OpenSSL \
             engine; `opencapf registrations` marks each such registration (legacy)",
        )
        .remedies([
            "Replace or upgrade these phones (79xx and older 89xx/99xx firmware offer only TLS 1.0 and AES-SHA)",
            "Once none is left, `opencapf settings set tls.min_version 1.2` and `opencapf settings set tls.cbc off`",
        ])
        .devices(names),
    )
}
