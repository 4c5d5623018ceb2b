//! ECDSA signatures in the CAPF forms (SHA-1 and SHA-512 on any curve) made by openssl, an
//! independent signer, check out with `proto::auth::verify_ecdsa`, including P-384 with SHA-1,
//! which aws-lc-rs has no ready verifier for.

use std::process::Command;

use opencapf_capf::proto::auth::verify_ecdsa;
use opencapf_capf::proto::message::{Curve, HashId};
use opencapf_pki::PrivateKey;
use x509_parser::prelude::{FromDer, SubjectPublicKeyInfo};

fn openssl(args: &[&str]) {
    let out = Command::new("openssl").args(args).output().expect("openssl is installed (see .ci/run)");
    assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn openssl_ecdsa_signatures_verify_in_every_capf_form() {
    let dir = tempfile::tempdir().unwrap();
    let content = dir.path().join("content");
    std::fs::write(&content, b"SEP58971ECC97C1\0\x30\x82\x01\x0a").unwrap();
    for (name, curve) in [("prime256v1", Curve::P256), ("secp384r1", Curve::P384), ("secp521r1", Curve::P521)] {
        let key = dir.path().join(format!("{name}.pem"));
        openssl(&["ecparam", "-name", name, "-genkey", "-noout", "-out", key.to_str().unwrap()]);
        let pk = PrivateKey::from_pem(&std::fs::read(&key).unwrap()).unwrap();
        let (_, spki) = SubjectPublicKeyInfo::from_der(pk.public_key_der()).unwrap();
        let point = spki.subject_public_key.data.to_vec();
        for (dgst, hash) in [("-sha1", HashId::Sha1), ("-sha512", HashId::Sha512)] {
            let sig = dir.path().join(format!("{name}{dgst}.sig"));
            openssl(&[
                "dgst",
                dgst,
                "-sign",
                key.to_str().unwrap(),
                "-out",
                sig.to_str().unwrap(),
                content.to_str().unwrap(),
            ]);
            let sig = std::fs::read(&sig).unwrap();
            let data = std::fs::read(&content).unwrap();
            verify_ecdsa(curve, hash, &point, &data, &sig).unwrap_or_else(|e| panic!("{name} {dgst}: {e}"));
            assert!(verify_ecdsa(curve, hash, &point, b"other content", &sig).is_err(), "{name} {dgst}");
            let other = if hash == HashId::Sha1 { HashId::Sha512 } else { HashId::Sha1 };
            assert!(verify_ecdsa(curve, other, &point, &data, &sig).is_err(), "{name} {dgst} under the other hash");
        }
    }
}
