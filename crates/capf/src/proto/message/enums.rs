//! Enumerations carried in elements (§1.6).
//!
//! Values a peer may send that we must pass on or log (reason, hash id,
//! certificate type) keep unknown codes; values that select behaviour
//! (auth type, key type, curve) are closed sets and reject unknown codes.

open_code_enum! {
    /// Reason codes of element 1 (§1.6.1).
    pub enum Reason {
        /// Nothing to do; also EndSession after a fetch.
        NoAction = 0,
        /// "Update certificate": the success value of every response.
        UpdateCertificate = 1,
        /// The generic failure.
        InvalidElement = 7,
        UnknownDevice = 9,
    }
}

impl Reason {
    /// Reason 1 is how every peer says "OK".
    pub const OK: Reason = Reason::UpdateCertificate;

    pub fn is_ok(self) -> bool {
        self == Self::OK
    }
}

closed_code_enum! {
    /// Authentication types (§1.6.2): element 8 and `<capfAuthMode>`.
    pub enum AuthType {
        /// capfd's "none", the value it puts in AuthRequest.
        Unspecified = 0,
        /// "By Authentication String".
        Password = 1,
        /// "By Null String".
        NullString = 2,
        /// "By Existing Certificate", precedence to LSC.
        Lsc = 3,
        /// "By Existing Certificate", precedence to MIC.
        Mic = 4,
    }
}

closed_code_enum! {
    /// Key types of element 17.
    pub enum KeyType {
        Rsa = 0,
        Ec = 1,
    }
}

closed_code_enum! {
    /// Curves of element 18.
    pub enum Curve {
        /// secp256r1 / prime256v1.
        P256 = 0,
        P384 = 1,
        P521 = 2,
    }
}

open_code_enum! {
    /// Hash ids of elements 16 and 20 (same numbering as ITL/SGN headers).
    pub enum HashId {
        Sha1 = 1,
        Sha256 = 2,
        Sha512 = 3,
    }
}

open_code_enum! {
    /// Certificate types: element 3 and the second type byte of a package.
    pub enum CertType {
        Lsc = 1,
        Mic = 2,
    }
}

/// The key a KeyGenRequest asks the phone to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// RSA with this many modulus bits (phones know 512–4096).
    Rsa {
        bits: u16,
    },
    Ec {
        curve: Curve,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_match_the_spec() {
        assert_eq!(u8::from(Reason::NoAction), 0);
        assert_eq!(Reason::from(1), Reason::OK);
        assert_eq!(Reason::from(7), Reason::InvalidElement);
        assert_eq!(Reason::from(9), Reason::UnknownDevice);
        assert_eq!(Reason::from(42), Reason::Unknown(42));
        assert_eq!(AuthType::try_from(4), Ok(AuthType::Mic));
        assert_eq!(AuthType::try_from(5), Err(5));
        assert_eq!(Curve::try_from(2), Ok(Curve::P521));
        assert_eq!(Curve::try_from(3), Err(3));
        assert_eq!(KeyType::try_from(1), Ok(KeyType::Ec));
        assert_eq!(HashId::from(3), HashId::Sha512);
        assert_eq!(CertType::from(2), CertType::Mic);
        assert_eq!(u8::from(CertType::Unknown(0)), 0);
    }
}
