//! The throw-away cluster a bench runs against: `n` SIP phones (Encrypted profile) with device
//! names from `first` on, created in one import.

use opencapf_cluster::{init, Cluster, InitOptions};
use opencapf_model::{NewDevice, Protocol, SecurityMode};
use opencapf_pki::{DeviceName, KeyAlgorithm, SubjectFields};

pub(super) async fn bench_cluster(
    dir: &std::path::Path,
    capf_key: KeyAlgorithm,
    n: usize,
    first: u64,
) -> anyhow::Result<(Cluster, Vec<DeviceName>)> {
    let options = InitOptions {
        capf_key,
        subject: SubjectFields { organization: Some("OpenCAPF bench".into()), ..Default::default() },
        hostname: "bench.invalid".into(),
        manufacturer_cas: Vec::new(),
        actor: "bench".into(),
    };
    init(dir, options).await?;
    let cluster = Cluster::open(dir).await?;
    let names: Vec<DeviceName> =
        (0..n).map(|i| format!("SEP{:012X}", first + i as u64).parse()).collect::<Result<_, _>>()?;
    let devices = names
        .iter()
        .map(|name| NewDevice {
            name: name.clone(),
            model: "CP-8861".into(),
            protocol: Protocol::Sip,
            security_mode: SecurityMode::Encrypted,
            description: String::new(),
            lines: Vec::new(),
            load_information: None,
        })
        .collect();
    cluster.import_devices("bench", devices, Vec::new(), false, "bench", |_, _| {}).await?;
    Ok((cluster, names))
}
