//! Text from outside (certificate subjects, phones' messages, capture and log contents) made safe
//! for a terminal. A certificate subject with `ESC [2J` would otherwise clear the administrator's
//! screen, or hide a line, when printed as it is. JSON output stays exact: only what people read
//! goes through here.

use std::borrow::Cow;
use std::fmt::Write as _;

/// `s` with every control character written as a visible escape: C0 (including ESC, so no
/// escape sequence survives; also newline and tab), DEL, C1 (U+0080–U+009F, among them CSI) and
/// the bidirectional overrides that reorder what is shown. For one-line fields (table cells).
pub fn printable(s: &str) -> Cow<'_, str> {
    escape(s, false)
}

/// Like [`printable`], but keeps line breaks: for multi-line reports.
pub fn printable_text(s: &str) -> Cow<'_, str> {
    escape(s, true)
}

fn escape(s: &str, keep_newlines: bool) -> Cow<'_, str> {
    let unsafe_char = |c: char| needs_escape(c) && !(keep_newlines && c == '\n');
    if !s.chars().any(unsafe_char) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if !unsafe_char(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// `s` escaped for XML text and attribute values (the phones' configuration files, the pages'
/// SVG charts). Characters XML 1.0 cannot carry at all (controls other than tab and line breaks)
/// are dropped: the text comes from administrators and certificates, not trusted to be clean.
pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_escaped_and_other_text_is_kept() {
        assert!(matches!(printable("CN=SEP001122334455, O=Lab é"), Cow::Borrowed(_)));
        assert_eq!(printable("a\x1b[2Jb"), "a\\x1b[2Jb");
        assert_eq!(printable("\x07\x7f\u{9b}31m\u{85}"), "\\x07\\x7f\\u{9b}31m\\u{85}");
        assert_eq!(printable("x\r\ny\tz"), "x\\r\\ny\\tz");
        assert_eq!(printable("abc\u{202e}def"), "abc\\u{202e}def");
        assert_eq!(printable_text("line 1\nline\x1b]0;t\x07 2\n"), "line 1\nline\\x1b]0;t\\x07 2\n");
    }
}
