//! `clap::ValueEnum` for the vocabulary (feature `clap`): the CLI takes these values typed, so a
//! wrong one exits 2 listing the possible values. Each takes its CLI token, and its CUCM display
//! name as a hidden alias, as `FromStr` does.

use clap::builder::PossibleValue;
use clap::ValueEnum;

use crate::{
    AccountRole, AuthMode, CertKind, CertificateOperation, KeyAlgorithm, KeyOrder, LscState, Protocol, SecurityMode,
    Service, TrustStore,
};

macro_rules! value_enum {
    ($($t:ty),+) => {$(
        impl ValueEnum for $t {
            fn value_variants<'a>() -> &'a [Self] {
                Self::ALL
            }
            fn to_possible_value(&self) -> Option<PossibleValue> {
                Some(PossibleValue::new(self.token()).alias(self.as_str()))
            }
        }
    )+};
}

value_enum!(Protocol, SecurityMode, CertificateOperation, AuthMode, KeyOrder, Service, AccountRole);

impl ValueEnum for KeyAlgorithm {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(self.token()))
    }
}

impl ValueEnum for TrustStore {
    fn value_variants<'a>() -> &'a [Self] {
        &Self::ALL
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        let short = match self {
            TrustStore::CallManager => "callmanager",
            TrustStore::Capf => "capf",
            TrustStore::PhoneSast => "phone-sast",
            TrustStore::Est => "est",
        };
        Some(PossibleValue::new(self.name()).alias(short))
    }
}

impl ValueEnum for LscState {
    fn value_variants<'a>() -> &'a [Self] {
        &[LscState::None, LscState::Valid, LscState::Expired, LscState::Foreign]
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            LscState::None => "none",
            LscState::Valid => "valid",
            LscState::Expired => "expired",
            LscState::Foreign => "foreign",
        }))
    }
}

impl ValueEnum for CertKind {
    fn value_variants<'a>() -> &'a [Self] {
        &[CertKind::Lsc, CertKind::Mic]
    }
    fn to_possible_value(&self) -> Option<PossibleValue> {
        Some(PossibleValue::new(match self {
            CertKind::Lsc => "lsc",
            CertKind::Mic => "mic",
        }))
    }
}
