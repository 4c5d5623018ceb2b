//! JSON for scripts: absent values are `null`, never "" (which a script would take for a value).

/// Serialises an empty text as `null`: for record fields where "" stands for "none".
pub fn empty_as_null<S: serde::Serializer>(text: &str, s: S) -> Result<S::Ok, S::Error> {
    if text.is_empty() {
        s.serialize_none()
    } else {
        s.serialize_str(text)
    }
}
