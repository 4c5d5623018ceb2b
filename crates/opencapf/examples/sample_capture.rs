//! Writes the README tour's samples into a folder (default `examples/`): `capture.pcapng`, a
//! phone registering over SIP TLS with a lab MIC that CallManager refuses with `unknown_ca`, and
//! `phone-cert.pem`, that MIC. Run once: `cargo run -p opencapf --example sample_capture`.

use std::path::PathBuf;

use opencapf_diagnostics::synth::{self, Conversation, Link, PcapNgWriter};
use opencapf_pki::profiles::{self, CaSigner};
use opencapf_pki::{DeviceName, KeyAlgorithm, PrivateKey};

/// TLS alert description `unknown_ca`.
const UNKNOWN_CA: u8 = 48;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "examples".into()));
    let now = time::OffsetDateTime::now_utc();
    let mfg_key = PrivateKey::generate(KeyAlgorithm::Ec256)?;
    let mfg = profiles::lab_manufacturer_root(&mfg_key, now)?;
    let signer = CaSigner::new(&mfg.der, &mfg_key)?;
    let phone_key = PrivateKey::generate(KeyAlgorithm::Ec256)?;
    let device: DeviceName = "SEP2C3124C9F8E1".parse()?;
    let mic = profiles::lab_mic(&signer, &device, "CP-8861", "FCH2233ABCD", phone_key.public_key_der(), now)?;
    let cm_key = PrivateKey::generate(KeyAlgorithm::Ec256)?;
    let subject = profiles::SubjectFields { organization: Some("Example".into()), ..Default::default() };
    let cm = profiles::callmanager_certificate(&cm_key, "cucm-pub.lab", &subject, 1825, now)?;

    let hs = synth::tls12_handshake(&[&cm.der], Some(&[&mic.der]), &[], Some(UNKNOWN_CA), 16384);
    let mut conv = Conversation::new("10.106.104.243:51034".parse()?, "10.106.104.211:5061".parse()?);
    let packets = synth::tls12_connection(&mut conv, &hs, 1460, true);
    let link = Link::Ethernet(vec![]);
    let mut w = PcapNgWriter::new();
    let iface = w.interface(link.linktype(), "eth0");
    for (i, p) in packets.iter().enumerate() {
        w.packet(iface, 1_790_000_000.0 + i as f64 * 0.001, &link.frame(&p.ip()));
    }
    std::fs::write(out.join("capture.pcapng"), w.bytes)?;
    std::fs::write(out.join("phone-cert.pem"), mic.pem())?;
    Ok(())
}
