//! The admin web service's certificate, CUCM's `tomcat`: made with the cluster, regenerated on its
//! own, or replaced by one an enterprise CA signed (openssl plays the CA).

use std::process::Command;

use crate::cli::common::{ca_sign, enterprise_ca, openssl, Cluster};

fn fingerprint(c: &Cluster, name: &str) -> String {
    c.json(&["cert", "own", name])["certificate"]["fingerprint"].as_str().unwrap().to_owned()
}

/// What `openssl x509 -text` says of a PEM file.
fn x509_text(pem: &std::path::Path) -> String {
    let o = Command::new("openssl").args(["x509", "-noout", "-text", "-in"]).arg(pem).output().unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn tomcat_is_an_rsa_server_certificate_for_the_hostname_valid_five_years() {
    let c = Cluster::init(&["--org", "Example"]);
    let own = c.json(&["cert", "own", "tomcat"]);
    let cert = &own["certificate"];
    assert_eq!(own["name"], "tomcat", "{own}");
    assert_eq!(cert["subject_cn"], "cucm-pub.lab", "{own}");
    assert_eq!(cert["key"], "RSA 2048", "{own}");
    assert_eq!(cert["extended_key_usage"], serde_json::json!(["serverAuth", "clientAuth"]), "{own}");
    let (from, to) = (cert["not_before"].as_str().unwrap(), cert["not_after"].as_str().unwrap());
    let year = |t: &str| t[..4].parse::<i32>().unwrap();
    assert_eq!(year(to) - year(from), 5, "{from} .. {to}");

    let pem = c.path("tomcat.pem");
    c.ok(&["cert", "own", "tomcat", "--out", pem.to_str().unwrap()]);
    let text = x509_text(&pem);
    assert!(text.contains("DNS:cucm-pub.lab, DNS:localhost, IP Address:127.0.0.1"), "{text}");
    assert!(text.contains("TLS Web Server Authentication, TLS Web Client Authentication"), "{text}");
    assert!(text.contains("Digital Signature, Key Encipherment, Certificate Sign"), "{text}");
    assert!(text.contains("O = Example"), "{text}");
    // Self-signed: it verifies against itself, for the purpose a browser checks.
    let dir = c.dir.path();
    openssl(dir, &["verify", "-purpose", "sslserver", "-CAfile", "tomcat.pem", "tomcat.pem"]);
}

#[test]
fn regenerating_tomcat_changes_only_tomcat() {
    let c = Cluster::init(&[]);
    let others = ["capf", "callmanager", "itlrecovery", "tvs"];
    let before: Vec<String> = others.iter().map(|n| fingerprint(&c, n)).collect();
    let old = fingerprint(&c, "tomcat");

    let new = c.json(&["cert", "regenerate", "tomcat"]);
    assert_eq!(new["service"], "tomcat", "{new}");
    assert_eq!(new["state"], "active", "{new}");
    assert_ne!(new["fingerprint"], old.as_str());
    assert_eq!(fingerprint(&c, "tomcat"), new["fingerprint"].as_str().unwrap());
    let after: Vec<String> = others.iter().map(|n| fingerprint(&c, n)).collect();
    assert_eq!(after, before, "CAPF, CallManager, ITLRecovery and TVS untouched");
    let audit = c.json(&["audit", "--limit", "1"]);
    assert_eq!(audit[0]["action"], "cert.regenerate", "{audit}");
    assert!(audit[0]["detail"].as_str().unwrap().contains(&old), "{audit}");
    // The new key is served: the identity the HTTPS server reads carries the new certificate.
    let chain = c.store(async |s| s.web_identity().await.unwrap().chain);
    assert_eq!(opencapf_pki::fingerprint(&chain[0]), new["fingerprint"].as_str().unwrap());

    // Only tomcat is regenerated this way; the refusal names what is accepted.
    let err = c.usage(&["cert", "regenerate", "capf"]);
    assert!(err.contains("possible values: tomcat"), "{err}");
    // And `capf regenerate` leaves tomcat alone.
    let now = fingerprint(&c, "tomcat");
    c.ok(&["capf", "regenerate"]);
    assert_eq!(fingerprint(&c, "tomcat"), now);
}

#[test]
fn an_enterprise_ca_signs_tomcat_the_key_kept_and_the_chain_served() {
    let c = Cluster::init(&["--org", "Example"]);
    let dir = c.dir.path();
    let csr = c.ok(&["cert", "csr", "tomcat"]);
    assert!(csr.starts_with("-----BEGIN CERTIFICATE REQUEST-----"), "{csr}");
    c.ok(&["cert", "csr", "tomcat", "--out", c.path("tomcat.csr").to_str().unwrap()]);
    let req = Command::new("openssl")
        .args(["req", "-in", c.path("tomcat.csr").to_str().unwrap(), "-verify", "-noout", "-text"])
        .output()
        .unwrap();
    let req_text = String::from_utf8_lossy(&req.stdout);
    assert!(req.status.success() && req_text.contains("CN = cucm-pub.lab"), "{req:?}");
    assert!(req_text.contains("DNS:cucm-pub.lab") && !req_text.contains("localhost"), "{req_text}");

    enterprise_ca(dir, "ca");
    enterprise_ca(dir, "other-ca");
    let server = "basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n\
                  extendedKeyUsage=serverAuth\nsubjectAltName=DNS:cucm-pub.lab\n";
    let signed = ca_sign(dir, "ca", "tomcat.csr", server, "tomcat-signed.pem", &[]);
    let signed = signed.to_str().unwrap();
    let elsewhere = "subjectAltName=DNS:www.example.com\n";
    let misnamed = ca_sign(dir, "ca", "tomcat.csr", elsewhere, "misnamed.pem", &["-subj", "/CN=www.example.com"]);
    let (ca, other) = (c.path("ca.pem"), c.path("other-ca.pem"));
    let (ca, other) = (ca.to_str().unwrap(), other.to_str().unwrap());
    let old = fingerprint(&c, "tomcat");

    // Refusals change nothing: no issuer, the wrong issuer, another key, another name.
    assert!(c.fail(&["cert", "import-signed", "tomcat", signed]).contains("no issuer certificate"));
    let e = c.fail(&["cert", "import-signed", "tomcat", signed, "--chain", other]);
    assert!(e.contains("does not chain to its issuers"), "{e}");
    let e = c.fail(&["cert", "import-signed", "tomcat", ca]);
    assert!(e.contains("does not carry the tomcat key"), "{e}");
    let e = c.fail(&["cert", "import-signed", "tomcat", misnamed.to_str().unwrap(), "--chain", ca]);
    assert!(e.contains("does not name the cluster's hostname cucm-pub.lab"), "{e}");
    assert_eq!(fingerprint(&c, "tomcat"), old);

    let imported = c.json(&["cert", "import-signed", "tomcat", signed, "--chain", ca]);
    assert_eq!(imported["replaced_fingerprint"], old.as_str(), "{imported}");
    assert_eq!(imported["issuers"], serde_json::json!(["O=Example, CN=Example ca"]), "{imported}");
    let own = c.json(&["cert", "own", "tomcat"]);
    assert_eq!(own["certificate"]["issuer_cn"], "Example ca", "{own}");
    assert_eq!(c.json(&["audit", "--limit", "1"])[0]["action"], "cert.import_signed");

    // What the HTTPS server presents: the signed leaf, then the CA; the key is the one kept.
    let (chain, key) = c.store(async |s| {
        let id = s.web_identity().await.unwrap();
        (id.chain, opencapf_pki::PrivateKey::from_der(&id.key_pkcs8).unwrap())
    });
    let ca_der = opencapf_pki::pem::parse_certificates(&std::fs::read(ca).unwrap()).unwrap();
    assert_eq!(chain.len(), 2);
    assert_eq!(opencapf_pki::fingerprint(&chain[0]), own["certificate"]["fingerprint"].as_str().unwrap());
    assert_eq!(chain[1], ca_der[0]);
    let leaf = opencapf_pki::CertificateInfo::parse(&chain[0]).unwrap();
    assert_eq!(leaf.public_key_der, key.public_key_der(), "the key is kept");

    // Regenerating goes back to a self-signed certificate, without the enterprise chain.
    c.ok(&["cert", "regenerate", "tomcat"]);
    let chain = c.store(async |s| s.web_identity().await.unwrap().chain);
    assert_eq!(chain.len(), 1);
}

#[test]
fn a_cluster_made_before_tomcat_gets_it_when_opened_and_keeps_its_other_identities() {
    let c = Cluster::init(&[]);
    let itl = fingerprint(&c, "itlrecovery");
    opencapf_testkit::runtime().block_on(async {
        let store = opencapf_store::Store::open(&c.data()).await.unwrap();
        let mut db = store.write().await.unwrap();
        db.execute_raw("DELETE FROM service_certificates WHERE service = 'tomcat'").await.unwrap();
        db.commit().await.unwrap();
        store.close().await;
    });
    assert_eq!(c.json(&["cert", "own", "tomcat"])["state"], "active");
    assert_eq!(fingerprint(&c, "itlrecovery"), itl);
    let audit = c.json(&["audit", "--limit", "1"]);
    assert_eq!(audit[0]["action"], "cluster.identities", "{audit}");
    assert!(audit[0]["detail"].as_str().unwrap().starts_with("tomcat CN=cucm-pub.lab"), "{audit}");
}
