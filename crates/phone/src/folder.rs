//! Creating the phone folder and reading and replacing its certificate files.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use opencapf_pki::profiles::{self, CaSigner};
use opencapf_pki::{CertificateInfo, DeviceName, KeyAlgorithm, PrivateKey};

use crate::{files, CertKind, DeviceCertificate, Phone, PhoneConfig, PhoneError, Result, DEFAULT_CAPF_SERVER};

/// Where a new phone's MIC comes from.
pub enum MicSource {
    /// Issued now by a lab manufacturer (the cluster's, from `opencapf_cluster`'s signer, handed over by the CLI),
    /// with a new key of this kind (Cisco's MICs are RSA 2048).
    LabManufacturer { signer: Box<CaSigner>, key: KeyAlgorithm },
    /// A MIC made elsewhere: a PEM or DER certificate file and its PEM key file.
    Files { cert: PathBuf, key: PathBuf },
    /// A MIC already in memory.
    Given { cert_der: Vec<u8>, key: PrivateKey },
}

/// What a new phone is made of.
pub struct InitOptions {
    pub device_name: DeviceName,
    /// e.g. `CP-8861`; it goes into the lab MIC's subject (`CN=CP-8861-SEP…`).
    pub model: String,
    pub mic: MicSource,
    /// The ITL the phone holds from the start (`itl.tlv`), as if it had booted once from its
    /// cluster: its trust list. Checked (read, and its signature verified by its own SAST).
    pub itl: Option<Vec<u8>>,
    /// A phone in factory state: no ITL; it trusts the first one it boots with. Exactly one of
    /// `itl` and `factory`.
    pub factory: bool,
    /// `HOST:PORT`; default [`DEFAULT_CAPF_SERVER`].
    pub capf_server: Option<String>,
}

impl Phone {
    /// Creates a phone folder in `dir`, which must not exist or be empty.
    pub fn init(dir: &Path, opts: InitOptions) -> Result<Phone> {
        // Absolute, so that `.` or `phone/` get a real name and a sibling to build in.
        let absolute = std::path::absolute(dir).map_err(PhoneError::io(format!("resolving {}", dir.display())))?;
        if absolute.file_name().is_none() || dir.components().any(|c| c == std::path::Component::ParentDir) {
            return Err(PhoneError::Invalid(format!("{}: name the phone folder without '..'", dir.display())));
        }
        let shown = dir;
        let dir = absolute.as_path();
        if dir.exists() {
            let mut entries = fs::read_dir(dir).map_err(PhoneError::io(format!("reading {}", dir.display())))?;
            if entries.next().is_some() {
                return Err(PhoneError::Exists(shown.to_path_buf()));
            }
        }
        let model = opts.model.trim().to_string();
        if model.is_empty() || model.len() > 32 || !model.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(PhoneError::Invalid(format!(
                "model '{}': use letters, digits and '-', e.g. CP-8861",
                opts.model
            )));
        }
        match (&opts.itl, opts.factory) {
            (Some(_), true) => {
                return Err(PhoneError::Invalid("a phone in factory state has no ITL: give an ITL or factory".into()))
            }
            (None, false) => {
                return Err(PhoneError::Invalid(
                    "a phone trusts its ITL: give the ITL it holds, or make it a factory-state phone \
                     (it trusts the first ITL it boots with)"
                        .into(),
                ))
            }
            (Some(itl), false) => check_itl(itl)?,
            (None, true) => {}
        }
        let (mic_der, mic_key) = make_mic(&opts.device_name, &model, opts.mic)?;
        let config = PhoneConfig {
            device_name: opts.device_name.clone(),
            model,
            capf_server: opts.capf_server.unwrap_or_else(|| DEFAULT_CAPF_SERVER.to_string()),
            created_at: opencapf_model::ts(time::OffsetDateTime::now_utc()),
        };

