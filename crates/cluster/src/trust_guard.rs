//! Which devices a trust entry is load-bearing for: those whose current certificate (installed
//! LSC, else recorded MIC) chains to it within its store, so that removing it would strand them.

use std::collections::HashSet;

use opencapf_model::TrustEntry;
use opencapf_pki::CertificateInfo;

/// Where a certificate points up its chain: its issuer's name (hex DER) and key id.
struct Issuer {
    dn: String,
    key_id: Option<String>,
}

impl Issuer {
    fn of(info: &CertificateInfo) -> Issuer {
        Issuer { dn: hex::encode(&info.issuer_der), key_id: info.authority_key_id.clone() }
    }

    /// Whether `entry` could have signed a certificate with this issuer (key ids compared when both
    /// are known, as the store's LSC columns are).
    fn is(&self, entry: &TrustEntry) -> bool {
        self.dn == entry.subject_dn
            && match (&self.key_id, &entry.key_id) {
                (Some(a), Some(b)) => a == b,
                _ => true,
            }
    }
}

/// The devices among `current` (name, DER) whose chain in `store` (the removed entry's store,
/// `removed` included) runs through `removed` and has no other entry to fall back on.
pub(crate) fn dependent_devices(
    removed: &TrustEntry,
    store: &[TrustEntry],
    current: &[(String, Vec<u8>)],
) -> Vec<String> {
    let (through, others) = entries_through(removed, store);
    current
        .iter()
        .filter_map(|(name, der)| {
            let info = CertificateInfo::parse(der).ok()?;
            let up = Issuer::of(&info);
            let via = through.iter().any(|e| up.is(e)) && !others.iter().any(|e| up.is(e));
            via.then(|| name.clone())
        })
        .collect()
}

/// Splits `store` into the entries whose chain runs through `removed` (itself and the
/// intermediates it issued, transitively) and the others.
fn entries_through<'a>(removed: &'a TrustEntry, store: &'a [TrustEntry]) -> (Vec<&'a TrustEntry>, Vec<&'a TrustEntry>) {
    let issuers: Vec<Option<Issuer>> = store
        .iter()
        .map(|e| CertificateInfo::parse(&e.der).ok().filter(|i| !i.self_issued).map(|i| Issuer::of(&i)))
        .collect();
    let mut inside: HashSet<usize> = store.iter().position(|e| e.id == removed.id).into_iter().collect();
    loop {
        let grown: Vec<usize> = (0..store.len())
            .filter(|i| !inside.contains(i))
            .filter(|&i| issuers[i].as_ref().is_some_and(|up| inside.iter().any(|&j| up.is(&store[j]))))
            .collect();
        if grown.is_empty() {
            break;
        }
        inside.extend(grown);
    }
    let (mut through, mut others) = (vec![removed], Vec::new());
    for (i, e) in store.iter().enumerate() {
        if e.id != removed.id {
            if inside.contains(&i) {
                through.push(e)
            } else {
                others.push(e)
            }
        }
    }
    (through, others)
}
