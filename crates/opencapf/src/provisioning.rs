//! The seams between the cluster and the configuration services `serve` runs: the files
//! (`opencapf_tftp::FileSource`), what TVS vouches for (`opencapf_tvs::Directory`) and the TVS
//! certificate it serves (`opencapf_tls::IdentitySource`). Each is one cluster call.

use std::net::SocketAddr;

use opencapf_cluster::{Cluster, Endpoints, ProvisionedFile};
use opencapf_model::{printable, Role, Service, ServiceCertificate, TlsSettings};
use opencapf_tftp::{FileSource, Lookup, Transport};
use opencapf_tls::{Identity, IdentitySource, SourceError};

/// The cluster's generated files, as phones are told to reach its services by `endpoints`.
pub(crate) struct ClusterFiles {
    pub cluster: Cluster,
    pub endpoints: Endpoints,
}

impl FileSource for ClusterFiles {
    async fn fetch(&self, name: &str, peer: SocketAddr, via: Transport) -> Lookup {
        match self.cluster.provisioning_file(name, &self.endpoints, peer.ip()).await {
            Ok(ProvisionedFile::Found(bytes)) => Lookup::Found(bytes.into()),
            Ok(ProvisionedFile::NotFound) => Lookup::NotFound,
            Ok(ProvisionedFile::Unavailable) => Lookup::Unavailable,
            Err(e) => {
                // The phone retries or falls back; the administrator reads why here.
                tracing::warn!(peer = %peer, file = %printable(name), via = ?via, "could not build the file: {e}");
                Lookup::Unavailable
            }
        }
    }
}

/// What the cluster's TVS vouches for.
pub(crate) struct ClusterTvs {
    pub cluster: Cluster,
}

impl opencapf_tvs::Directory for ClusterTvs {
    async fn vouch(&self, certificate: &[u8]) -> Result<Option<Vec<Role>>, String> {
        self.cluster.tvs_vouch(certificate).await.map_err(|e| e.to_string())
    }

    async fn tls_settings(&self) -> Result<TlsSettings, String> {
        self.cluster.tls_settings().await.map_err(|e| e.to_string())
    }
}

/// The active TVS certificate, looked up for every connection.
pub(crate) struct ActiveTvs {
    pub cluster: Cluster,
}

impl ActiveTvs {
    async fn active(&self) -> Result<ServiceCertificate, SourceError> {
        Ok(self.cluster.require_certificate(Service::Tvs).await?)
    }
}

impl IdentitySource for ActiveTvs {
    type Extra = ();

    async fn fingerprint(&self) -> Result<String, SourceError> {
        Ok(self.active().await?.fingerprint)
    }

    async fn load(&self) -> Result<Identity<()>, SourceError> {
        let tvs = self.active().await?;
        let key = self.cluster.key_of(&tvs).await?;
        Ok(Identity { fingerprint: tvs.fingerprint, chain: vec![tvs.der], key: key.pkcs8_der().to_vec(), extra: () })
    }
}