        let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "phone".into());
        let staging = dir.with_file_name(format!(".{name}.phone-init-{}", std::process::id()));
        let _ = fs::remove_dir_all(&staging);
        let built = build(&staging, &config, &mic_der, &mic_key, opts.itl.as_deref());
        if let Err(e) = built {
            let _ = fs::remove_dir_all(&staging);
            return Err(e);
        }
        if dir.exists() {
            fs::remove_dir(dir).map_err(PhoneError::io(format!("replacing empty {}", dir.display())))?;
        }
        if let Err(e) = fs::rename(&staging, dir) {
            let _ = fs::remove_dir_all(&staging);
            return Err(PhoneError::Io { context: format!("moving the new phone to {}", dir.display()), cause: e });
        }
        let phone = Phone::open(dir)?;
        let info = CertificateInfo::parse(&mic_der)?;
        phone.console.info(&format!(
            "SECD: -Phone {} ({}) with MIC {} (issuer {}), {}",
            phone.config.device_name,
            phone.config.model,
            info.subject,
            info.issuer,
            if opts.itl.is_some() { "with an ITL" } else { "no ITL (factory state)" }
        ));
        let name = phone.config.device_name.as_str();
        if !info.subject_cn.as_deref().is_some_and(|cn| cn.ends_with(name)) {
            phone.console.warn(&format!("SECD: -MIC common name does not end with the device name {name}"));
        }
        Ok(phone)
    }
}

/// An ITL a phone can hold: readable, and signed by the SAST record it carries. Whose SAST that
/// is, is the caller's choice (the phone trusts it from now on, as on first use).
fn check_itl(bytes: &[u8]) -> Result<()> {
    let itl =
        opencapf_pki::Itl::parse(bytes).map_err(|e| PhoneError::Invalid(format!("the ITL cannot be read: {e}")))?;
    itl.verify().map_err(|e| PhoneError::Invalid(format!("the ITL's signature does not verify: {e}")))
}

fn make_mic(device: &DeviceName, model: &str, source: MicSource) -> Result<(Vec<u8>, PrivateKey)> {
    let (der, key) = match source {
        MicSource::LabManufacturer { signer, key } => {
            let key = PrivateKey::generate(key)?;
            let serial = profiles::random_mic_serial();
            let mic = profiles::lab_mic(
                &signer,
                device,
                model,
                &serial,
                key.public_key_der(),
                time::OffsetDateTime::now_utc(),
            )?;
            (mic.der, key)
        }
        MicSource::Files { cert, key } => {
            let bytes = fs::read(&cert).map_err(PhoneError::io(format!("reading {}", cert.display())))?;
            let der = opencapf_pki::pem::parse_certificates(&bytes)?.remove(0);
            let pem = fs::read(&key).map_err(PhoneError::io(format!("reading {}", key.display())))?;
            (der, PrivateKey::from_pem(&pem)?)
        }
        MicSource::Given { cert_der, key } => (cert_der, key),
    };
    let info = CertificateInfo::parse(&der)?;
    if info.public_key_der != key.public_key_der() {
        return Err(PhoneError::Invalid("the MIC key does not match the MIC certificate".into()));
    }
    if info.is_ca {
        return Err(PhoneError::Invalid(format!("{} is a CA certificate, not a phone's MIC", info.subject)));
    }
    Ok((der, key))
}

fn build(dir: &Path, config: &PhoneConfig, mic_der: &[u8], mic_key: &PrivateKey, itl: Option<&[u8]>) -> Result<()> {
    fs::create_dir_all(dir).map_err(PhoneError::io(format!("creating {}", dir.display())))?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
        .map_err(PhoneError::io(format!("securing {}", dir.display())))?;
    let json = serde_json::to_string_pretty(config).map_err(|e| PhoneError::Invalid(e.to_string()))? + "\n";
    write_file(&dir.join(files::PHONE_JSON), json.as_bytes(), 0o644)?;
    write_file(&dir.join(files::MIC_KEY), mic_key.to_pem().as_bytes(), 0o600)?;
    write_file(&dir.join(files::MIC_PEM), opencapf_pki::pem::encode("CERTIFICATE", mic_der).as_bytes(), 0o644)?;
    if let Some(itl) = itl {
        write_file(&dir.join(files::ITL), itl, 0o644)?;
    }
    write_file(&dir.join(files::CONSOLE_LOG), b"", 0o644)?;
    sync_dir(dir)
}

/// Creates `path` (which must not exist) with `mode` from the first byte, writes and syncs it.
fn write_file(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let result = (|| {
        let mut f = OpenOptions::new().write(true).create_new(true).mode(mode).open(path)?;
        f.write_all(bytes)?;
        f.sync_all()
    })();
    result.map_err(PhoneError::io(format!("writing {}", path.display())))
}

fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir).and_then(|d| d.sync_all()).map_err(PhoneError::io(format!("syncing {}", dir.display())))
}

/// Reads a certificate and its key and checks that they belong together. `None` when the
/// certificate file is absent (a key without its certificate is a leftover and is ignored).
pub(crate) fn load_pair(dir: &Path, kind: CertKind) -> Result<Option<DeviceCertificate>> {
    let (cert_name, key_name) = match kind {
        CertKind::Lsc => (files::LSC_PEM, files::LSC_KEY),
        CertKind::Mic => (files::MIC_PEM, files::MIC_KEY),
    };
    let cert_path = dir.join(cert_name);
    let bytes = match fs::read(&cert_path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(PhoneError::Io { context: format!("reading {}", cert_path.display()), cause: e }),
    };
    let der = opencapf_pki::pem::parse_certificates(&bytes)?.remove(0);
    let key_path = dir.join(key_name);
    let pem = fs::read(&key_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => PhoneError::Inconsistent(format!("{cert_name} has no {key_name} beside it")),
        _ => PhoneError::Io { context: format!("reading {}", key_path.display()), cause: e },
    })?;
    let key = PrivateKey::from_pem(&pem)?;
    let info = CertificateInfo::parse(&der)?;
    if info.public_key_der != key.public_key_der() {
        return Err(PhoneError::Inconsistent(format!("{key_name} is not the key of {cert_name}")));
    }
    Ok(Some(DeviceCertificate { kind, der, info, key }))
}

/// See the crate doc: temporary files first, then remove the old certificate, rename the key,
/// rename the certificate, sync the folder.
pub(crate) fn install_lsc(dir: &Path, cert_der: &[u8], key: &PrivateKey) -> Result<CertificateInfo> {
    let info = CertificateInfo::parse(cert_der)?;
    if info.public_key_der != key.public_key_der() {
        return Err(PhoneError::Invalid("the LSC is not for this key".into()));
    }
    let key_tmp = dir.join(format!("{}.tmp", files::LSC_KEY));
    let cert_tmp = dir.join(format!("{}.tmp", files::LSC_PEM));
    for stale in [&key_tmp, &cert_tmp] {
        let _ = fs::remove_file(stale);
    }
    let written = write_file(&key_tmp, key.to_pem().as_bytes(), 0o600)
        .and_then(|()| write_file(&cert_tmp, opencapf_pki::pem::encode("CERTIFICATE", cert_der).as_bytes(), 0o644));
    if let Err(e) = written {
        let _ = fs::remove_file(&key_tmp);
        let _ = fs::remove_file(&cert_tmp);
        return Err(e);
    }
    let cert_path = dir.join(files::LSC_PEM);
    let key_path = dir.join(files::LSC_KEY);
    let swap = (|| {
        match fs::remove_file(&cert_path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
            _ => {}
        }
        fs::rename(&key_tmp, &key_path)?;
        fs::rename(&cert_tmp, &cert_path)
    })();
    swap.map_err(PhoneError::io(format!("installing the LSC in {}", dir.display())))?;
    sync_dir(dir)?;
    Ok(info)
}

/// Replaces `name` in the phone folder whole: written beside it, synced, then renamed over it.
pub(crate) fn replace_file(dir: &Path, name: &str, bytes: &[u8], mode: u32) -> Result<()> {
    let tmp = dir.join(format!("{name}.new"));
    let _ = fs::remove_file(&tmp);
    write_file(&tmp, bytes, mode)?;
    fs::rename(&tmp, dir.join(name)).map_err(PhoneError::io(format!("replacing {name}")))?;
    sync_dir(dir)
}

/// Removes the LSC: the certificate first (then the phone has none), then its key.
pub(crate) fn remove_lsc(dir: &Path) -> Result<bool> {
    let existed = match fs::remove_file(dir.join(files::LSC_PEM)) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(PhoneError::Io { context: format!("deleting {}", files::LSC_PEM), cause: e }),
    };
    match fs::remove_file(dir.join(files::LSC_KEY)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(PhoneError::Io { context: format!("deleting {}", files::LSC_KEY), cause: e });
        }
        _ => {}
    }
    sync_dir(dir)?;
    Ok(existed)
}
