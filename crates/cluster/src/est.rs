//! EST (RFC 7030): the rules of enrolment over HTTPS, for devices that do not speak CAPF. The
//! protocol crate (`opencapf-est`) reads requests and writes answers; every decision is here.
//!
//! - **Who.** Each way in is tied to a device record: a TLS client certificate that chains to
//!   CAPF-trust (a MIC) or EST-trust (another maker's IDevID) and names the device (pki's one
//!   rule, [`opencapf_pki::names_device`]); the device's installed LSC of this cluster (the
//!   only way for `simplereenroll`); or HTTP Basic with the device name and a one-time
//!   enrolment code (`opencapf est code`, stored as a keyed hash like authentication strings,
//!   compared in constant time, spent by the certificate it gets, cleared after the same number
//!   of wrong codes as CAPF's `--max-auth-failures`).
//! - **What.** The request's signature, its subject (CN = the device name, or `<model>-<name>`),
//!   its key against the device's Key Order and sizes, and with `est.pop = on` the proof of
//!   possession bound to the TLS channel (RFC 7030 §3.5: the challengePassword carries the
//!   channel binding the server computed).
//! - **Approval.** `est.approval = manual` makes an enrolment by a maker's certificate wait
//!   (202, `Retry-After`) until `opencapf est approve NAME`; a code is already an
//!   administrator's approval, and a renewal renews what was approved.
//! - **The certificate** is an LSC of this cluster in every respect: the LSC profile signed by
//!   the active CAPF certificate, recorded once and installed in one transaction with the code
//!   and approval it spends (the HTTP answer is its delivery: there is no "stored" message as in
//!   CAPF), the previous LSC superseded and the CRLs signed again, a history row and an audit
//!   record. A refusal issues nothing and spends nothing (a wrong code counts towards the
//!   lock-out, which is the point of counting).

use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use opencapf_model::{now, CertKind, Device, DeviceName, KeyOrder, Service};
use opencapf_pki::profiles::{self, LscRequest};
use opencapf_pki::{
    names_device, CaSigner, CertificateInfo, CertificateKind, IssuedCertificate, KeyAlgorithm, PrivateKey,
    SigningRequest, TrustStore, DEVICE_CN_RULE,
};
use opencapf_store::{audit, devices, est, issued, settings, Db, Topic};
use serde::Serialize;

use crate::crl::refresh_crls;
use crate::{Cluster, Error, Result};

/// The actor of the audit records the EST server writes.
pub const EST_ACTOR: &str = "est";
/// `auto` (default) or `manual`: whether an enrolment by a maker's certificate waits for `est approve`.
pub const EST_APPROVAL: &str = "est.approval";
/// `off` (default) or `on`: whether every request must carry the TLS channel binding (RFC 7030 §3.5).
pub const EST_POP: &str = "est.pop";
/// What a waiting device is told to wait before asking again (seconds).
pub const EST_RETRY_AFTER: u32 = 300;
/// Characters of an enrolment code: no 0/O, 1/I/L, so that it survives being read aloud.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
/// 16 characters of 31: 79 bits.
const CODE_LEN: usize = 16;

/// How an EST answer that issues nothing is sent: the HTTP status it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum EstStatus {
    /// 400: the request itself is wrong (its key, its form).
    BadRequest,
    /// 401: no credentials, or a wrong code: the client may authenticate (again).
    Unauthorized,
    /// 403: authenticated, or a certificate was shown, and this is not allowed.
    Forbidden,
}

/// Why an enrolment was refused, for the client (the HTTP body) and the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EstRefusal {
    pub status: EstStatus,
    pub detail: String,
}

impl EstRefusal {
    fn new(status: EstStatus, detail: impl Into<String>) -> Self {
        EstRefusal { status, detail: detail.into() }
    }
}

/// One `simpleenroll` or `simplereenroll`, as the EST server read it.
#[derive(Debug, Clone)]
pub struct EstRequest {
    pub csr: SigningRequest,
    pub reenroll: bool,
    /// `serverkeygen`: the cluster makes the key (the device's preferred kind) and returns it;
    /// the request's own key is not used.
    pub server_keygen: bool,
    /// The TLS client certificate chain, the client's first (empty: none).
    pub client_chain: Vec<Vec<u8>>,
    /// HTTP Basic user and password.
    pub basic: Option<(String, String)>,
    /// The channel binding of the request's TLS connection (base64), when the server has one.
    pub channel_binding: Option<String>,
    /// Where the request came from, for the records.
    pub peer: String,
    /// Wrong codes after which a device's code is cleared (0: no limit).
    pub max_code_failures: u32,
}

