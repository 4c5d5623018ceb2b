//! Recognising a console log line: which known message it is, and its fields.

use super::LogEvent;

pub(super) enum Parsed {
    Event(LogEvent),
    Malformed(&'static str),
    Unknown,
}

pub(super) fn has_open_bracket(s: &str) -> bool {
    s.rfind('[').is_some_and(|o| s[o..].find(']').is_none())
}

/// `3486 ERR 00:01:31.938954 …`: a new log entry.
pub(super) fn starts_like_entry(s: &str) -> bool {
    let mut t = s.split_whitespace();
    matches!((t.next(), t.next()), (Some(n), Some(l)) if n.chars().all(|c| c.is_ascii_digit()) && is_level(l))
}

fn is_level(l: &str) -> bool {
    (2..=5).contains(&l.len()) && l.chars().all(|c| c.is_ascii_uppercase())
}

/// The time and level of `3486 ERR 00:01:31.938954 …`.
pub(super) fn prefix(s: &str) -> (Option<String>, Option<String>) {
    let t: Vec<&str> = s.split_whitespace().take(3).collect();
    if t.len() == 3 && t[0].chars().all(|c| c.is_ascii_digit()) && is_level(t[1]) && t[2].contains(':') {
        return (Some(t[2].to_owned()), Some(t[1].to_owned()));
    }
    (None, None)
}

pub(super) fn is_known(s: &str) -> bool {
    let u = s.to_ascii_uppercase();
    ["PXY_CERT_CIPHER", "PXY_NO_LSC", "STATE_SSL3_ALERT", "SECUREAPP"].iter().any(|k| u.contains(k))
}

/// The contents of `[…]` after `from`; an unclosed last bracket gives the rest of the line.
fn brackets(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = s;
    while let Some(open) = rest.find('[') {
        rest = &rest[open + 1..];
        match rest.find(']') {
            Some(close) => {
                out.push(rest[..close].trim().to_owned());
                rest = &rest[close + 1..];
            }
            None => {
                out.push(rest.trim().to_owned());
                break;
            }
        }
    }
    out
}

fn after<'a>(s: &'a str, key: &str) -> Option<&'a str> {
    let u = s.to_ascii_uppercase();
    u.find(&key.to_ascii_uppercase()).map(|i| &s[i + key.len()..])
}

