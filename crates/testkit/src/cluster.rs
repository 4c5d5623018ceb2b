//! A cluster for tests: initialised with test defaults in a temporary folder.

use std::path::{Path, PathBuf};

use opencapf_cluster::{Cluster, InitOptions};
use opencapf_model::{NewDevice, Protocol, SecurityMode, Service, ServiceCertificate};
use opencapf_pki::{CaSigner, DeviceName, KeyAlgorithm, SubjectFields};
use tempfile::TempDir;

/// The defaults every test cluster starts from: an EC P-256 CAPF key, `O=Lab`, host `cucm.lab`,
/// no manufacturer CA, actor `test`. Tests change the fields they care about.
pub fn init_options() -> InitOptions {
    InitOptions {
        capf_key: KeyAlgorithm::Ec256,
        subject: SubjectFields { organization: Some("Lab".into()), ..Default::default() },
        hostname: "cucm.lab".into(),
        manufacturer_cas: Vec::new(),
        actor: "test".into(),
    }
}

/// `opencapf init` in `data_dir`, then the cluster opened.
pub async fn init_cluster(data_dir: &Path, opts: InitOptions) -> Cluster {
    opencapf_cluster::init(data_dir, opts).await.unwrap();
    Cluster::open(data_dir).await.unwrap()
}

/// A cluster in its own temporary folder, removed when dropped.
pub struct TestCluster {
    pub dir: TempDir,
    pub cluster: Cluster,
}

impl TestCluster {
    /// A cluster with [`init_options`].
    pub async fn new() -> TestCluster {
        TestCluster::with(init_options()).await
    }

    pub async fn with(opts: InitOptions) -> TestCluster {
        let dir = tempfile::tempdir().unwrap();
        let cluster = init_cluster(&dir.path().join("cluster"), opts).await;
        TestCluster { dir, cluster }
    }

    /// The cluster's data folder.
    pub fn data(&self) -> PathBuf {
        self.dir.path().join("cluster")
    }
}

/// A CP-8861, SIP, non-secure, without description: change the fields a test is about.
pub fn new_device(name: &str) -> NewDevice {
    NewDevice {
        name: name.parse().unwrap(),
        model: "CP-8861".into(),
        protocol: Protocol::Sip,
        security_mode: SecurityMode::NonSecure,
        description: String::new(),
        lines: Vec::new(),
        load_information: None,
    }
}

/// Adds `device` as actor `test`; its name.
pub async fn add_device(cluster: &Cluster, device: NewDevice) -> DeviceName {
    cluster.add_device(&device, "test").await.unwrap();
    device.name
}

/// The cluster's lab manufacturer (created on first use) and its signer.
pub async fn lab_manufacturer(cluster: &Cluster) -> (ServiceCertificate, CaSigner) {
    let root = match cluster.active_certificate(Service::LabManufacturer).await.unwrap() {
        Some(root) => root,
        None => cluster.mfg_init("test").await.unwrap(),
    };
    (root, cluster.signer(Service::LabManufacturer).await.unwrap())
}
