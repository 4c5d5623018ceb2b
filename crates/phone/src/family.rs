//! Which TLS each phone family speaks (phone-boot.md §5), in one place, and the engine a
//! session uses: rustls for TLS 1.2/1.3, OpenSSL ([`LegacyProfile`]) for TLS 1.0.

use serde::Serialize;

use crate::legacy_tls::LegacyProfile;

/// A phone family, as far as TLS goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TlsFamily {
    /// 79x1/79x2/79x5/797x (7906 … 7975): TLS 1.0 only, `AES256-SHA`/`AES128-SHA` (`NULL-SHA`
    /// when Authenticated), RSA servers; MICs from Cisco Manufacturing CA (SHA-1) or CAP-RTP-00x.
    Cisco79xx,
    /// 69xx, 89xx, 99xx: TLS 1.0 with the RSA AES-CBC-SHA suites. [U] whether their SIP speaks
    /// 1.2 on current firmware: they fail TVS/HTTPS when CUCM's minimum is 1.2, so 1.0 it is.
    Cisco69xx89xx99xx,
    /// 78xx/88xx, Jabber and everything else: TLS 1.2 and 1.3.
    Modern,
}

impl TlsFamily {
    /// The family of a model name: `CP-7965`, `CP-7965G`, `Cisco 7965`, `7965` are all 79xx.
    pub fn of_model(model: &str) -> TlsFamily {
        let digits: String =
            model.chars().skip_while(|c| !c.is_ascii_digit()).take_while(char::is_ascii_digit).collect();
        if digits.len() != 4 {
            return TlsFamily::Modern;
        }
        match &digits[..2] {
            "79" => TlsFamily::Cisco79xx,
            "69" | "89" | "99" => TlsFamily::Cisco69xx89xx99xx,
            _ => TlsFamily::Modern,
        }
    }

    /// What the family offers through OpenSSL; `None`: rustls.
    pub fn legacy_profile(self) -> Option<LegacyProfile> {
        match self {
            TlsFamily::Cisco79xx | TlsFamily::Cisco69xx89xx99xx => Some(LegacyProfile::TLS10_AES_SHA),
            TlsFamily::Modern => None,
        }
    }

    /// Whether the family's MICs come from the older, SHA-1 manufacturing CA ("Cisco
    /// Manufacturing CA", not "… SHA2"), as real 79xx and 69xx/89xx/99xx MICs do.
    pub fn older_mic_issuer(self) -> bool {
        self != TlsFamily::Modern
    }
}

/// Which TLS engine a CAPF session or a registration uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TlsEngine {
    /// The phone model's ([`TlsFamily::of_model`]): OpenSSL with TLS 1.0 for a legacy family,
    /// rustls otherwise.
    #[default]
    ByModel,
    /// rustls with the options' TLS versions (`--tls 1.2|1.3|both`).
    Rustls,
    /// OpenSSL with the model's legacy profile, or TLS 1.0 with AES-SHA for a modern model
    /// (`--tls 1.0`).
    Legacy,
}

impl TlsEngine {
    /// The legacy profile to use for a phone of `model`, `None` for rustls.
    pub fn legacy_profile(self, model: &str) -> Option<LegacyProfile> {
        let family = TlsFamily::of_model(model).legacy_profile();
        match self {
            TlsEngine::ByModel => family,
            TlsEngine::Rustls => None,
            TlsEngine::Legacy => Some(family.unwrap_or(LegacyProfile::TLS10_AES_SHA)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_by_model() {
        for m in ["CP-7965", "CP-7965G", "CP-7941G-GE", "CP-7975", "CP-7911", "Cisco 7962"] {
            assert_eq!(TlsFamily::of_model(m), TlsFamily::Cisco79xx, "{m}");
        }
        for m in ["CP-8945", "CP-9971", "CP-6961"] {
            assert_eq!(TlsFamily::of_model(m), TlsFamily::Cisco69xx89xx99xx, "{m}");
        }
        for m in ["CP-8861", "CP-7821", "CP-8811", "CSF", "CP-78", "CP-79650"] {
            assert_eq!(TlsFamily::of_model(m), TlsFamily::Modern, "{m}");
        }
        assert_eq!(TlsEngine::ByModel.legacy_profile("CP-7965"), Some(LegacyProfile::TLS10_AES_SHA));
        assert_eq!(TlsEngine::ByModel.legacy_profile("CP-8861"), None);
        assert_eq!(TlsEngine::Rustls.legacy_profile("CP-7965"), None);
        assert_eq!(TlsEngine::Legacy.legacy_profile("CP-8861"), Some(LegacyProfile::TLS10_AES_SHA));
    }
}