pub(super) fn parse_line(s: &str) -> Parsed {
    let u = s.to_ascii_uppercase();
    if let Some(rest) = after(s, "PXY_CERT_CIPHER") {
        let b = brackets(rest);
        if b.len() < 3 || b[..3].iter().any(String::is_empty) {
            return Parsed::Malformed("PXY_CERT_CIPHER without [protocol], [TLS version] and cert [LSC|MIC]");
        }
        let cert = b[2].to_ascii_uppercase();
        if cert != "LSC" && cert != "MIC" {
            return Parsed::Malformed("PXY_CERT_CIPHER names a certificate other than LSC or MIC");
        }
        let ciphers =
            b.get(3).map(|c| c.split(':').map(str::to_owned).filter(|c| !c.is_empty()).collect()).unwrap_or_default();
        return Parsed::Event(LogEvent::CertCipher {
            protocol: b[0].to_ascii_uppercase(),
            tls_version: b[1].clone(),
            certificate: cert,
            ciphers,
        });
    }
    if let Some(rest) = after(s, "PXY_NO_LSC") {
        return match brackets(rest).first() {
            Some(p) if !p.is_empty() => Parsed::Event(LogEvent::NoLsc { protocol: p.to_ascii_uppercase() }),
            _ => Parsed::Malformed("PXY_NO_LSC without [protocol]"),
        };
    }
    if let Some(rest) = after(s, "STATE_SSL3_ALERT") {
        let b = brackets(rest);
        if b.len() < 3 || b[..3].iter().any(String::is_empty) {
            return Parsed::Malformed("STATE_SSL3_ALERT without [read|write], [level] and [description]");
        }
        let direction = b[0].to_ascii_lowercase();
        if direction != "read" && direction != "write" {
            return Parsed::Malformed("STATE_SSL3_ALERT direction is neither read nor write");
        }
        return Parsed::Event(LogEvent::Ssl3Alert {
            direction,
            level: b[1].to_ascii_lowercase(),
            description: normalize_alert(&b[2]),
        });
    }
    if u.contains("SSL SESSION SETUP") {
        let len = after(s, "cert len=").and_then(|r| r.split(|c: char| !c.is_ascii_digit()).next()?.parse().ok());
        return match after(s, "type=") {
            Some(t) => {
                let t: String = t.trim().chars().take_while(|c| c.is_ascii_alphanumeric()).collect();
                if t.is_empty() {
                    Parsed::Malformed("SSL session setup without a certificate type")
                } else {
                    Parsed::Event(LogEvent::SessionSetup { cert_len: len, certificate: t.to_ascii_uppercase() })
                }
            }
            None => Parsed::Malformed("SSL session setup without a certificate type"),
        };
    }
    if u.contains("CERTIFICATE SUBJECT NAME") || u.contains("CERTIFICATE ISSUER NAME") {
        let Some(eq) = s.find('=') else { return Parsed::Malformed("certificate name line without '='") };
        let name = s[eq + 1..].trim().to_owned();
        if name.is_empty() {
            return Parsed::Malformed("certificate name line with an empty name");
        }
        if u.contains("SUBJECT NAME") {
            return Parsed::Event(LogEvent::CertificateSubject { name });
        }
        let kind = issuer_kind(&name).to_owned();
        return Parsed::Event(LogEvent::CertificateIssuer { name, kind });
    }
    if u.contains("NO MATCH FOUND IN TRUST LIST") {
        return Parsed::Event(LogEvent::TrustListNoMatch);
    }
    if u.contains("TL FILE VERIFIED SUCCESSFULLY") {
        return Parsed::Event(LogEvent::TrustListVerified);
    }
    if u.contains("HASHES MATCH") {
        return Parsed::Event(LogEvent::HashesMatch);
    }
    if u.contains("ADDED CERT TO TVS CACHE") {
        return Parsed::Event(LogEvent::TvsCached);
    }
    if u.contains("HANDSHAKE FAILED") {
        let code = after(s, "code").and_then(|r| {
            r.trim_start_matches([' ', '=', ':']).split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
        });
        return Parsed::Event(LogEvent::HandshakeFailed { code });
    }
    if let Some(rest) = after(s, "Reason:") {
        if u.contains("AUTHENTICATED FAIL") || u.contains(".SGN") {
            let reason = rest.trim().split(|c: char| !c.is_ascii_digit()).next().and_then(|n| n.parse().ok());
            let file = s
                .split(|c: char| c.is_whitespace() || c == ',')
                .find(|w| w.to_ascii_lowercase().ends_with(".sgn"))
                .map(str::to_owned);
            return match reason {
                Some(reason) => Parsed::Event(LogEvent::ConfigRejected { file, reason }),
                None => Parsed::Malformed("authentication failure without a reason number"),
            };
        }
    }
    if u.contains("DGETFILE") && u.contains(".TLV") {
        let file = s
            .split(|c: char| c.is_whitespace() || c == '=' || c == ',')
            .find(|w| w.to_ascii_lowercase().ends_with(".tlv"))
            .unwrap_or("")
            .to_owned();
        return Parsed::Event(LogEvent::TrustListDownload { file });
    }
    Parsed::Unknown
}

/// "unknown CA", "CA inconnue", "unknown_ca" → "unknown CA".
fn normalize_alert(d: &str) -> String {
    let l = d.to_ascii_lowercase().replace(['_', '-'], " ");
    let l = l.split_whitespace().collect::<Vec<_>>().join(" ");
    if l == "unknown ca" || l == "ca inconnue" || l == "autorité de certification inconnue" {
        "unknown CA".into()
    } else {
        d.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

fn issuer_kind(name: &str) -> &'static str {
    let u = name.to_ascii_uppercase();
    if u.contains("CN=CAPF-") {
        "LSC"
    } else if opencapf_pki::MIC_ISSUERS.iter().any(|m| u.contains(&format!("CN={}", m.to_ascii_uppercase()))) {
        "MIC"
    } else {
        "other"
    }
}
