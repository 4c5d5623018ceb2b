//! The CLI's `--json` and the REST API give CUCM's display names ("By Existing Certificate
//! (Precedence to MIC)"); scripts want the value the command line takes ("lsc"). Rather than
//! change every record, the JSON about to be printed or sent gains a `<field>_token` sibling
//! beside each such field: additive, so existing readers keep working.

use std::str::FromStr;

use crate::{AuthMode, CertificateOperation, KeyOrder, Protocol, SecurityMode, TrustStore};
use serde_json::{Map, Value};

/// The command-line token of `display` when `field` names one of the CUCM enums and `display` is
/// exactly that enum's display name (a `protocol` of a capture, "TLS 1.3", is left alone).
fn token(field: &str, display: &str) -> Option<String> {
    fn of<T: FromStr + ToString>(display: &str, token: impl Fn(T) -> String) -> Option<String> {
        let v = T::from_str(display).ok()?;
        (v.to_string() == display).then(|| token(v))
    }
    match field {
        "operation" => of(display, |v: CertificateOperation| v.token().to_owned()),
        "auth_mode" => of(display, |v: AuthMode| v.token().to_owned()),
        "key_order" => of(display, |v: KeyOrder| v.token().to_owned()),
        "protocol" => of(display, |v: Protocol| v.token().to_owned()),
        "security_mode" | "security" => of(display, |v: SecurityMode| v.token().to_owned()),
        "store" | "trust_store" => of(display, |v: TrustStore| v.to_string()),
        _ => None,
    }
}

/// Adds the `<field>_token` siblings throughout `value`, each right after its field.
pub fn add_tokens(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(add_tokens),
        Value::Object(map) => {
            map.values_mut().for_each(add_tokens);
            *map = with_tokens(std::mem::take(map));
        }
        _ => {}
    }
}

fn with_tokens(map: Map<String, Value>) -> Map<String, Value> {
    let mut out = Map::new();
    for (k, v) in &map {
        out.insert(k.clone(), v.clone());
        let name = format!("{k}_token");
        if let Some(t) = v.as_str().and_then(|d| token(k, d)).filter(|_| !map.contains_key(&name)) {
            out.insert(name, Value::String(t));
        }
    }
    out
}
