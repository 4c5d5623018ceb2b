//! The seed's remedies (domain rules 5, 6 and 9), written once for every diagnostic.

use opencapf_pki::CertificateKind;

/// Rule 5: a phone that keeps an LSC of its old cluster.
pub(crate) const OTHER_CLUSTER: &[&str] = &[
    "LSC from another cluster (rule 5): register the phone with a Non Secure profile, delete its LSC (Certificate \
     Operation: Delete, e.g. `opencapf device set SEP… --operation delete --auth null`), install an LSC of this \
     cluster (`--operation install`), then register it with the secure profile again",
    "Or register it secure with its MIC: delete the old LSC and make sure the manufacturing CA of the MIC is in \
     CallManager-trust",
];

/// Rule 9: the CAPF certificate that issued the LSC left CallManager-trust before the LSC was replaced.
pub(crate) const CAPF_REMOVED: &[&str] = &[
    "CAPF certificate removed too early (rule 9): put the CAPF certificate that issued the LSC back into \
     CallManager-trust (and CAPF-trust): `opencapf trust add CallManager-trust OLD-CAPF.pem` (OpenCAPF applies \
     it to the next connection; CUCM needs the CallManager service restarted)",
    "Then give those phones LSCs of the current CAPF certificate (`opencapf capf reissue`) and remove the old CAPF \
     certificate only when no device uses it any more (`opencapf doctor` says when it is safe)",
];

/// Rule 6: the quick test.
pub(crate) const QUICK_TEST: &str = "Quick test (rule 6): delete the LSC on one phone to force it onto its MIC; if it \
                               registers with the MIC, the fault is in the LSC";

pub(crate) const MIC_CA_MISSING: &str =
    "Add the manufacturing CA that issued the MIC (e.g. Cisco Manufacturing CA SHA2) to \
                                  CallManager-trust: `opencapf trust add CallManager-trust \
                                  Cisco_Manufacturing_CA_SHA2.pem`; or give the phone an LSC (Install/Upgrade)";

pub(crate) const INVALID_LSC: &str =
    "Add the CAPF certificate that issued the LSC to CAPF-trust, or run the operation \
                               By Authentication String or By Null String, or By Existing Certificate (Precedence \
                               to MIC)";

/// What to do after a fatal alert.
pub(crate) fn for_refusal(
    alert: &str,
    by: &str,
    kind: Option<CertificateKind>,
    issuer: &str,
    cluster: bool,
) -> Vec<String> {
    let mut out = Vec::new();
    match (alert, by) {
        ("unknown_ca" | "encrypted alert" | "bad_certificate" | "certificate_unknown", "server") => match kind {
            Some(CertificateKind::LscOtherCluster) => out.extend(OTHER_CLUSTER.iter().map(|s| s.to_string())),
            Some(CertificateKind::LscThisCluster) => out.extend(CAPF_REMOVED.iter().map(|s| s.to_string())),
            Some(CertificateKind::Lsc) => {
                out.push(format!(
                    "Two likely causes. Check whether {issuer} is this cluster's CAPF certificate (run again with \
                     --data-dir, or `opencapf capf show`)"
                ));
                out.extend(OTHER_CLUSTER.iter().map(|s| s.to_string()));
                out.extend(CAPF_REMOVED.iter().map(|s| s.to_string()));
                out.push(QUICK_TEST.into());
            }
            Some(CertificateKind::Mic) => out.push(MIC_CA_MISSING.into()),
            _ if !cluster => {
                out.extend(OTHER_CLUSTER.iter().map(|s| s.to_string()));
                out.extend(CAPF_REMOVED.iter().map(|s| s.to_string()));
                out.push(QUICK_TEST.into());
            }
            _ => out.push("Add the issuer of the client certificate to the server's trust store".into()),
        },
        ("unknown_ca" | "bad_certificate" | "certificate_unknown", "client") => out.push(
            "The phone does not trust the server's certificate: check the phone's trust list (ITL/CTL) holds the \
             CallManager and CAPF certificates of this cluster (`opencapf trust export-itl --out FILE`); a phone moved \
             from another cluster needs its old ITL removed (Settings > Security > Trust List, or a factory reset)"
                .into(),
        ),
        ("certificate_expired", "server") => out.push(
            "The client certificate has expired: give the phone a new LSC (Install/Upgrade By Authentication String \
             or By Null String; an expired LSC cannot authenticate By Existing Certificate)"
                .into(),
        ),
        ("certificate_required" | "handshake_failure", "server") => out.push(
            "The server requires a client certificate: a phone always presents its LSC, or its MIC; check the client \
             is a provisioned phone and the device security profile"
                .into(),
        ),
        _ => out.push("Compare the TLS versions and cipher suites both sides allow".into()),
    }
    out
}

/// What to do when a store would refuse a device certificate.
pub(crate) fn for_untrusted(store: &str, kind: Option<CertificateKind>) -> Vec<String> {
    let mut out = Vec::new();
    match (store, kind) {
        ("CAPF-trust", Some(CertificateKind::Mic)) => {
            out.push("Add the manufacturing CA to CAPF-trust, or use By Authentication String / By Null String".into())
        }
        ("CAPF-trust", _) => out.push(INVALID_LSC.into()),
        (_, Some(CertificateKind::LscOtherCluster)) => out.extend(OTHER_CLUSTER.iter().map(|s| s.to_string())),
        (_, Some(CertificateKind::LscThisCluster)) => out.extend(CAPF_REMOVED.iter().map(|s| s.to_string())),
        (_, Some(CertificateKind::Mic)) => out.push(MIC_CA_MISSING.into()),
        _ => out.push(
            "Add the issuer of the certificate to CallManager-trust, or give the phone an LSC of this cluster".into(),
        ),
    }
    out
}

/// What happens next for the phones after `capf regenerate`, while `on_old_capf` of them still
/// hold an LSC of a retired CAPF certificate (rule 9). Shown by `capf regenerate` and `doctor`.
pub fn after_capf_regenerate(on_old_capf: usize) -> Vec<String> {
    let mut steps = vec![
        "Reset the phones (`opencapf device reset --all`): they trust the new CAPF certificate only once they have \
         downloaded the new ITL that lists it"
            .to_owned(),
    ];
    if on_old_capf > 0 {
        steps.push(format!(
            "Re-key the {on_old_capf} phone(s) still on the old CAPF: `opencapf capf reissue` schedules Install/Upgrade \
             By Existing Certificate (Precedence to LSC); their current LSC authenticates them, since the old \
             certificate stays in CAPF-trust"
        ));
        steps.push(
            "Stragglers (phones off-line, or past the deadline): run `opencapf capf reissue` again; `opencapf doctor` \
             counts the phones still on the old CAPF"
                .to_owned(),
        );
    }
    steps.push(
        "Remove the old certificate from CallManager-trust, CAPF-trust, 802.1x servers and VPN head-ends only when no \
         phone is left on it (`opencapf doctor` says when it is safe)"
            .to_owned(),
    );
    steps
}
