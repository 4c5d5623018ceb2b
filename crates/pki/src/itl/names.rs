//! Certificate names as the trust lists write them (§4.6): each attribute `TYPE=value` with
//! RFC 4514 escaping, in DER order (not reversed as RFC 4514 strings usually are), joined by `,`.
//! Whether phones compare these strings is unknown [U]; this matches what tlvfile writes, which
//! phones accept.

use x509_parser::der_parser::asn1_rs::Tag;
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

/// The short names tlvfile's library prints; any other type is written as its dotted OID.
fn short_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.4.3" => "CN",
        "2.5.4.7" => "L",
        "2.5.4.8" => "ST",
        "2.5.4.10" => "O",
        "2.5.4.11" => "OU",
        "2.5.4.6" => "C",
        "2.5.4.9" => "STREET",
        "0.9.2342.19200300.100.1.25" => "DC",
        "0.9.2342.19200300.100.1.1" => "UID",
        _ => return None,
    })
}

pub(super) fn render(name: &X509Name<'_>) -> String {
    let parts: Vec<String> = name.iter_attributes().map(attribute).collect();
    parts.join(",")
}

fn attribute(attr: &AttributeTypeAndValue<'_>) -> String {
    let oid = attr.attr_type().to_id_string();
    let key = short_name(&oid).map(str::to_owned).unwrap_or(oid);
    match value_text(attr) {
        Some(text) => format!("{key}={}", escape(&text)),
        // RFC 4514 §2.4: a value that is not a string is written as '#' and hex.
        None => format!("{key}=#{}", hex::encode(attr.attr_value().data)),
    }
}

fn value_text(attr: &AttributeTypeAndValue<'_>) -> Option<String> {
    let data = attr.attr_value().data;
    match attr.attr_value().tag() {
        Tag::Utf8String | Tag::PrintableString | Tag::Ia5String | Tag::NumericString | Tag::VisibleString => {
            std::str::from_utf8(data).ok().map(str::to_owned)
        }
        Tag::BmpString => {
            let units: Vec<u16> = data.chunks_exact(2).map(|c| u16::from_be_bytes([c[0], c[1]])).collect();
            (data.len() % 2 == 0).then(|| String::from_utf16(&units).ok()).flatten()
        }
        Tag::UniversalString => (data.len() % 4 == 0)
            .then(|| {
                data.chunks_exact(4).map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))).collect()
            })
            .flatten(),
        Tag::TeletexString => Some(data.iter().map(|&b| char::from(b)).collect()),
        _ => None,
    }
}

/// RFC 4514 §2.4 escaping: the specials anywhere, `#` or space first, space last, NUL as `\00`.
fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 4);
    let last = value.chars().count().saturating_sub(1);
    for (i, c) in value.chars().enumerate() {
        match c {
            '\\' | '"' | '+' | ',' | ';' | '<' | '>' => {
                out.push('\\');
                out.push(c);
            }
            '#' if i == 0 => out.push_str("\\#"),
            ' ' if i == 0 || i == last => out.push_str("\\ "),
            '\0' => out.push_str("\\00"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::escape;

    #[test]
    fn escapes_as_rfc_4514() {
        assert_eq!(escape("SAST"), "SAST");
        assert_eq!(escape("a,b+c;d"), "a\\,b\\+c\\;d");
        assert_eq!(escape("#x "), "\\#x\\ ");
        assert_eq!(escape(" "), "\\ ");
        assert_eq!(escape("q\"<>\\"), "q\\\"\\<\\>\\\\");
        assert_eq!(escape("a\\ "), "a\\\\\\ ");
        assert_eq!(escape("a b"), "a b");
    }
}