/// What an accepted request got.
#[derive(Debug, Clone)]
pub enum EstOutcome {
    /// `key`: the key the cluster made for `serverkeygen` (never stored).
    Issued { device: DeviceName, certificate: Box<IssuedCertificate>, key: Option<PrivateKey> },
    /// An administrator must approve (`opencapf est approve`); ask again after `retry_after` seconds.
    Waiting { device: DeviceName, retry_after: u32 },
}

/// A new enrolment code, shown once.
#[derive(Debug, Clone, Serialize)]
pub struct EnrolmentCode {
    pub device: String,
    pub code: String,
}

/// A device waiting for `est approve`.
#[derive(Debug, Clone, Serialize)]
pub struct EstWaiting {
    pub device: String,
    pub since: String,
    pub detail: String,
}

/// One key a device may enrol with, as `csrattrs` announces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum KeyChoice {
    Rsa { bits: u32 },
    Ec { bits: u32 },
}

impl KeyChoice {
    /// As [`CertificateInfo::key`] names keys (`RSA 2048`, `EC P-256`).
    pub fn describe(self) -> String {
        match self {
            KeyChoice::Rsa { bits } => format!("RSA {bits}"),
            KeyChoice::Ec { bits } => format!("EC P-{bits}"),
        }
    }
}

/// What `csrattrs` tells a device: the keys it may use and whether the proof of possession is required.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CsrAttributes {
    pub keys: Vec<KeyChoice>,
    pub pop: bool,
}

/// The keys a device's Key Order allows, preferred first.
fn key_choices(order: KeyOrder, rsa_bits: u32, ec_bits: u32) -> Vec<KeyChoice> {
    let (rsa, ec) = (KeyChoice::Rsa { bits: rsa_bits }, KeyChoice::Ec { bits: ec_bits });
    match order {
        KeyOrder::RsaOnly => vec![rsa],
        KeyOrder::EcOnly => vec![ec],
        KeyOrder::EcPreferredRsaBackup => vec![ec, rsa],
    }
}

/// A code as typed: case and the dashes and spaces between groups do not matter.
fn normalise_code(code: &str) -> String {
    code.chars().filter(|c| !matches!(c, '-' | ' ')).map(|c| c.to_ascii_uppercase()).collect()
}

fn new_code() -> String {
    let rng = SystemRandom::new();
    let mut out = String::with_capacity(CODE_LEN + 3);
    let mut n = 0;
    while n < CODE_LEN {
        let mut b = [0u8; 1];
        rng.fill(&mut b).expect("the system random generator works");
        // 248 = 8 * 31: no modulo bias.
        if b[0] < 248 {
            if n > 0 && n % 4 == 0 {
                out.push('-');
            }
            out.push(char::from(CODE_ALPHABET[usize::from(b[0]) % CODE_ALPHABET.len()]));
            n += 1;
        }
    }
    out
}

/// Who a request authenticated as.
#[derive(Debug, Clone)]
enum Proof {
    /// A maker's certificate (MIC or IDevID), trusted by `store`.
    Maker { info: CertificateInfo, der: Vec<u8>, store: TrustStore },
    /// The device's installed LSC of this cluster.
    Lsc { info: CertificateInfo },
    /// HTTP Basic: checked against the stored code in the write transaction.
    Code { code: String },
}

impl Proof {
    fn describe(&self) -> String {
        match self {
            Proof::Maker { info, store, .. } => {
                format!(
                    "client certificate {} (serial {}, issuer {}) trusted by {store}",
                    info.subject, info.serial, info.issuer
                )
            }
            Proof::Lsc { info } => format!("LSC serial {} issuer {}", info.serial, info.issuer),
            Proof::Code { .. } => "enrolment code".into(),
        }
    }

