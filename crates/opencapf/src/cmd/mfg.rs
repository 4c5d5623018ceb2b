//! `opencapf mfg init|issue`: the lab manufacturer.

use anyhow::{bail, Context as _};
use opencapf_pki::{profiles, DeviceName, KeyAlgorithm, PrivateKey};
use opencapf_store::audit::{self, cli_actor};
use opencapf_store::{cluster, keyfile, Service};

use super::Context;
use crate::cli::MfgCommand;
use crate::output;

pub async fn run(ctx: &Context, cmd: MfgCommand) -> anyhow::Result<()> {
    let store = ctx.store().await?;
    match cmd {
        MfgCommand::Init => {
            let root = cluster::mfg_init(&store, &cli_actor()).await?;
            if ctx.json {
                return output::json(&root);
            }
            println!("Created the lab manufacturer: {} ({})", root.subject, &root.fingerprint[..16]);
            println!(
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
                    eprintln!("Wrote the lab manufacturer's root certificate to {}", path.display());
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
            let signer = cluster::signer(&store, Service::LabManufacturer).await?;
            let phone_key = PrivateKey::generate(alg)?;
            let serial = profiles::random_mic_serial();
            let mic = profiles::lab_mic(
                &signer,
                &device,
                &model,
                &serial,
                phone_key.public_key_der(),
                opencapf_store::now(),
            )?;
            std::fs::create_dir_all(&out).with_context(|| format!("creating {}", out.display()))?;
            keyfile::write_pem(&key_path, &phone_key)?;
            std::fs::write(out.join("mic.pem"), mic.pem()).context("writing mic.pem")?;
            let ca_pem = opencapf_pki::pem::encode("CERTIFICATE", &signer_cert_der(&store).await?);
            std::fs::write(out.join("manufacturer-ca.pem"), ca_pem).context("writing manufacturer-ca.pem")?;
            let mut conn = store.pool().acquire().await?;
            audit::record(
                &mut conn,
                &cli_actor(),
                "mfg.issue",
                device.as_str(),
                &format!("MIC serial {} {}", mic.info.serial, mic.info.subject),
            )
            .await?;
            if ctx.json {
                return output::json(&mic.info);
            }
            println!("Issued the lab MIC {} into {}", mic.info.subject, out.display());
            Ok(())
        }
    }
}

async fn signer_cert_der(store: &opencapf_store::Store) -> anyhow::Result<Vec<u8>> {
    let mut conn = store.pool().acquire().await?;
    Ok(opencapf_store::service::require_active(&mut conn, Service::LabManufacturer).await?.der)
}
