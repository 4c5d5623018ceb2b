//! `opencapf settings show` and `opencapf settings set KEY VALUE`.

use clap::Subcommand;
use opencapf_cluster::cli_actor;

use super::Context;
use crate::output::{self, Table};

#[derive(Subcommand)]
pub(crate) enum SettingsCommand {
    /// Every setting with its value and meaning
    Show,
    /// Change one setting (audited); new certificates and operations use it, issued ones keep theirs.
    /// Keys: lsc.validity_days, capf.operation_expires_days, capf.require_sudi, device.key_order,
    /// device.rsa_bits, device.ec_bits, subject.organization, subject.organizational_unit,
    /// subject.locality, subject.state, subject.country, tls.min_version (1.0, 1.1, 1.2), tls.cbc,
    /// tls.null_sha, tls.empty_fragments (on/off)
    Set {
        /// The setting's name, as `settings show` lists it
        key: String,
        /// Its new value; "" clears an optional subject field
        value: String,
    },
}

pub(crate) async fn run(ctx: &Context, c: SettingsCommand) -> anyhow::Result<()> {
    let store = ctx.cluster().await?;
    let shown = match c {
        SettingsCommand::Show => store.settings_list().await?,
        SettingsCommand::Set { key, value } => vec![store.set_setting(&key, &value, &cli_actor()).await?],
    };
    store.close().await;
    if ctx.json {
        return output::json(&shown);
    }
    let mut t = Table::new(&["SETTING", "VALUE", "MEANING"]);
    for s in shown {
        t.row(vec![s.key.to_string(), s.value.unwrap_or_else(|| "-".into()), s.description.to_string()]);
    }
    t.print();
    Ok(())
}
