//! Whether the phone takes an ITL it was given (phone-boot.md §1.4):
//!
//! 1. the file must parse and verify against its own signer record (the SAST whose serial the
//!    header names), or the phone logs a parse/verify failure and keeps what it has;
//! 2. a phone with no ITL takes it (trust on first use);
//! 3. the same bytes as the held ITL: nothing to do;
//! 4. a signer certificate that is a SAST record of the held ITL (same bytes): taken;
//! 5. otherwise the phone asks the TVS of its cluster about the signer's certificate and takes
//!    the file only if TVS answers valid with the SAST role;
//! 6. else it is refused and the old ITL is kept [U: inferred from the Reason:14 reports].
//!
//! [`judge`] does 1–4 and says when TVS must be asked; [`vouched`] reads TVS's answer.

use opencapf_model::Role;
use opencapf_pki::Itl;
use opencapf_tvs::Answer;
use serde::Serialize;

/// What became of the ITL offered at boot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "outcome", content = "detail")]
pub enum ItlOutcome {
    /// The server has no ITL: the phone goes on with what it holds (none: non-secure).
    NotOffered,
    /// A factory-state phone took the first ITL.
    InstalledFirstUse,
    /// The same ITL as held.
    Unchanged,
    /// Signed by a SAST the held ITL names.
    UpdatedBySast,
    /// Signed by an unknown SAST that TVS vouched for.
    UpdatedByTvs,
    /// Not taken; the old ITL is kept. The reason in the phone's words.
    Refused(String),
}

impl ItlOutcome {
    pub fn installed(&self) -> bool {
        matches!(self, ItlOutcome::InstalledFirstUse | ItlOutcome::UpdatedBySast | ItlOutcome::UpdatedByTvs)
    }
}

/// The verdict before TVS.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Judgement {
    Take(ItlOutcome),
    /// Ask TVS about this certificate (the new signer's, DER).
    AskTvs(Vec<u8>),
    Refuse(String),
}

/// Rules 1–4 of the module doc.
pub(crate) fn judge(held: Option<&Itl>, offered: &[u8]) -> Judgement {
    let new = match Itl::parse(offered) {
        Ok(itl) => itl,
        Err(e) => return Judgement::Refuse(format!("TL parse error: {e}")),
    };
    let Some(signer) = new.signer().and_then(|r| r.certificate.clone()) else {
        return Judgement::Refuse("no SAST record in the file matches the signer in its header".into());
    };
    if let Err(e) = new.verify_with(&signer) {
        return Judgement::Refuse(format!("TL file signature check failed: {e}"));
    }
    let Some(held) = held else { return Judgement::Take(ItlOutcome::InstalledFirstUse) };
    if held.as_bytes() == offered {
        return Judgement::Take(ItlOutcome::Unchanged);
    }
    if held.certificates_with(Role::Sast).any(|c| c == signer.as_slice()) {
        return Judgement::Take(ItlOutcome::UpdatedBySast);
    }
    Judgement::AskTvs(signer)
}

/// Rule 5: TVS vouches for the signer as a SAST.
pub(crate) fn vouched(answer: &Answer) -> bool {
    matches!(answer, Answer::Valid { roles, .. } if roles.contains(&Role::Sast))
}

#[cfg(test)]
mod tests {
    use opencapf_pki::{build_itl, FileHash, FileSigner, KeyAlgorithm, PrivateKey, SignerVersion, SubjectFields};
    use opencapf_testkit::Ca;
    use time::OffsetDateTime;

    use super::*;

    /// A self-signed RSA certificate and its key (a new key, so a new name, each time).
    fn sast(_role: &str) -> (Vec<u8>, PrivateKey) {
        let ca = Ca::capf(KeyAlgorithm::Rsa2048, &SubjectFields::default(), 365, OffsetDateTime::now_utc());
        (ca.der, ca.key)
    }

    fn itl(signer: &(Vec<u8>, PrivateKey), others: &[(Role, &[u8])], at: u32) -> Vec<u8> {
        let mut records = vec![(Role::Sast, signer.0.as_slice())];
        records.extend_from_slice(others);
        let s = FileSigner { certificate: &signer.0, key: &signer.1 };
        build_itl(&s, &records, "ITLFile.tlv", SignerVersion::V1_0, FileHash::Sha1, at).unwrap()
    }

    #[test]
    fn a_factory_phone_takes_the_first_itl_and_then_the_same_signer() {
        let recovery = sast("ITLRecovery");
        let capf = sast("CAPF-1");
        let first = itl(&recovery, &[(Role::Capf, &capf.0)], 1);
        assert_eq!(judge(None, &first), Judgement::Take(ItlOutcome::InstalledFirstUse));
        let held = Itl::parse(&first).unwrap();
        assert_eq!(judge(Some(&held), &first), Judgement::Take(ItlOutcome::Unchanged));
        let capf2 = sast("CAPF-2");
        let second = itl(&recovery, &[(Role::Capf, &capf2.0)], 2);
        assert_eq!(judge(Some(&held), &second), Judgement::Take(ItlOutcome::UpdatedBySast));
    }

    #[test]
    fn an_unknown_signer_needs_tvs_and_only_a_sast_answer_lets_it_in() {
        let old = sast("ITLRecovery-A");
        let new = sast("ITLRecovery-B");
        let held = Itl::parse(&itl(&old, &[], 1)).unwrap();
        let offered = itl(&new, &[], 2);
        assert_eq!(judge(Some(&held), &offered), Judgement::AskTvs(new.0.clone()));
        assert!(vouched(&Answer::Valid { roles: vec![Role::Sast], ttl: 86400 }));
        assert!(!vouched(&Answer::Valid { roles: vec![Role::Capf], ttl: 86400 }), "CAPF cannot sign an ITL");
        assert!(!vouched(&Answer::Invalid));
    }

    #[test]
    fn broken_or_forged_files_are_refused() {
        let recovery = sast("ITLRecovery");
        let mut file = itl(&recovery, &[], 1);
        let last = file.len() - 1;
        file[last] ^= 1;
        assert!(matches!(judge(None, &file), Judgement::Refuse(_)), "a changed record breaks the signature");
        assert!(matches!(judge(None, b"not an ITL"), Judgement::Refuse(ref m) if m.starts_with("TL parse error")));
    }
}
