//! `opencapf bench register --mode http --target HOST:PORT`: the registration client's shape (one
//! TLS connection with a client certificate per phone, one request on it) speaking HTTP/1.1 to
//! any mTLS server, so that `scripts/compare-nginx.sh` can put registrations/s beside nginx's
//! mTLS requests/s on the same client. Every connection presents the one `--cert`.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{bail, Context as _};
use opencapf_phone::LoadPhone;
use opencapf_pki::{DeviceName, PrivateKey};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Semaphore;
use tokio::time::timeout;

use super::register::{RegisterBenchArgs, WAIT};
use super::Context;
use crate::output;

/// The most of an answer read: a small static response is expected.
const MAX_ANSWER: usize = 64 * 1024;

#[derive(Serialize)]
struct HttpRun {
    target: String,
    requests: usize,
    concurrency: usize,
    ok: usize,
    failures: usize,
    first_failure: Option<String>,
    seconds: f64,
    requests_per_second: f64,
    p50_ms: f64,
    p95_ms: f64,
    p99_ms: f64,
    max_ms: f64,
}

pub(super) async fn run(ctx: &Context, a: &RegisterBenchArgs) -> anyhow::Result<()> {
    let (Some(target), Some(trust), Some(cert), Some(key)) = (&a.target, &a.trust, &a.cert, &a.key) else {
        bail!("--mode http needs --target, --trust (the server's certificate), --cert and --key (the client's)");
    };
    let addr: SocketAddr = target.parse().with_context(|| format!("--target {target}: not an IP:PORT"))?;
    let trust = crate::cmd::read_certificates(trust)?;
    let cert_der = crate::cmd::read_certificates(cert)?.into_iter().next().context("--cert holds no certificate")?;
    let key = PrivateKey::from_pem(&std::fs::read(key).with_context(|| format!("reading {}", key.display()))?)?;
    // The device name only goes into REGISTERs, which this mode does not send.
    let device: DeviceName = "SEP000000000000".parse()?;
    let phone = Arc::new(LoadPhone::new(&device, "CP-8861", cert_der, key, trust)?);
    let gate = Arc::new(Semaphore::new(a.concurrency));
    let start = Instant::now();
    let mut tasks = Vec::with_capacity(a.phones);
    for _ in 0..a.phones {
        let permit = gate.clone().acquire_owned().await?;
        let phone = phone.clone();
        tasks.push(tokio::spawn(async move {
            let began = Instant::now();
            let r = one_request(&phone, addr).await;
            drop(permit);
            (r, began.elapsed())
        }));
    }
    let (mut latencies, mut failures) = (Vec::with_capacity(a.phones), Vec::new());
    for t in tasks {
        let (r, took) = t.await?;
        latencies.push(took);
        if let Err(e) = r {
            failures.push(e);
        }
    }
    let elapsed = start.elapsed();
    let p = super::percentiles(&mut latencies).unwrap_or_default();
    let ok = a.phones - failures.len();
    let r = HttpRun {
        target: target.clone(),
        requests: a.phones,
        concurrency: a.concurrency,
        ok,
        failures: failures.len(),
        first_failure: failures.first().map(|f| opencapf_model::printable(f).into_owned()),
        seconds: elapsed.as_secs_f64(),
        requests_per_second: ok as f64 / elapsed.as_secs_f64(),
        p50_ms: p.p50,
        p95_ms: p.p95,
        p99_ms: p.p99,
        max_ms: p.max,
    };
    if ctx.json {
        output::json(&r)?;
    } else {
        println!(
            "{} of {} HTTPS requests with a client certificate answered 200 by {}, {} at once: {:.1} requests/s (p50 {:.1} ms, p95 {:.1} ms, p99 {:.1} ms, max {:.1} ms)",
            r.ok, r.requests, r.target, r.concurrency, r.requests_per_second, r.p50_ms, r.p95_ms, r.p99_ms, r.max_ms
        );
    }
    Ok(())
}

/// One connection: handshake, `GET /`, the answer read to its end (the server closes), `200`.
async fn one_request(phone: &LoadPhone, addr: SocketAddr) -> Result<(), String> {
    let mut s = phone.connect(addr, WAIT).await.map_err(|e| e.to_string())?;
    let request = format!("GET / HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    let exchange = async {
        s.write_all(request.as_bytes()).await?;
        s.flush().await?;
        let mut answer = Vec::new();
        (&mut s).take(MAX_ANSWER as u64).read_to_end(&mut answer).await?;
        Ok::<_, std::io::Error>(answer)
    };
    let answer = match timeout(WAIT, exchange).await {
        Err(_) => return Err("no answer in time".into()),
        Ok(Err(e)) => return Err(e.to_string()),
        Ok(Ok(a)) => a,
    };
    let status = answer.split(|b| *b == b'\r').next().unwrap_or_default();
    if status.starts_with(b"HTTP/1.1 200") {
        Ok(())
    } else {
        Err(format!("answered {}", String::from_utf8_lossy(status)))
    }
}
