//! `phone boot --stay`: the registration is kept (refreshes, answers); CallManager's
//! service-control `reset` or `restart` for the current Call-ID makes the phone boot again from
//! the start (ITL, configuration, CAPF if now pending, registration with the possibly new LSC);
//! `apply-config` fetches the configuration again and refreshes the registration. A boot that
//! does not end registered is tried again after a pause. Stops (unregistering) when `stop`
//! completes.

use std::future::Future;
use std::time::Duration;

use tokio::time::sleep;

use super::{BootOptions, BootReport};
use crate::register::{Interrupt, Kept, RegisterOptions};
use crate::{Phone, Result};

/// After a boot that did not end registered, the phone boots again after this.
const REBOOT_PAUSE: Duration = Duration::from_secs(5);

/// A booted phone's kept registration ([`Phone::boot_keeping_registration`]).
pub struct Booted {
    register: RegisterOptions,
    kept: Kept,
}

impl Phone {
    /// [`Phone::boot`], keeping a SIP registration's connection for [`Phone::stay_booted`].
    pub async fn boot_keeping_registration(&self, opts: &BootOptions) -> Result<(BootReport, Option<Booted>)> {
        let (report, kept) = self.boot_keeping(opts, true).await?;
        Ok((report, kept.map(|(register, kept)| Booted { register, kept })))
    }

    /// Keeps a booted phone registered until `stop` (see the module doc).
    pub async fn stay_booted(&self, opts: &BootOptions, booted: Booted, stop: impl Future<Output = ()>) -> Result<()> {
        tokio::pin!(stop);
        let log = self.console();
        let Booted { mut register, mut kept } = booted;
        loop {
            match self.keep_booted(&register, kept, &mut stop).await? {
                Interrupt::Stopped => return Ok(()),
                Interrupt::ApplyConfig(mut k) => {
                    let mut report = BootReport::new(self);
                    match self.config_step(&opts.file_server(), &mut report).await? {
                        Some(_) => log.info("BOOT: -Configuration applied"),
                        None => log.warn(
                            "BOOT: -Apply Config: the configuration could not be fetched; keeping the current one",
                        ),
                    };
                    if k.refresh().await {
                        kept = k;
                        continue;
                    }
                    log.warn("SIP: -Could not refresh the registration; booting again");
                }
                Interrupt::Restart(action) => {
                    log.info(&format!("BOOT: -{action}: booting again"));
                }
            }
            loop {
                let booted = tokio::select! {
                    () = stop.as_mut() => return Ok(()),
                    r = self.boot_keeping(opts, true) => r?,
                };
                match booted {
                    (_, Some((r, k))) => {
                        (register, kept) = (r, k);
                        break;
                    }
                    (report, None) => {
                        let why = report.failure.unwrap_or_else(|| "the registration was not kept".into());
                        log.warn(&format!("BOOT: -{why}; booting again in {} s", REBOOT_PAUSE.as_secs()));
                        tokio::select! {
                            () = stop.as_mut() => return Ok(()),
                            () = sleep(REBOOT_PAUSE) => {}
                        }
                    }
                }
            }
        }
    }
}
