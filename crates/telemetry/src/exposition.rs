//! A small reader of the text format, enough to check what [`crate::render`] writes and to read
//! one sample back: for tests, and for a health check that scrapes `/metrics`.

use std::collections::HashMap;

/// What is wrong with an exposition, and on which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ExpositionError {
    #[error("line {line}: {why}")]
    Line { line: usize, why: &'static str },
    #[error("the text does not end with `# EOF`")]
    NoEof,
}

/// A sample's labels: names as written, values unescaped.
type Labels<'a> = Vec<(&'a str, String)>;

/// One sample line: its name, its labels, its value.
struct Sample<'a> {
    name: &'a str,
    labels: Labels<'a>,
    value: f64,
}

/// Checks the OpenMetrics text structure: descriptors before their samples, each family
/// declared once with a known type, sample names that belong to their family, well-formed
/// labels and values, and `# EOF` last.
pub fn check_exposition(text: &str) -> Result<(), ExpositionError> {
    let body = text.strip_suffix("# EOF\n").ok_or(ExpositionError::NoEof)?;
    let mut families: HashMap<&str, &str> = HashMap::new();
    for (i, line) in body.lines().enumerate() {
        let bad = |why| ExpositionError::Line { line: i + 1, why };
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kind, name, rest) = (parts.next(), parts.next(), parts.next());
            let name = name.filter(|n| is_name(n)).ok_or(bad("a descriptor without a metric name"))?;
            match (kind, rest) {
                (Some("TYPE"), Some(t)) => {
                    if !TYPES.contains(&t) {
                        return Err(bad("unknown metric type"));
                    }
                    if families.insert(name, t).is_some() {
                        return Err(bad("a family declared twice"));
                    }
                }
                (Some("HELP" | "UNIT"), Some(_)) => {}
                _ => return Err(bad("a comment that is not HELP, TYPE or UNIT")),
            }
            continue;
        }
        let sample = parse_sample(line).map_err(bad)?;
        let Some(kind) = family_of(&families, sample.name) else {
            return Err(bad("a sample of no declared family"));
        };
        if kind == "counter" && sample.value < 0.0 {
            return Err(bad("a negative counter"));
        }
    }
    Ok(())
}

/// The value of the sample `name` whose labels are exactly `labels` (in any order).
pub fn sample_value(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    text.lines().filter(|l| !l.starts_with('#')).filter_map(|l| parse_sample(l).ok()).find_map(|s| {
        let same = s.name == name
            && s.labels.len() == labels.len()
            && labels.iter().all(|(k, v)| s.labels.iter().any(|(sk, sv)| sk == k && sv == v));
        same.then_some(s.value)
    })
}

const TYPES: &[&str] = &["counter", "gauge", "histogram", "gaugehistogram", "summary", "info", "stateset", "unknown"];

/// The type of the family a sample name belongs to: the name itself, or the name less its
/// type's suffix.
fn family_of<'a>(families: &HashMap<&str, &'a str>, sample: &str) -> Option<&'a str> {
    if let Some(t) = families.get(sample) {
        return (!matches!(*t, "counter" | "histogram")).then_some(*t);
    }
    let suffixes: &[(&str, &[&str])] = &[
        ("counter", &["_total", "_created"]),
        ("histogram", &["_bucket", "_count", "_sum", "_created"]),
        ("info", &["_info"]),
    ];
    suffixes.iter().find_map(|(kind, ends)| {
        ends.iter().find_map(|end| {
            let family = sample.strip_suffix(end)?;
            families.get(family).filter(|t| *t == kind).copied()
        })
    })
}

fn is_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

/// `name{k="v",...} value [timestamp]`.
fn parse_sample(line: &str) -> Result<Sample<'_>, &'static str> {
    let end = line.find(['{', ' ']).ok_or("a sample without a value")?;
    let name = &line[..end];
    if !is_name(name) {
        return Err("a sample with a malformed name");
    }
    let mut rest = &line[end..];
    let mut labels = Vec::new();
    if let Some(inner) = rest.strip_prefix('{') {
        let (parsed, after) = parse_labels(inner)?;
        labels = parsed;
        rest = after;
    }
    let mut fields = rest.strip_prefix(' ').ok_or("no space before the value")?.split(' ');
    let value = parse_value(fields.next().unwrap_or(""))?;
    match (fields.next(), fields.next()) {
        (None, _) => {}
        (Some(ts), None) if ts.parse::<f64>().is_ok() => {}
        _ => return Err("text after the value"),
    }
    Ok(Sample { name, labels, value })
}

/// The labels up to the closing brace, and the text after it.
fn parse_labels(mut s: &str) -> Result<(Labels<'_>, &str), &'static str> {
    let mut labels = Vec::new();
    loop {
        if let Some(after) = s.strip_prefix('}') {
            return Ok((labels, after));
        }
        let eq = s.find('=').ok_or("a label without a value")?;
        let key = &s[..eq];
        if !is_name(key) || key.contains(':') {
            return Err("a malformed label name");
        }
        let quoted = s[eq + 1..].strip_prefix('"').ok_or("a label value not quoted")?;
        let (value, after) = unescape(quoted)?;
        labels.push((key, value));
        s = after.strip_prefix(',').unwrap_or(after);
    }
}

/// A label value up to its closing quote (`\\`, `\"`, `\n` escaped), and the text after it.
fn unescape(s: &str) -> Result<(String, &str), &'static str> {
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => return Ok((out, &s[i + 1..])),
            '\\' => match chars.next() {
                Some((_, '\\')) => out.push('\\'),
                Some((_, '"')) => out.push('"'),
                Some((_, 'n')) => out.push('\n'),
                _ => return Err("a malformed escape in a label value"),
            },
            '\n' => return Err("a newline in a label value"),
            c => out.push(c),
        }
    }
    Err("a label value without its closing quote")
}

fn parse_value(s: &str) -> Result<f64, &'static str> {
    match s {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        _ => s.parse::<f64>().map_err(|_| "a malformed value"),
    }
}
