//! A cluster in a temporary folder, driven through the real `opencapf` binary.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use opencapf_model::Service;
use opencapf_testkit as testkit;
pub(crate) use opencapf_testkit::CISCO_CA;

pub(crate) struct Cluster {
    pub dir: tempfile::TempDir,
}

impl Cluster {
    /// A folder with no cluster yet.
    pub(crate) fn empty() -> Cluster {
        Cluster { dir: tempfile::tempdir().unwrap() }
    }

    /// A cluster made by `opencapf init` with `extra` arguments.
    pub(crate) fn init(extra: &[&str]) -> Cluster {
        let c = Cluster::empty();
        let mut args = vec!["init", "--hostname", "cucm-pub.lab"];
        args.extend_from_slice(extra);
        c.ok(&args);
        c
    }

    pub(crate) fn data(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    pub(crate) fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub(crate) fn cmd(&self) -> Command {
        let mut c = Command::cargo_bin("opencapf").unwrap();
        c.env_remove("OPENCAPF_DATA_DIR").arg("--data-dir").arg(self.data());
        c
    }

    /// Runs a command that must succeed; returns its standard output.
    pub(crate) fn ok(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "opencapf {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }

    /// Runs a command that must fail with exit code 1 and one `error:` line; returns that line.
    pub(crate) fn fail(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(1), "opencapf {args:?} should fail with 1:\n{stderr}");
        let errors: Vec<&str> = stderr.lines().filter(|l| l.starts_with("error: ")).collect();
        assert_eq!(errors.len(), 1, "exactly one error line expected:\n{stderr}");
        errors[0].to_owned()
    }

    /// Runs a command clap refuses (exit 2, a wrong argument value): returns standard error,
    /// which lists the possible values.
    pub(crate) fn usage(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "opencapf {args:?} should fail with 2:\n{stderr}");
        assert!(stderr.contains("[possible values: "), "{stderr}");
        stderr
    }

    pub(crate) fn json(&self, args: &[&str]) -> serde_json::Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        serde_json::from_str(&self.ok(&all)).unwrap()
    }

    /// `--json` output of a command that reports an untrusted verdict: exit 1, the report on
    /// standard output all the same.
    pub(crate) fn json_untrusted(&self, args: &[&str]) -> serde_json::Value {
        let out = self.cmd().arg("--json").args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "opencapf {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// Text output of a command that reports an untrusted verdict (exit 1).
    pub(crate) fn out_untrusted(&self, args: &[&str]) -> String {
        let out = self.cmd().args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "opencapf {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub(crate) fn store<T>(&self, f: impl AsyncFnOnce(opencapf_cluster::Cluster) -> T) -> T {
        testkit::runtime().block_on(async {
            let store = opencapf_cluster::Cluster::open(&self.data()).await.unwrap();
            f(store).await
        })
    }

    /// An LSC for `device` signed by this cluster's active CAPF, as CAPF would issue it, written
    /// to a PEM file.
    pub(crate) fn issue_lsc(&self, device: &str, days: u32) -> PathBuf {
        let der = self.store(async |s| {
            let signer = s.signer(Service::Capf).await.unwrap();
            testkit::lsc(&signer, device, testkit::phone_key().public_key_der(), days, opencapf_model::now()).der
        });
        let path = self.path(&format!("lsc-{device}-{}.pem", &opencapf_pki::fingerprint(&der)[..8]));
        std::fs::write(&path, opencapf_pki::pem::encode("CERTIFICATE", &der)).unwrap();
        path
    }

    /// Records in this cluster that `device` holds the LSC in `file`.
    pub(crate) fn record(&self, device: &str, file: &Path) {
        self.ok(&["device", "record-cert", device, file.to_str().unwrap()]);
    }
}

/// Runs openssl (the enterprise CA of the tests) in `dir`.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("openssl").current_dir(dir).args(args).output().unwrap();
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// An enterprise CA made by openssl in `dir`: `NAME.key` and `NAME.pem`, EC P-256, subject
/// `/O=Example/CN=Example NAME`, valid 30 days. Returns the certificate's path.
pub(crate) fn enterprise_ca(dir: &Path, name: &str) -> PathBuf {
    let (key, pem, subj) = (format!("{name}.key"), format!("{name}.pem"), format!("/O=Example/CN=Example {name}"));
    openssl(
        dir,
        &["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", &key]
            .into_iter()
            .chain(["-out", &pem, "-subj", &subj, "-days", "30"])
            .chain(["-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
            .collect::<Vec<_>>(),
    );
    dir.join(pem)
}

/// Has the enterprise CA `ca` (made by [`enterprise_ca`]) sign the request `csr` with the
/// extensions `ext` (openssl extfile lines), extra `x509` arguments after; writes `out` in `dir`
/// and returns its path.
pub(crate) fn ca_sign(dir: &Path, ca: &str, csr: &str, ext: &str, out: &str, extra: &[&str]) -> PathBuf {
    let ext_file = format!("{out}.ext");
    std::fs::write(dir.join(&ext_file), ext).unwrap();
    let (ca_pem, ca_key) = (format!("{ca}.pem"), format!("{ca}.key"));
    openssl(
        dir,
        &["x509", "-req", "-in", csr, "-CA", &ca_pem, "-CAkey", &ca_key, "-CAcreateserial", "-days", "365"]
            .into_iter()
            .chain(["-extfile", &ext_file, "-out", out])
            .chain(extra.iter().copied())
            .collect::<Vec<_>>(),
    );
    dir.join(out)
}
