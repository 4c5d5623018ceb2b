//! Directory numbers: the lines a phone registers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ModelError;

/// The longest directory number CUCM takes (its DN field holds 24 characters, `+` included).
const MAX_LEN: usize = 24;

/// A directory number (DN) as CUCM stores it on a line: digits, `*` and `#`, with an optional
/// leading `+` (E.164 numbers), 1 to 24 characters. Partitions and patterns are not modelled.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DirectoryNumber(String);

impl DirectoryNumber {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for DirectoryNumber {
    type Err = ModelError;
    fn from_str(s: &str) -> Result<Self, ModelError> {
        let s = s.trim();
        let body = s.strip_prefix('+').unwrap_or(s);
        let ok =
            !body.is_empty() && s.len() <= MAX_LEN && body.chars().all(|c| c.is_ascii_digit() || c == '*' || c == '#');
        if ok {
            Ok(DirectoryNumber(s.to_owned()))
        } else {
            Err(ModelError::Invalid(format!(
                "'{s}' is not a directory number: digits, * and # (an optional leading +), at most {MAX_LEN} characters"
            )))
        }
    }
}

impl TryFrom<String> for DirectoryNumber {
    type Error = ModelError;
    fn try_from(s: String) -> Result<Self, ModelError> {
        s.parse()
    }
}

impl From<DirectoryNumber> for String {
    fn from(d: DirectoryNumber) -> String {
        d.0
    }
}

impl fmt::Display for DirectoryNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::DirectoryNumber;

    #[test]
    fn directory_numbers_are_what_cucm_takes() {
        for ok in ["2222", "+33123456789", "*97", "1#", " 2223 "] {
            assert!(ok.parse::<DirectoryNumber>().is_ok(), "{ok}");
        }
        for bad in ["", "+", "22a2", "2222 2223", "1234567890123456789012345", "SEP2C3124C9F8E1"] {
            let e = bad.parse::<DirectoryNumber>().unwrap_err().to_string();
            assert!(e.contains("is not a directory number"), "{bad}: {e}");
        }
        assert_eq!("+33123456789".parse::<DirectoryNumber>().unwrap().as_str(), "+33123456789");
    }
}
