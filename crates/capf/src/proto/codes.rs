//! Macros for the one-byte code enumerations of the protocol.

/// The enum type both code enums declare: `body` is its variants.
macro_rules! code_enum_type {
    ($(#[$meta:meta])* $name:ident { $($body:tt)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($body)* }
    };
}

/// A code enum that keeps codes it has no name for as `Unknown(u8)`, so a
/// value received from a peer is never lost. Build values from wire bytes
/// with `From<u8>`: `Unknown` of a named code compares unequal to its name.
macro_rules! open_code_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+ }) => {
        code_enum_type! {
            $(#[$meta])* $name { $( $(#[$vmeta])* $variant, )+ #[doc = "A code with no name here, kept as received."] Unknown(u8), }
        }

        impl From<u8> for $name {
            fn from(code: u8) -> Self {
                match code {
                    $( $code => Self::$variant, )+
                    other => Self::Unknown(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 {
                match value {
                    $( $name::$variant => $code, )+
                    $name::Unknown(code) => code,
                }
            }
        }
    };
}

/// A code enum with a closed set of values: an unknown code is an error
/// (`TryFrom<u8>` gives the code back).
macro_rules! closed_code_enum {
    ($(#[$meta:meta])* pub enum $name:ident { $( $(#[$vmeta:meta])* $variant:ident = $code:literal, )+ }) => {
        code_enum_type! { $(#[$meta])* $name { $( $(#[$vmeta])* $variant, )+ } }

        impl TryFrom<u8> for $name {
            type Error = u8;
            fn try_from(code: u8) -> Result<Self, u8> {
                match code {
                    $( $code => Ok(Self::$variant), )+
                    other => Err(other),
                }
            }
        }

        impl From<$name> for u8 {
            fn from(value: $name) -> u8 {
                match value {
                    $( $name::$variant => $code, )+
                }
            }
        }
    };
}
