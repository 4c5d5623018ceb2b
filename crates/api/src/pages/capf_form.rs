//! The CAPF Information fields as a form: the choices the pages offer (CUCM's names), and the
//! posted form read into the [`CapfSettings`] and deadline `set_capf` takes. Shared by the phone
//! page (one device) and Find and List Phones (many).

use askama::Template;
use opencapf_cluster::{CapfSettings, Cluster, SetResult};
use opencapf_model::{AuthMode, CertificateOperation, KeyOrder};
use time::OffsetDateTime;

use super::Nav;
use crate::Problem;

/// A form posted as name/value pairs (the device checkboxes repeat one name).
pub(crate) type Pairs = Vec<(String, String)>;

/// The value of a field, trimmed; `None` when absent or empty.
pub(crate) fn field<'a>(pairs: &'a Pairs, name: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// Every value of a repeated field.
pub(crate) fn fields<'a>(pairs: &'a Pairs, name: &'a str) -> impl Iterator<Item = &'a str> {
    pairs.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.trim()).filter(|v| !v.is_empty())
}

/// One `<option>`: the value posted and the text shown.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
}

fn choices<T: Copy>(all: &[T], value: impl Fn(T) -> &'static str, label: impl Fn(T) -> &'static str) -> Vec<Choice> {
    all.iter().map(|v| Choice { value: value(*v).to_owned(), label: label(*v).to_owned() }).collect()
}

/// The options of the CAPF fields, in CUCM's order.
pub(crate) struct CapfChoices {
    pub(crate) operations: Vec<Choice>,
    pub(crate) auth_modes: Vec<Choice>,
    pub(crate) key_orders: Vec<Choice>,
    pub(crate) rsa_sizes: Vec<u32>,
    pub(crate) ec_sizes: Vec<u32>,
}

impl CapfChoices {
    pub(crate) fn new() -> CapfChoices {
        CapfChoices {
            operations: choices(CertificateOperation::ALL, |v| v.token(), |v| v.as_str()),
            auth_modes: choices(AuthMode::ALL, |v| v.token(), |v| v.as_str()),
            key_orders: choices(KeyOrder::ALL, |v| v.token(), |v| v.as_str()),
            rsa_sizes: vec![1024, 2048, 3072, 4096],
            ec_sizes: vec![256, 384, 521],
        }
    }
}

fn parsed<T: std::str::FromStr>(pairs: &Pairs, name: &str) -> Result<Option<T>, Problem>
where
    T::Err: std::fmt::Display,
{
    field(pairs, name).map(|v| v.parse::<T>().map_err(|e| Problem::bad_request(e.to_string()))).transpose()
}

/// The settings a CAPF form asks for; an empty field keeps each device's value.
pub(crate) fn settings(pairs: &Pairs) -> Result<CapfSettings, Problem> {
    let s = CapfSettings {
        operation: parsed(pairs, "operation")?,
        auth_mode: parsed(pairs, "auth_mode")?,
        auth_string: field(pairs, "auth_string").map(str::to_owned),
        generate_auth_string: field(pairs, "generate_auth_string").is_some(),
        key_order: parsed(pairs, "key_order")?,
        rsa_bits: parsed(pairs, "rsa_bits")?,
        ec_bits: parsed(pairs, "ec_bits")?,
        replace_pending: field(pairs, "replace").is_some(),
    };
    s.validate().map_err(Problem::from)?;
    Ok(s)
}

/// "Operation Completes By": a date (`<input type="date">`) means the end of that day, UTC, as
/// `device set --completes-by` reads it; none means the cluster's default ("CAPF Operation
/// Expires in (days)"). It must be in the future.
pub(crate) async fn deadline(cluster: &Cluster, pairs: &Pairs) -> Result<OffsetDateTime, Problem> {
    cluster.operation_deadline(field(pairs, "completes_by"), None).await.map_err(|e| match e {
        opencapf_cluster::Error::Invalid(m) => Problem::bad_request(format!("Operation Completes By: {m}")),
        e => e.into(),
    })
}

/// `YYYY-MM-DD` of a time, for date inputs and tables.
pub(crate) fn day(t: OffsetDateTime) -> String {
    let d = t.to_offset(time::UtcOffset::UTC).date();
    format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day())
}

/// What `set_capf` did, device by device (a generated authentication string is shown here once).
#[derive(Template)]
#[template(path = "capf_result.html")]
pub(crate) struct ResultPage {
    pub(crate) nav: Nav,
    pub(crate) results: Vec<SetResult>,
    pub(crate) completes_by: Option<String>,
    pub(crate) replaced: usize,
    pub(crate) back: String,
}

impl ResultPage {
    fn any_generated(&self) -> bool {
        self.results.iter().any(|r| r.auth_string.is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Pairs {
        list.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn a_form_reads_as_the_cli_flags_would() {
        let s = settings(&pairs(&[
            ("operation", "install"),
            ("auth_mode", "string"),
            ("auth_string", "12345"),
            ("key_order", ""),
            ("rsa_bits", "3072"),
        ]))
        .unwrap();
        assert_eq!(s.operation, Some(CertificateOperation::InstallUpgrade));
        assert_eq!(s.auth_mode, Some(AuthMode::AuthenticationString));
        assert_eq!(s.auth_string.as_deref(), Some("12345"));
        assert_eq!(s.key_order, None, "empty keeps each device's value");
        assert_eq!(s.rsa_bits, Some(3072));
        assert!(!s.replace_pending);
    }

    #[test]
    fn cucm_rules_refuse_a_bad_form() {
        let p = settings(&pairs(&[("rsa_bits", "512")])).unwrap_err();
        assert_eq!(p.status, 422, "{}", p.detail);
        let p = settings(&pairs(&[("operation", "format")])).unwrap_err();
        assert_eq!(p.status, 400);
        assert!(settings(&pairs(&[("auth_string", "12ab")])).is_err());
    }
}