    fn auth_mode(&self) -> &'static str {
        match self {
            Proof::Maker { .. } => "EST Client Certificate",
            Proof::Lsc { .. } => "EST Existing LSC",
            Proof::Code { .. } => "EST Enrolment Code",
        }
    }
}

impl Cluster {
    /// A new one-time enrolment code for a device (any earlier one no longer works), audited
    /// without the code. The code is returned once and stored only as its keyed hash.
    pub async fn est_code(&self, device: &DeviceName, actor: &str) -> Result<EnrolmentCode> {
        let code = new_code();
        let mut db = self.store.write().await?;
        devices::get(&mut db, device).await?;
        est::set_code(&mut db, device, &self.auth_key.hash(&normalise_code(&code))).await?;
        audit::record(&mut db, actor, "est.code", device.as_str(), "new one-time enrolment code (shown once)").await?;
        db.commit().await?;
        Ok(EnrolmentCode { device: device.to_string(), code })
    }

    /// Allows one enrolment of a device under `est.approval = manual`, audited.
    pub async fn est_approve(&self, device: &DeviceName, actor: &str) -> Result<()> {
        let mut db = self.store.write().await?;
        devices::get(&mut db, device).await?;
        let waiting = est::get(&mut db, device).await?.waiting_since;
        est::approve(&mut db, device).await?;
        let detail = match waiting {
            Some(since) => format!("one EST enrolment allowed (a request waits since {since})"),
            None => "one EST enrolment allowed".to_owned(),
        };
        audit::record(&mut db, actor, "est.approve", device.as_str(), &detail).await?;
        db.commit().await
    }

    /// Devices whose EST request waits for `est approve`, oldest first.
    pub async fn est_waiting(&self) -> Result<Vec<EstWaiting>> {
        let rows = est::waiting(&mut self.store.read().await?).await?;
        Ok(rows.into_iter().map(|(device, since, detail)| EstWaiting { device, since, detail }).collect())
    }

    /// `est.approval` is `manual`.
    pub async fn est_manual_approval(&self) -> Result<bool> {
        Ok(settings::get(&mut self.store.read().await?, EST_APPROVAL).await?.as_deref() == Some("manual"))
    }

    /// `est.pop` is `on`.
    pub async fn est_pop_required(&self) -> Result<bool> {
        Ok(settings::get(&mut self.store.read().await?, EST_POP).await?.as_deref() == Some("on"))
    }

    /// `cacerts`: the CAPF certificates that sign LSCs, the active one first, then the retired
    /// ones still valid (devices keep trusting those during a rollover).
    pub async fn est_ca_certificates(&self) -> Result<Vec<Vec<u8>>> {
        let snapshot = self.trust_snapshot().await?;
        let at = now();
        let mut capfs: Vec<_> = snapshot.capfs().iter().filter(|c| c.active || c.info.not_after > at).collect();
        capfs.sort_by_key(|c| !c.active);
        let mut out = Vec::new();
        for c in capfs {
            let der = self.certificate_der(&c.info.fingerprint).await?;
            out.push(der);
        }
        Ok(out)
    }

    async fn certificate_der(&self, fingerprint: &str) -> Result<Vec<u8>> {
        let mut db = self.store.read().await?;
        opencapf_store::service::all(&mut db, Service::Capf)
            .await?
            .into_iter()
            .find(|c| c.fingerprint == fingerprint)
            .map(|c| c.der)
            .ok_or_else(|| Error::NotFound(format!("CAPF certificate {fingerprint}")))
    }

    /// `csrattrs`: the keys `device` may use (the cluster's defaults for new devices when it is
    /// unknown), and whether the proof of possession is required.
    pub async fn est_csr_attributes(&self, device: Option<&DeviceName>) -> Result<CsrAttributes> {
        let pop = self.est_pop_required().await?;
        let mut db = self.store.read().await?;
        let known = match device {
            Some(d) => devices::get(&mut db, d).await.ok(),
            None => None,
        };
        let keys = match known {
            Some(d) => key_choices(d.capf.key_order, d.capf.rsa_bits, d.capf.ec_bits),
            None => {
                let k = settings::load(&mut db).await?.key_defaults;
                key_choices(k.key_order, k.rsa_bits, k.ec_bits)
            }
        };
        Ok(CsrAttributes { keys, pop })
    }

