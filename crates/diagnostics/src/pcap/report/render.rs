//! The report as text, for people: the capture, each connection, then the findings.

use std::fmt::Write as _;

use super::{CertSummary, ClientCertificate, PcapReport, TlsConnection};
use crate::cluster::kind_label;

impl PcapReport {
    /// The report as text, for people.
    pub fn render(&self, max_connections: usize) -> String {
        let mut s = String::new();
        if let Some(f) = &self.file {
            let _ = writeln!(s, "Capture: {f}");
        }
        if let Some(c) = &self.capture {
            let links: Vec<String> = c
                .interfaces
                .iter()
                .map(|i| match &i.name {
                    Some(n) => format!("{n} ({})", i.link),
                    None => i.link.clone(),
                })
                .collect();
            let _ = writeln!(
                s,
                "Format: {:?}, {} interface(s): {}; {} frames, {} TCP connections, {} TLS",
                c.format,
                c.interfaces.len(),
                links.join(", "),
                self.stats.frames,
                self.stats.tcp_flows,
                self.connections.len() as u64 + self.connections_not_listed
            );
        }
        if self.cluster_checked {
            let _ = writeln!(s, "Checked against the cluster's CallManager-trust and CAPF-trust.");
        }
        for c in self.connections.iter().take(max_connections) {
            s.push('\n');
            c.render(&mut s);
        }
        if self.connections.len() > max_connections {
            let _ = writeln!(
                s,
                "\n… {} more connection(s) not shown (use --json for all)",
                self.connections.len() - max_connections
            );
        }
        if self.connections_not_listed > 0 {
            let _ = writeln!(
                s,
                "… {} more connection(s) past the report's limit, counted only",
                self.connections_not_listed
            );
        }
        s.push_str("\nFindings:\n");
        for f in &self.findings {
            f.render(&mut s, true);
        }
        let _ = writeln!(
            s,
            "\n{} error(s), {} warning(s), {} info",
            self.summary.errors, self.summary.warnings, self.summary.infos
        );
        s
    }
}

impl TlsConnection {
    fn render(&self, s: &mut String) {
        let _ = writeln!(s, "#{} {} -> {}  {}", self.index, self.client, self.server, self.service_name);
        if let Some(t) = &self.first_seen {
            let _ = writeln!(s, "    started:  {t}");
        }
        let legacy = if self.legacy { format!(" [legacy: {}]", self.legacy_reasons.join(", ")) } else { String::new() };
        let _ = writeln!(
            s,
            "    TLS:      {}, cipher {}{}{legacy}",
            self.version.as_deref().unwrap_or("? (no ServerHello)"),
            self.cipher.as_deref().unwrap_or("?"),
            self.server_name.as_deref().map(|n| format!(", server name {n}")).unwrap_or_default()
        );
        if let Some(c) = self.server_certificates.first() {
            let _ = writeln!(s, "    server certificate: {}", cert_line(c));
        }
        match self.client_certificate {
            ClientCertificate::Presented => {
                let kind = self.client_certificate_kind.map(|k| kind_label(k).to_owned()).unwrap_or_else(|| "?".into());
                let device = self.device.as_deref().map(|d| format!(" of {d}")).unwrap_or_default();
                let _ = writeln!(s, "    client certificate: {kind}{device}");
                for (i, c) in self.client_certificates.iter().enumerate() {
                    let label = if i == 0 { "        " } else { "        chain: " };
                    let _ = writeln!(s, "{label}{}", cert_line(c));
                }
            }
            ClientCertificate::Empty => {
                let _ = writeln!(s, "    client certificate: none sent (the server asked for one)");
            }
            ClientCertificate::NotRequested => {
                let _ = writeln!(s, "    client certificate: not requested by the server");
            }
            ClientCertificate::HiddenByTls13 => {
                let _ = writeln!(s, "    client certificate: hidden (TLS 1.3 encrypts it)");
            }
            ClientCertificate::NotSeen => {
                let _ = writeln!(s, "    client certificate: not seen in the capture");
            }
        }
        if !self.accepted_issuers.is_empty() {
            let _ = writeln!(s, "    server accepts client certificates from: {}", self.accepted_issuers.join("; "));
        }
        for v in &self.trust {
            if v.trusted {
                let _ = writeln!(s, "    {}: trusted", v.store);
            } else {
                let _ = writeln!(s, "    {}: {} -> {}", v.store, v.message, v.consequence);
            }
        }
        for a in &self.alerts {
            let _ = writeln!(s, "    alert:    {}{}", a.text, if a.decrypted { " (decrypted)" } else { "" });
        }
        let _ = writeln!(s, "    outcome:  {}", self.outcome.text);
        for n in &self.notes {
            let _ = writeln!(s, "    note:     {n}");
        }
    }
}

fn cert_line(c: &CertSummary) -> String {
    if let Some(e) = &c.parse_error {
        return format!("(unreadable: {e}) sha256 {}", &c.fingerprint[..16]);
    }
    format!(
        "subject {}; issuer {}; serial {}; valid {} to {}",
        c.subject,
        c.issuer,
        c.serial,
        c.not_before.get(..10).unwrap_or(&c.not_before),
        c.not_after.get(..10).unwrap_or(&c.not_after)
    )
}
