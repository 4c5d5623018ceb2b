//! Asking TVS about a certificate the ITL does not hold (capf-protocol.md §3.4): the TVS members
//! of the configuration in force, in priority order, each checked against the ITL's TVS
//! records; the first answer counts. A valid answer goes into the TVS cache for its TTL.

use std::time::Duration;

use opencapf_model::Role;
use opencapf_pki::CertificateInfo;
use opencapf_tvs::Answer;

use tokio::net::TcpStream;

use crate::console::slash_name;
use crate::{legacy_tls, Phone, Result, TlsFamily, TvsEntry};

impl Phone {
    /// TVS's answer about `der`, or `None` when no TVS could be asked or none answered.
    pub(super) async fn ask_tvs(&self, members: &[TvsEntry], der: &[u8], timeout: Duration) -> Result<Option<Answer>> {
        let log = self.console();
        let tvs_certificates: Vec<Vec<u8>> = match self.itl()? {
            Some(itl) => itl.certificates_with(Role::Tvs).map(<[u8]>::to_vec).collect(),
            None => Vec::new(),
        };
        if members.is_empty() || tvs_certificates.is_empty() {
            log.warn("SECUREAPP-TVS: no TVS to ask (none in the configuration, or no TVS record in the trust list)");
            return Ok(None);
        }
        let subject = CertificateInfo::parse(der).map(|i| slash_name(&i.subject)).unwrap_or_default();
        let name = format!("{}-{}", self.config().model, self.device_name());
        for m in members {
            let host = if m.address.contains(':') { format!("[{}]", m.address) } else { m.address.clone() };
            let addr = format!("{host}:{}", m.port);
            let shown = opencapf_model::printable(&addr).into_owned();
            log.info(&format!("SECUREAPP-TVS: asking TVS {shown} about {subject}"));
            match self.verify_with_tvs(&addr, &tvs_certificates, &name, der, timeout).await {
                Ok(answer) => {
                    match &answer {
                        Answer::Valid { roles, ttl } => {
                            let names: Vec<&str> = roles.iter().map(|r| r.name()).collect();
                            log.info(&format!(
                                "SECUREAPP-Hashes match... authentication successful. (TVS roles {})",
                                names.join(",")
                            ));
                            self.add_to_tvs_cache(der, roles, *ttl)?;
                        }
                        Answer::Invalid => {
                            log.error("SECUREAPP-TVS: the certificate is not trusted by TVS (status invalid)");
                        }
                    }
                    return Ok(Some(answer));
                }
                Err(e) => {
                    log.warn(&format!("SECUREAPP-TVS: {shown}: {}", opencapf_model::printable(&e)));
                }
            }
        }
        Ok(None)
    }

    /// One TVS exchange, in the TLS the model speaks: a 79xx phone asks TVS over TLS 1.0
    /// (OpenSSL), with the same byte-for-byte check of the server against the ITL's TVS records.
    async fn verify_with_tvs(
        &self,
        addr: &str,
        tvs_certificates: &[Vec<u8>],
        name: &str,
        der: &[u8],
        timeout: Duration,
    ) -> std::result::Result<Answer, String> {
        let Some(profile) = TlsFamily::of_model(&self.config().model).legacy_profile() else {
            return opencapf_tvs::verify(addr, tvs_certificates, name, der, timeout).await.map_err(|e| e.to_string());
        };
        let started = tokio::time::Instant::now();
        let tcp = tokio::time::timeout(timeout, TcpStream::connect(addr))
            .await
            .map_err(|_| format!("no answer from TVS within {timeout:?}"))?
            .map_err(|e| format!("connecting to TVS {addr}: {e}"))?;
        let left = timeout.saturating_sub(started.elapsed());
        let hs = legacy_tls::connect(tcp, profile, tvs_certificates.to_vec(), None, left).await;
        let mut tls = hs.result.map_err(|e| format!("TLS with TVS: {e}"))?;
        let left = timeout.saturating_sub(started.elapsed());
        opencapf_tvs::verify_over(&mut tls, name, der, left).await.map_err(|e| e.to_string())
    }

    /// Asks TVS about a server certificate the ITL does not hold: whether it is vouched for with
    /// one of `roles` (and then cached).
    pub(super) async fn tvs_vouches(
        &self,
        members: &[TvsEntry],
        der: &[u8],
        roles: &[Role],
        timeout: Duration,
    ) -> Result<bool> {
        Ok(matches!(
            self.ask_tvs(members, der, timeout).await?,
            Some(Answer::Valid { roles: given, .. }) if given.iter().any(|r| roles.contains(r))
        ))
    }
}