    /// The device a client certificate names, if it is readable and names one (for `csrattrs`).
    pub fn est_device_of(&self, der: &[u8]) -> Option<DeviceName> {
        CertificateInfo::parse(der).ok().and_then(|i| opencapf_pki::device_named_by(&i))
    }

    /// `simpleenroll` / `simplereenroll`. `Ok(Err(_))`: refused, nothing issued or spent
    /// (a wrong code is counted); `Err(_)`: the cluster failed.
    pub async fn est_enroll(&self, req: &EstRequest) -> Result<std::result::Result<EstOutcome, EstRefusal>> {
        let (device, proof) = match self.est_authenticate(req).await? {
            Ok(found) => found,
            Err(refusal) => return Ok(Err(refusal)),
        };
        if let Proof::Code { code } = &proof {
            // Before anything is recorded on the device: only its code's holder gets a history row.
            let stored = est::get(&mut self.store.read().await?, &device.name).await?.code_hash;
            if !stored.as_deref().is_some_and(|h| self.auth_key.verify(h, &normalise_code(code))) {
                let mut db = self.store.write().await?;
                let had_code = est::get(&mut db, &device.name).await?.code_hash.is_some();
                let refusal = self.wrong_code(&mut db, &device, req, &proof, had_code).await?;
                db.commit().await?;
                return Ok(Err(refusal));
            }
        }
        if let Err(refusal) = self.check_request(req, &device).await? {
            self.record_refusal(&device, req, &proof, &refusal).await?;
            return Ok(Err(refusal));
        }
        let manual = self.est_manual_approval().await?;
        self.issue(req, &device, &proof, manual && matches!(proof, Proof::Maker { .. })).await
    }

    /// Which device the request is for, and how it proved it.
    async fn est_authenticate(&self, req: &EstRequest) -> Result<std::result::Result<(Device, Proof), EstRefusal>> {
        let by_certificate = match req.client_chain.first() {
            Some(_) => Some(self.certificate_proof(req).await?),
            None => None,
        };
        let refused = match by_certificate {
            Some(Ok(found)) => return Ok(Ok(found)),
            Some(Err(refusal)) => Some(refusal),
            None => None,
        };
        if req.reenroll {
            return Ok(Err(refused.unwrap_or_else(|| {
                EstRefusal::new(
                    EstStatus::Unauthorized,
                    "simplereenroll authenticates with the device's current certificate of this cluster as TLS \
                     client certificate (RFC 7030 §4.2.2); a first certificate comes from simpleenroll",
                )
            })));
        }
        let Some((user, code)) = &req.basic else {
            return Ok(Err(refused.unwrap_or_else(|| {
                EstRefusal::new(
                    EstStatus::Unauthorized,
                    "authenticate with a TLS client certificate (the device's MIC or certificate of this cluster) or \
                     HTTP Basic with the device name and its enrolment code (`opencapf est code NAME`)",
                )
            })));
        };
        let wrong = || EstRefusal::new(EstStatus::Unauthorized, "unknown device or wrong enrolment code");
        let Ok(name) = user.parse::<DeviceName>() else { return Ok(Err(wrong())) };
        let device = match devices::get(&mut self.store.read().await?, &name).await {
            Ok(d) => d,
            Err(Error::NotFound(_)) => return Ok(Err(wrong())),
            Err(e) => return Err(e),
        };
        Ok(Ok((device, Proof::Code { code: code.clone() })))
    }

