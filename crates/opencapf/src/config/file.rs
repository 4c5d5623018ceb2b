//! Reading `opencapf.toml`: TOML, checked key by key against the flags, so that a typo or a wrong
//! value is an error naming the file and line rather than a setting silently ignored.

use std::io::Read as _;
use std::ops::Range;
use std::path::{Path, PathBuf};

use toml::de::{DeTable, DeValue};
use toml::Spanned;

use super::keys::Key;

/// A configuration file is a few kilobytes; anything far larger is not one.
const MAX_BYTES: u64 = 1 << 20;

/// Why a configuration file cannot be used. Every message names the file.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ConfigError {
    #[error("reading the configuration file {}: {source}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("configuration file {}: larger than {MAX_BYTES} bytes", path.display())]
    TooLarge { path: PathBuf },
    #[error("configuration file {} line {line}: {message}", path.display())]
    Syntax { path: PathBuf, line: usize, message: String },
    #[error("configuration file {} line {line}: unknown key `{key}`; the keys are: {valid}", path.display())]
    UnknownKey { path: PathBuf, line: usize, key: String, valid: String },
    #[error("configuration file {} line {line}: `{key}` is a table: write it as [{key}]", path.display())]
    NotATable { path: PathBuf, line: usize, key: String },
    #[error("configuration file {} line {line}, key `{key}`: {message}", path.display())]
    BadValue { path: PathBuf, line: usize, key: String, message: String },
}

/// One key the file sets, with its value(s) as the flag would take them.
pub(crate) struct Setting {
    /// Index into the keys the file was checked against.
    pub key: usize,
    pub values: Vec<String>,
    pub line: usize,
}

/// A checked configuration file.
pub(crate) struct ConfigFile {
    pub path: PathBuf,
    pub settings: Vec<Setting>,
}

impl ConfigFile {
    /// Reads and checks `path` against `keys`.
    pub(crate) fn read(path: &Path, keys: &[Key]) -> Result<ConfigFile, ConfigError> {
        let read_error = |source| ConfigError::Read { path: path.to_owned(), source };
        let file = std::fs::File::open(path).map_err(read_error)?;
        let mut text = String::new();
        file.take(MAX_BYTES + 1).read_to_string(&mut text).map_err(read_error)?;
        if text.len() as u64 > MAX_BYTES {
            return Err(ConfigError::TooLarge { path: path.to_owned() });
        }
        Self::parse(path, &text, keys)
    }

    /// Checks `text`, the content of `path`, against `keys`.
    pub(crate) fn parse(path: &Path, text: &str, keys: &[Key]) -> Result<ConfigFile, ConfigError> {
        Parser { path, text, keys }.parse()
    }

    /// The setting of a key, if the file has it.
    pub(crate) fn get(&self, key: usize) -> Option<&Setting> {
        self.settings.iter().find(|s| s.key == key)
    }
}

struct Parser<'a> {
    path: &'a Path,
    text: &'a str,
    keys: &'a [Key],
}

impl Parser<'_> {
    fn parse(&self) -> Result<ConfigFile, ConfigError> {
        let root = DeTable::parse(self.text).map_err(|e| ConfigError::Syntax {
            path: self.path.to_owned(),
            line: self.line(e.span().unwrap_or(0..0)),
            message: e.message().to_owned(),
        })?;
        let mut settings = Vec::new();
        for (name, value) in root.get_ref() {
            let section = super::keys::SECTIONS.iter().find(|(s, _)| *s == name.get_ref().as_ref());
            match (section, value.get_ref()) {
                (Some((section, _)), DeValue::Table(table)) => {
                    for (name, value) in table {
                        settings.push(self.setting(Some(section), name, value)?);
                    }
                }
                (Some(_), _) => {
                    let (line, key) = (self.line(name.span()), name.get_ref().to_string());
                    return Err(ConfigError::NotATable { path: self.path.to_owned(), line, key });
                }
                (None, _) => settings.push(self.setting(None, name, value)?),
            }
        }
        Ok(ConfigFile { path: self.path.to_owned(), settings })
    }

    fn setting(
        &self,
        section: Option<&str>,
        name: &Spanned<std::borrow::Cow<'_, str>>,
        value: &Spanned<DeValue<'_>>,
    ) -> Result<Setting, ConfigError> {
        let line = self.line(name.span());
        let found = self.keys.iter().position(|k| k.section == section && k.name == name.get_ref().as_ref());
        let Some(index) = found else {
            let key = match section {
                Some(s) => format!("{s}.{}", name.get_ref()),
                None => name.get_ref().to_string(),
            };
            return Err(ConfigError::UnknownKey { path: self.path.to_owned(), line, key, valid: self.valid_keys() });
        };
        let key = &self.keys[index];
        let bad = |message: String| ConfigError::BadValue {
            path: self.path.to_owned(),
            line: self.line(value.span()),
            key: key.path(),
            message,
        };
        let values = match value.get_ref() {
            DeValue::Array(items) if key.is_list() => {
                items.iter().map(|v| scalar(v.get_ref())).collect::<Result<Vec<_>, _>>().map_err(bad)?
            }
            v => vec![scalar(v).map_err(bad)?],
        };
        for v in &values {
            key.check(v).map_err(bad)?;
        }
        Ok(Setting { key: index, values, line })
    }

    /// The line (from 1) where a span starts.
    fn line(&self, span: Range<usize>) -> usize {
        let start = span.start.min(self.text.len());
        self.text.as_bytes()[..start].iter().filter(|&&b| b == b'\n').count() + 1
    }

    fn valid_keys(&self) -> String {
        self.keys.iter().map(Key::path).collect::<Vec<_>>().join(", ")
    }
}

/// A TOML value as the flag's text: strings as written, numbers and booleans as TOML writes them.
fn scalar(value: &DeValue<'_>) -> Result<String, String> {
    match value {
        DeValue::String(s) => Ok(s.to_string()),
        DeValue::Integer(i) => i128::from_str_radix(i.as_str(), i.radix())
            .map(|n| n.to_string())
            .map_err(|e| format!("integer {}: {e}", i.as_str())),
        DeValue::Float(f) => Ok(f.as_str().to_owned()),
        DeValue::Boolean(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, a number or true/false, not {}", other.type_str())),
    }
}
