//! One entry of the report: a TLS connection read from a flow and its TLS state, with the
//! certificates each side presented, their kind, the cluster's verdict, the alerts and the outcome.

use std::collections::HashMap;

use super::names::{alert_name, cipher_name, legacy_reasons, ts_string, version_name};
use super::outcome::{has_gap, outcome};
use super::{AlertReport, CertSummary, ClientCertificate, Service, Side, TlsConnection};
use crate::cluster::{check, StoreVerdict};
use crate::pcap::tls::TlsState;
use crate::pcap::{FlowView, PcapOptions};
use opencapf_pki::{classify, device_named_by};

pub(crate) fn connection(
    index: usize,
    flow: &FlowView,
    tls: &TlsState,
    opts: &PcapOptions,
    verdict_cache: &mut HashMap<String, Vec<StoreVerdict>>,
) -> TlsConnection {
    // The client sent the ClientHello; failing that, the SYN; failing that, the higher port.
    let client_dir =
        tls.client_dir.or(flow.syn_from).unwrap_or_else(
            || {
                if flow.ends[0].port() > flow.ends[1].port() {
                    0
                } else {
                    1
                }
            },
        );
    let server_dir = 1 - client_dir;
    let side = |d: usize| if d == client_dir { Side::Client } else { Side::Server };
    let client = flow.ends[client_dir];
    let server = flow.ends[server_dir];
    let service = Service::of_port(server.port());
    let tls13 = tls.tls13();

    let server_certificates: Vec<CertSummary> =
        tls.certs[server_dir].iter().flatten().map(|d| CertSummary::of(d).0).collect();
    let mut client_certificates = Vec::new();
    let mut kind = None;
    let mut device = None;
    let mut trust = Vec::new();
    if let Some(chain) = &tls.certs[client_dir] {
        for (i, der) in chain.iter().enumerate() {
            let (summary, info) = CertSummary::of(der);
            if i == 0 {
                if let Some(info) = &info {
                    kind = Some(classify(info, opts.cluster.as_ref().map(|c| c.capf_infos())));
                    device = device_named_by(info).map(|d| d.to_string());
                }
                if let Some(cluster) = &opts.cluster {
                    trust = verdict_cache
                        .entry(summary.fingerprint.clone())
                        .or_insert_with(|| check(cluster, chain, opts.at))
                        .clone();
                }
            }
            client_certificates.push(summary);
        }
    }
    let client_certificate = match &tls.certs[client_dir] {
        Some(c) if !c.is_empty() => ClientCertificate::Presented,
        Some(_) => ClientCertificate::Empty,
        None if tls13 && !tls.decrypted => ClientCertificate::HiddenByTls13,
        None if tls.cert_request.is_none() && tls.server_hello && !has_gap(flow) && tls.finished[server_dir] => {
            ClientCertificate::NotRequested
        }
        None if tls.cert_request.is_none() && tls.server_hello && !tls13 && tls.ccs[server_dir] => {
            ClientCertificate::NotRequested
        }
        None => ClientCertificate::NotSeen,
    };
    let client_certificate_requested = if tls13 && !tls.decrypted {
        None
    } else if tls.cert_request.is_some() {
        Some(true)
    } else if tls.server_hello {
        Some(false)
    } else {
        None
    };

    let alerts: Vec<AlertReport> = tls
        .alerts
        .iter()
        .map(|a| {
            let from = side(a.dir);
            let (level, description) = match (a.level, a.description) {
                (Some(2), Some(d)) => ("fatal".to_owned(), Some(alert_name(d))),
                (Some(1), Some(d)) => ("warning".to_owned(), Some(alert_name(d))),
                (Some(l), Some(d)) => (format!("level {l}"), Some(alert_name(d))),
                _ => ("encrypted".to_owned(), None),
            };
            let text = match &description {
                Some(d) => format!("{from} sent {level} {d}"),
                None => format!("{from} sent an encrypted alert (its reason is hidden)"),
            };
            AlertReport { from, level, description, decrypted: a.decrypted, text }
        })
        .collect();

    let issuer = client_certificates.first().map(|c| c.issuer_label());
    let outcome = outcome(flow, tls, client_dir, &alerts, kind, issuer.as_deref(), &side);

    let mut notes = tls.notes.clone();
    if client_certificate == ClientCertificate::HiddenByTls13 {
        notes.push(if tls.keylog_missing {
            "TLS 1.3 encrypts the client certificate, and the key log has no secrets for this connection \
             (its ClientHello random is not in the file)"
                .into()
        } else {
            "TLS 1.3 encrypts the client certificate: to see it, capture again with TLS 1.2 (limit the server or \
             the phone to TLS 1.2 while capturing), or give the TLS key log file with --keylog"
                .into()
        });
    }
    if let Some(why) = flow.cut_short {
        notes.push(format!("reported before it ended: {why}"));
    }
    if tls.hello_retry {
        notes.push("the server asked for another ClientHello (HelloRetryRequest)".into());
    }

    let legacy = legacy_reasons(tls.version, tls.cipher);
    TlsConnection {
        index,
        client: client.to_string(),
        server: server.to_string(),
        server_port: server.port(),
        service,
        service_name: service.describe(server.port()),
        first_seen: ts_string(flow.first_ts),
        first_seen_ts: flow.first_ts.unwrap_or(0.0),
        version: tls.version.map(version_name),
        cipher: tls.cipher.map(cipher_name),
        legacy: !legacy.is_empty(),
        legacy_reasons: legacy,
        server_name: tls.sni.clone(),
        server_certificates,
        client_certificate_requested,
        accepted_issuers: tls.cert_request.clone().unwrap_or_default(),
        client_certificate,
        client_certificates,
        client_certificate_kind: kind,
        device,
        trust,
        alerts,
        outcome,
        decrypted: tls.decrypted,
        notes,
    }
}