    /// The client certificate: trusted, naming a device the cluster has; for a certificate of
    /// this cluster, the device's installed one.
    async fn certificate_proof(&self, req: &EstRequest) -> Result<std::result::Result<(Device, Proof), EstRefusal>> {
        let forbidden = |d: String| Ok(Err(EstRefusal::new(EstStatus::Forbidden, d)));
        let der = &req.client_chain[0];
        let Ok(info) = CertificateInfo::parse(der) else {
            return forbidden("the client certificate cannot be read".into());
        };
        let snapshot = self.trust_snapshot().await?;
        let at = now();
        let ours = snapshot.classify(&info) == CertificateKind::LscThisCluster;
        let stores: &[TrustStore] = if ours { &[TrustStore::Capf] } else { &[TrustStore::Capf, TrustStore::Est] };
        let mut trusted_by = None;
        let mut verdicts = Vec::new();
        for &store in stores {
            match snapshot.verify(store, &req.client_chain, at) {
                Ok(v) if v.is_trusted() => {
                    trusted_by = Some(store);
                    break;
                }
                Ok(v) => verdicts.push(format!("{store}: {v}")),
                Err(e) => verdicts.push(format!("{store}: {e}")),
            }
        }
        let Some(store) = trusted_by else {
            return forbidden(format!(
                "the client certificate {} (issuer {}) is not trusted ({}); add its CA to EST-trust \
                 (`opencapf trust add EST-trust FILE`) or enrol with an enrolment code",
                info.subject,
                info.issuer,
                verdicts.join("; ")
            ));
        };
        if req.reenroll && !ours {
            return forbidden(format!(
                "simplereenroll renews a certificate of this cluster; {} is not one: use simpleenroll",
                info.subject
            ));
        }
        let kind = if ours { CertKind::Lsc } else { CertKind::Mic };
        let Some(name) = opencapf_pki::device_named_by(&info).filter(|n| names_device(&info, kind, n)) else {
            return forbidden(format!("the client certificate {} names no device ({DEVICE_CN_RULE})", info.subject));
        };
        let device = match devices::get(&mut self.store.read().await?, &name).await {
            Ok(d) => d,
            Err(Error::NotFound(_)) => {
                return forbidden(format!(
                    "the client certificate names {name}, which the cluster does not have: add the device first"
                ))
            }
            Err(e) => return Err(e),
        };
        if ours {
            if let Some(refused) = self.lsc_standing(&info).await? {
                return forbidden(format!(
                    "LSC serial {} is not the device's current one: {}",
                    info.serial, refused.reason
                ));
            }
            return Ok(Ok((device, Proof::Lsc { info })));
        }
        Ok(Ok((device, Proof::Maker { info, der: der.clone(), store })))
    }

    /// The request against the device: subject, key, proof of possession.
    async fn check_request(&self, req: &EstRequest, device: &Device) -> Result<std::result::Result<(), EstRefusal>> {
        let cn = req.csr.subject_cn.as_deref().unwrap_or("");
        let upper = cn.to_ascii_uppercase();
        let name = device.name.as_str();
        if !(upper == name || upper.strip_suffix(name).is_some_and(|p| p.ends_with('-'))) {
            let shown: String = cn.chars().take(64).collect::<String>().escape_debug().to_string();
            return Ok(Err(EstRefusal::new(
                EstStatus::Forbidden,
                format!("the request's subject CN '{shown}' does not name {name} ({DEVICE_CN_RULE})"),
            )));
        }
        let choices = key_choices(device.capf.key_order, device.capf.rsa_bits, device.capf.ec_bits);
        if !req.server_keygen && !choices.iter().any(|k| k.describe() == req.csr.key) {
            let wanted: Vec<String> = choices.iter().map(|k| k.describe()).collect();
            return Ok(Err(EstRefusal::new(
                EstStatus::BadRequest,
                format!(
                    "the request's key is {}; {name}'s Key Order ({}) takes {} (see csrattrs)",
                    req.csr.key,
                    device.capf.key_order,
                    wanted.join(" or ")
                ),
            )));
        }
        if self.est_pop_required().await? {
            let bound = match (&req.csr.challenge_password, &req.channel_binding) {
                (Some(sent), Some(ours)) => {
                    aws_lc_rs::constant_time::verify_slices_are_equal(sent.as_bytes(), ours.as_bytes()).is_ok()
                }
                _ => false,
            };
            if !bound {
                return Ok(Err(EstRefusal::new(
                    EstStatus::Forbidden,
                    "est.pop is on: the request's challengePassword must be this TLS connection's channel binding \
                     (base64 of the TLS exporter, label EXPORTER-Channel-Binding, 32 bytes; RFC 7030 §3.5, RFC 9266)",
                )));
            }
        }
        Ok(Ok(()))
    }

    /// A refusal on a known device: its history and the audit log say so (no status change).
    async fn record_refusal(&self, device: &Device, req: &EstRequest, proof: &Proof, r: &EstRefusal) -> Result<()> {
        let mut db = self.store.write().await?;
        let detail = format!("{}; {}; from {}", r.detail, proof.describe(), req.peer);
        record(&mut db, device, req, proof, "EST Enrolment Failed", &detail).await?;
        db.commit().await
    }

