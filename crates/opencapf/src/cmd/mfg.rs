//! `opencapf mfg init|issue`: the lab manufacturer.

use anyhow::{bail, Context as _};
use opencapf_cluster::{cli_actor, Cluster};
use opencapf_model::Service;
use opencapf_pki::{profiles, DeviceName, KeyAlgorithm, PrivateKey};

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
                 `opencapf trust add CAPF-trust lab-ca.pem` (and CallManager-trust for TLS with a MIC)."
            );
            Ok(())
        }
        MfgCommand::Export { out } => {
            let pem = opencapf_pki::pem::encode("CERTIFICATE", &signer_cert_der(&store).await?);
            match out {
                Some(path) => {
                    std::fs::write(&path, pem).with_context(|| format!("writing {}", path.display()))?;
                    errln!("Wrote the lab manufacturer's root certificate to {}", path.display());
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
            let signer = store.signer(Service::LabManufacturer).await?;
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
            let ca_pem = opencapf_pki::pem::encode("CERTIFICATE", &signer_cert_der(&store).await?);
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

async fn signer_cert_der(store: &Cluster) -> anyhow::Result<Vec<u8>> {
    Ok(store.require_certificate(Service::LabManufacturer).await?.der)
}
