//! `opencapf mfg init|issue`: the lab manufacturer.

use anyhow::{bail, Context as _};
use opencapf_cluster::{cli_actor, Cluster};
use opencapf_model::Service;
use opencapf_phone::TlsFamily;
use opencapf_pki::{profiles, CaSigner, DeviceName, KeyAlgorithm, PrivateKey};

use super::Context;
use crate::cli::MfgCommand;
use crate::output;

pub(crate) async fn run(ctx: &Context, cmd: MfgCommand) -> anyhow::Result<()> {
    let store = ctx.cluster().await?;
    match cmd {
        MfgCommand::Init => {
            let root = store.mfg_init(&cli_actor()).await?;
            if ctx.json {
                return output::json(&root);
            }
            outln!("Created the lab manufacturer: {} ({})", root.subject, &root.fingerprint[..16]);
            outln!(
                "It is not trusted yet: to accept its MICs, `opencapf mfg export --out lab-ca.pem`, then \
                 `opencapf trust add CAPF-trust lab-ca.pem` (and CallManager-trust for TLS with a MIC). \
                 79xx-era models get MICs from its older SHA-1 CA: `opencapf mfg export --legacy`."
            );
            Ok(())
        }
        MfgCommand::Export { out, legacy } => {
            let der = match legacy {
                true => store.lab_manufacturer_sha1().await?.0.der,
                false => store.require_certificate(Service::LabManufacturer).await?.der,
            };
            let pem = opencapf_pki::pem::encode("CERTIFICATE", &der);
            match out {
                Some(path) => {
                    std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
                    let which = if legacy { "older SHA-1 CA" } else { "root certificate" };
                    errln!("Wrote the lab manufacturer's {which} to {}", path.display());
                }
                None => print!("{pem}"),
            }
            Ok(())
        }
        MfgCommand::Issue { name, model, key, out } => {
            let device: DeviceName = name.parse()?;
            let alg: KeyAlgorithm = key.parse()?;
            let key_path = out.join("mic.key");
            if key_path.exists() {
                bail!("{} exists: a phone's MIC is never replaced", key_path.display());
            }
            let (signer, ca_der) = lab_signer(&store, &model).await?;
            let phone_key = PrivateKey::generate(alg)?;
            let serial = profiles::random_mic_serial();
            let mic = profiles::lab_mic(
                &signer,
                &device,
                &model,
                &serial,
                phone_key.public_key_der(),
                opencapf_model::now(),
            )?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            opencapf_cluster::write_key_file(&key_path, &phone_key)?;
            std::fs::write(out.join("mic.pem"), mic.pem()).context("writing mic.pem")?;
            let ca_pem = opencapf_pki::pem::encode("CERTIFICATE", &ca_der);
            std::fs::write(out.join("manufacturer-ca.pem"), ca_pem).context("writing manufacturer-ca.pem")?;
            store.record_mic_issued(&device, &mic, &cli_actor()).await?;
            if ctx.json {
                return output::json(&mic.info);
            }
            outln!("Issued the lab MIC {} into {}", mic.info.subject, out.display());
            Ok(())
        }
    }
}

/// The lab CA that issues this model's MIC, and its certificate: the older SHA-1 CA for the
/// families whose real MICs come from Cisco's SHA-1 manufacturing CAs (cucm-reference §4).
pub(crate) async fn lab_signer(store: &Cluster, model: &str) -> anyhow::Result<(CaSigner, Vec<u8>)> {
    if TlsFamily::of_model(model).older_mic_issuer() {
        let (older, signer) = store.lab_manufacturer_sha1().await?;
        return Ok((signer, older.der));
    }
    let der = store.require_certificate(Service::LabManufacturer).await?.der;
    Ok((store.signer(Service::LabManufacturer).await?, der))
}
