//! ITLs made without a cluster, as a phone holds them.

use opencapf_model::Role;
use opencapf_pki::{build_itl, FileHash, FileSigner, SignerVersion};

use crate::Ca;

/// An `ITLFile.tlv` signed by `sast` (an [`Ca::itl_recovery`]), with `sast`'s own SAST record
/// first and then `records` in order, as a cluster serves it (signer version 1.0, SHA-1).
pub fn itl(sast: &Ca, records: &[(Role, &[u8])]) -> Vec<u8> {
    let mut all: Vec<(Role, &[u8])> = vec![(Role::Sast, sast.der.as_slice())];
    all.extend_from_slice(records);
    let signer = FileSigner { certificate: &sast.der, key: &sast.key };
    build_itl(&signer, &all, "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, 1).unwrap()
}
