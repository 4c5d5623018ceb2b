//! `opencapf init`: create the cluster.

use anyhow::Context as _;
use opencapf_cluster::{cli_actor, InitOptions};
use opencapf_pki::{KeyAlgorithm, SubjectFields};

use super::{read_certificates, Context};
use crate::cli::InitArgs;
use crate::output::{self, short_date};

pub(crate) async fn run(ctx: &Context, args: InitArgs) -> anyhow::Result<()> {
    let capf_key = args.capf_key;
    if !KeyAlgorithm::CAPF.contains(&capf_key) {
        anyhow::bail!("--capf-key {}: a CAPF key is rsa2048, rsa3072, rsa4096, ec256 or ec384", capf_key.token());
    }
    warn_ec_capf(capf_key);
    let mut manufacturer_cas = Vec::new();
    for path in &args.manufacturer_ca {
        manufacturer_cas.extend(read_certificates(path).with_context(|| "--manufacturer-ca")?);
    }
    let subject = SubjectFields {
        organization: Some(args.org),
        organizational_unit: args.ou,
        locality: args.locality,
        state: args.state,
        country: args.country,
    };
    let report = opencapf_cluster::init_with(
        &ctx.data_dir,
        ctx.named_database(),
        InitOptions {
            capf_key,
            subject,
            hostname: args.hostname.unwrap_or_else(opencapf_cluster::system_hostname),
            manufacturer_cas,
            actor: cli_actor(),
        },
    )
    .await?;
    if ctx.json {
        return output::json(&report);
    }
    let capf = opencapf_pki::CertificateInfo::parse(&report.capf.der)?;
    match ctx.named_database() {
        Some(db) => println!("Created the cluster in {db}, its private keys in {}", report.data_dir.display()),
        None => println!("Created the cluster in {}", report.data_dir.display()),
    }
    output::fields(&[
        ("CAPF certificate", format!("{} ({}, until {})", capf.subject, capf.key, short_date(capf.not_after))),
        ("CallManager certificate", format!("CN={}", report.callmanager.common_name)),
        (
            "ITLRecovery certificate",
            format!(
                "CN={} (signs the ITL, until {})",
                report.itl_recovery.common_name,
                &report.itl_recovery.not_after[..10]
            ),
        ),
        ("TVS certificate", format!("CN={}", report.tvs.common_name)),
        ("tomcat certificate", format!("CN={} (the admin web pages' HTTPS)", report.tomcat.common_name)),
        ("CallManager-trust", format!("CAPF, CallManager and {} manufacturing CA(s)", report.manufacturer_cas.len())),
        ("CAPF-trust", format!("CAPF and {} manufacturing CA(s)", report.manufacturer_cas.len())),
    ]);
    for m in &report.manufacturer_cas {
        println!("  trusted manufacturer: {m}");
    }
    if report.manufacturer_cas.is_empty() {
        warn_no_manufacturer();
    }
    Ok(())
}

/// Said when the CAPF key chosen is EC: allowed (labs, EC-only clients), but phones accept only an
/// RSA CAPF certificate (phone-boot.md §5, capf-protocol.md §1.1), so none would enroll.
pub(crate) fn warn_ec_capf(key: KeyAlgorithm) {
    if !key.is_rsa() {
        eprintln!(
            "warning: the CAPF key is {key}: phones accept only an RSA CAPF certificate (Cisco: the CAPF \
             certificate requires an RSA key), so they will refuse this CAPF's TLS. Use rsa2048 (the default) \
             for phones."
        );
    }
}

/// Said whenever a cluster is created without a manufacturing CA (by `serve`, in its log).
pub(crate) const NO_MANUFACTURER: &str = "no manufacturer is trusted yet, so real phones' MICs will be refused \
    (By Existing Certificate and TLS with a MIC). Download Cisco's manufacturing CAs from Cisco's public PKI page \
    (Cisco Manufacturing CA SHA2, Cisco Manufacturing CA, Cisco Root CA M2, Cisco Root CA 2048, ACT2 SUDI CA) and \
    add them with `opencapf trust add CAPF-trust FILE` and `opencapf trust add CallManager-trust FILE`.";

pub(crate) fn warn_no_manufacturer() {
    eprintln!("warning: {NO_MANUFACTURER}");
}