    /// The write transaction: the code checked (a wrong one counted), the approval, then the
    /// LSC signed, recorded, installed, and what it spends spent.
    async fn issue(
        &self,
        req: &EstRequest,
        device: &Device,
        proof: &Proof,
        needs_approval: bool,
    ) -> Result<std::result::Result<EstOutcome, EstRefusal>> {
        let server_key = match req.server_keygen {
            true => Some(server_key(device)?),
            false => None,
        };
        let public_key_der = server_key.as_ref().map_or(req.csr.public_key_der.as_slice(), |k| k.public_key_der());
        let active = self.require_certificate(Service::Capf).await?;
        let key = self.key_of(&active).await?;
        let validity_days = self.settings().await?.lsc_validity_days;
        let mut db = self.store.write().await?;
        let enrolment = est::get(&mut db, &device.name).await?;
        if let Proof::Code { code } = proof {
            let right = enrolment.code_hash.as_deref().is_some_and(|h| self.auth_key.verify(h, &normalise_code(code)));
            if !right {
                let refusal = self.wrong_code(&mut db, device, req, proof, enrolment.code_hash.is_some()).await?;
                db.commit().await?;
                return Ok(Err(refusal));
            }
        }
        if needs_approval && !enrolment.approved {
            let detail = format!("{}; from {}", proof.describe(), req.peer);
            if est::wait(&mut db, &device.name, &detail).await? {
                let status = "EST Enrolment Waiting for Approval";
                let detail = format!("est.approval is manual: `opencapf est approve {}`; {detail}", device.name);
                record(&mut db, device, req, proof, status, &detail).await?;
            }
            db.commit().await?;
            return Ok(Ok(EstOutcome::Waiting { device: device.name.clone(), retry_after: EST_RETRY_AFTER }));
        }
        let pid_sn = match proof {
            Proof::Maker { info, .. } => info.pid.clone().zip(info.sn.clone()),
            _ => device.mic_der.as_deref().and_then(|d| CertificateInfo::parse(d).ok()).and_then(|m| m.pid.zip(m.sn)),
        };
        let signer = CaSigner::new(&active.der, &key)?;
        let request = LscRequest {
            device: &device.name,
            model: Some(device.model.as_str()),
            public_key_der,
            pid_sn,
            validity_days,
            now: now(),
        };
        let lsc = profiles::lsc(&signer, &request)?;
        if !issued::insert(&mut db, &device.name, &active.fingerprint, &lsc).await? {
            return Err(Error::Conflict(format!("an LSC with serial {} was already issued", lsc.info.serial)));
        }
        let superseded = issued::end_installed(&mut db, &device.name, "superseded").await?;
        issued::set_state(&mut db, &lsc.info.serial, Some("issued"), "installed").await?;
        devices::set_lsc(&mut db, &device.name, Some(&lsc.der)).await?;
        est::spend(&mut db, &device.name).await?;
        if let Proof::Maker { der, store: TrustStore::Capf, .. } = proof {
            // Verified and bound to the device, as CAPF keeps a MIC it verified.
            devices::set_mic(&mut db, &device.name, der).await?;
        }
        let detail = format!(
            "LSC serial {} issuer {} sent over EST{}; {}; from {}",
            lsc.info.serial,
            lsc.info.issuer,
            if superseded > 0 { ", the previous LSC superseded" } else { "" },
            proof.describe(),
            req.peer
        );
        record(&mut db, device, req, proof, "EST Enrolment Success", &detail).await?;
        if superseded > 0 {
            refresh_crls(&mut db, self.data_dir()).await?;
        }
        db.commit().await?;
        self.changed(&[Topic::Issued]);
        Ok(Ok(EstOutcome::Issued { device: device.name.clone(), certificate: Box::new(lsc), key: server_key }))
    }

