//! `opencapf config example`: every key, commented out with its built-in default and the flag's
//! help text, generated from clap so that it cannot drift from the flags.

use std::fmt::Write as _;

use super::keys::{all, Key};

/// Width of the comment lines.
const WIDTH: usize = 100;

const HEADER: &str = "\
# opencapf.toml: settings of `opencapf serve` and the cluster's folder.
# Read only when named: `opencapf --config FILE` or OPENCAPF_CONFIG=FILE. A command-line flag
# beats an environment variable, which beats this file, which beats the built-in default.
# Keys are the long flags with `_` for `-`; a repeatable flag takes an array.
# Every setting below is commented out with its built-in default.
# Check a file with `opencapf config check FILE`, see the effective settings with
# `opencapf --config FILE config show`.
";

/// The example file.
pub(crate) fn example() -> String {
    let mut out = String::from(HEADER);
    let mut section = None;
    for key in all() {
        if key.section != section {
            section = key.section;
            let _ = write!(out, "\n[{}]\n", section.unwrap_or_default());
        }
        out.push('\n');
        entry(&mut out, &key);
    }
    out
}

fn entry(out: &mut String, key: &Key) {
    let help = key.arg.get_long_help().or(key.arg.get_help()).map(ToString::to_string).unwrap_or_default();
    let mut notes = Vec::new();
    let values = key.arg.get_possible_values();
    let names: Vec<&str> = values.iter().filter(|v| !v.is_hide_set()).map(|v| v.get_name()).collect();
    if !names.is_empty() && !key.is_switch() {
        notes.push(format!("One of: {}.", names.join(", ")));
    }
    if let Some(env) = key.arg.get_env() {
        notes.push(format!("Environment: {}.", env.to_string_lossy()));
    }
    let long = key.arg.get_long().unwrap_or_default();
    notes.push(format!("Flag: --{long}."));
    for paragraph in help.split('\n').chain([notes.join(" ").as_str()]) {
        wrap(out, paragraph);
    }
    let defaults: Vec<String> = key.arg.get_default_values().iter().map(|v| toml_value(&v.to_string_lossy())).collect();
    let value = match defaults.as_slice() {
        [] => {
            let placeholder = key.arg.get_value_names().and_then(|n| n.first()).map(ToString::to_string);
            let _ = writeln!(out, "# (no default)");
            toml_value(&placeholder.unwrap_or_default())
        }
        [one] if !key.is_list() => one.clone(),
        many => format!("[{}]", many.join(", ")),
    };
    let _ = writeln!(out, "# {} = {value}", key.name);
}

/// `text` as `# ` comment lines of at most WIDTH characters.
fn wrap(out: &mut String, text: &str) {
    let mut line = String::from("#");
    for word in text.split_whitespace() {
        if line.len() + 1 + word.len() > WIDTH && line.len() > 1 {
            let _ = writeln!(out, "{line}");
            line = String::from("#");
        }
        line.push(' ');
        line.push_str(word);
    }
    if line.len() > 1 {
        let _ = writeln!(out, "{line}");
    }
}

/// A default as TOML: a number or a boolean bare, anything else a quoted string.
fn toml_value(text: &str) -> String {
    if text.parse::<i64>().is_ok() || text == "true" || text == "false" {
        return text.to_owned();
    }
    let mut quoted = String::from("\"");
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => {
                let _ = write!(quoted, "\\u{:04X}", u32::from(c));
            }
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

#[cfg(test)]
mod tests {
    use super::toml_value;

    #[test]
    fn defaults_are_written_as_toml() {
        assert_eq!(toml_value("30"), "30");
        assert_eq!(toml_value("false"), "false");
        assert_eq!(toml_value("0.0.0.0:3804"), "\"0.0.0.0:3804\"");
        assert_eq!(toml_value("a\"b\\c"), r#""a\"b\\c""#);
    }
}