    /// Counts a wrong (or spent) code; at the lock-out the code is cleared.
    async fn wrong_code(
        &self,
        db: &mut Db,
        device: &Device,
        req: &EstRequest,
        proof: &Proof,
        had_code: bool,
    ) -> Result<EstRefusal> {
        if !had_code {
            let detail = "no enrolment code is set for the device (it is single-use and was used, or locked out)";
            record(
                db,
                device,
                req,
                proof,
                "EST Enrolment Failed: Invalid Enrolment Code",
                &format!("{detail}; from {}", req.peer),
            )
            .await?;
            return Ok(EstRefusal::new(EstStatus::Unauthorized, "unknown device or wrong enrolment code"));
        }
        let before = est::get(db, &device.name).await?.code_failures;
        let failures = before.saturating_add(1);
        let locked_out = req.max_code_failures > 0 && failures >= req.max_code_failures;
        est::count_failure(db, &device.name, locked_out).await?;
        let detail = if locked_out {
            format!("{failures} wrong enrolment codes: the code is cleared, make a new one (`opencapf est code`)")
        } else {
            format!("wrong enrolment code ({failures} since it was made)")
        };
        let status = "EST Enrolment Failed: Invalid Enrolment Code";
        record(db, device, req, proof, status, &format!("{detail}; from {}", req.peer)).await?;
        Ok(EstRefusal::new(EstStatus::Unauthorized, "unknown device or wrong enrolment code"))
    }
}

/// `serverkeygen`: a new key of the device's preferred kind.
fn server_key(device: &Device) -> Result<PrivateKey> {
    let algorithm = match key_choices(device.capf.key_order, device.capf.rsa_bits, device.capf.ec_bits)[0] {
        KeyChoice::Rsa { bits: 1024 } => KeyAlgorithm::Rsa1024,
        KeyChoice::Rsa { bits: 2048 } => KeyAlgorithm::Rsa2048,
        KeyChoice::Rsa { bits: 3072 } => KeyAlgorithm::Rsa3072,
        KeyChoice::Rsa { bits: 4096 } => KeyAlgorithm::Rsa4096,
        KeyChoice::Ec { bits: 256 } => KeyAlgorithm::Ec256,
        KeyChoice::Ec { bits: 384 } => KeyAlgorithm::Ec384,
        KeyChoice::Ec { bits: 521 } => KeyAlgorithm::Ec521,
        other => {
            return Err(Error::Invalid(format!(
                "serverkeygen cannot make the key {} asks for: {}",
                device.name,
                other.describe()
            )))
        }
    };
    Ok(PrivateKey::generate(algorithm)?)
}

/// A history row and an audit record of one EST request on a device.
async fn record(
    db: &mut Db,
    device: &Device,
    req: &EstRequest,
    proof: &Proof,
    status: &str,
    detail: &str,
) -> Result<()> {
    let operation = if req.reenroll { "EST simplereenroll" } else { "EST simpleenroll" };
    devices::add_history(db, &device.name, operation, proof.auth_mode(), status, detail).await?;
    let action = match (status, req.reenroll) {
        ("EST Enrolment Success", false) => "est.enroll",
        ("EST Enrolment Success", true) => "est.reenroll",
        ("EST Enrolment Waiting for Approval", _) => "est.wait",
        _ => "est.refused",
    };
    audit::record(db, EST_ACTOR, action, device.name.as_str(), &format!("{status}; {}; {detail}", proof.auth_mode()))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_long_unambiguous_and_typed_loosely() {
        let a = new_code();
        assert_eq!(a.len(), CODE_LEN + 3, "{a}");
        assert!(normalise_code(&a).bytes().all(|b| CODE_ALPHABET.contains(&b)), "{a}");
        assert_ne!(a, new_code());
        assert_eq!(normalise_code(&a.to_ascii_lowercase().replace('-', " ")), normalise_code(&a));
    }

    #[test]
    fn key_order_gives_the_keys_in_preference() {
        assert_eq!(key_choices(KeyOrder::RsaOnly, 2048, 256), vec![KeyChoice::Rsa { bits: 2048 }]);
        let both = key_choices(KeyOrder::EcPreferredRsaBackup, 3072, 384);
        assert_eq!(both, vec![KeyChoice::Ec { bits: 384 }, KeyChoice::Rsa { bits: 3072 }]);
        assert_eq!(both[0].describe(), "EC P-384");
        assert_eq!(both[1].describe(), "RSA 3072");
    }
}
