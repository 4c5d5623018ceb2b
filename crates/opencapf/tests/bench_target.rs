//! `opencapf bench capf --target`: the load tool drives a CAPF server in another process, as it
//! would capfd or a CUCM lab, and reports what the server did: every session counted once, every
//! failure with its reason, the cluster's records agreeing with the report.

use crate::support;

use support::{Lab, Security};

const DEVICES: usize = 20;

fn name(i: usize) -> String {
    format!("SEP00000000B{i:03X}")
}

/// `bench capf --target` against the lab's CAPF with `trust` and `devices`, plus `extra`.
fn bench(lab: &Lab, trust: &std::path::Path, devices: &std::path::Path, extra: &[&str]) -> support::Run {
    let target = lab.addrs().capf.to_string();
    let mut args = vec![
        "--json",
        "bench",
        "capf",
        "--target",
        &target,
        "--trust",
        trust.to_str().unwrap(),
        "--devices",
        devices.to_str().unwrap(),
        "--concurrency",
        "4",
    ];
    args.extend_from_slice(extra);
    lab.run(&args)
}

fn report(run: &support::Run) -> serde_json::Value {
    let all: serde_json::Value =
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("{e}: {}{}", run.stdout, run.stderr));
    assert_eq!(all.as_array().unwrap().len(), 1, "{all}");
    all[0].clone()
}

#[test]
fn bench_target_installs_once_per_device_and_reports_each_failure() {
    let mut lab = Lab::new("cucm.lab");
    lab.serve();
    for i in 0..DEVICES {
        lab.add_device(&name(i), "sip", Security::Encrypted);
    }
    // EC Only: the server asks for the EC P-256 key the tool made before the clock started.
    lab.ok(&["device", "set", "--all", "--operation", "install", "--auth", "null", "--key-order", "ec"]);
    let capf_pem = lab.cert_own("capf");
    let devices = lab.path("devices.txt");
    let mut text = String::from("# the bench phones\n\n");
    for i in 0..DEVICES {
        text.push_str(&format!("{}\n", name(i)));
    }
    std::fs::write(&devices, text).unwrap();

    // First round: every device has its Install pending, every session installs an LSC.
    let run = bench(&lab, &capf_pem, &devices, &["--null-string"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let r = report(&run);
    assert_eq!(r["target"], lab.addrs().capf.to_string());
    assert_eq!(
        (r["sessions"].as_u64(), r["successes"].as_u64(), r["failures"].as_u64()),
        (Some(20), Some(20), Some(0))
    );
    assert!(r["failure_reasons"].as_object().unwrap().is_empty(), "{r}");
    assert_eq!(r["keys_generated_on_the_clock"].as_u64(), Some(0), "{r}");
    assert!(r["sessions_per_second"].as_f64().unwrap() > 0.0);
    let (p50, p99, max) = (r["p50_ms"].as_f64().unwrap(), r["p99_ms"].as_f64().unwrap(), r["max_ms"].as_f64().unwrap());
    assert!(0.0 < p50 && p50 <= p99 && p99 <= max, "{r}");
    for i in 0..DEVICES {
        assert_eq!(lab.capf_status(&name(i)), "Upgrade Success", "{}", name(i));
        assert!(lab.lsc_serial(&name(i)).is_some(), "{} has its LSC recorded", name(i));
    }

    // Second round: the operations were consumed; the server says so, the report counts it.
    let run = bench(&lab, &capf_pem, &devices, &["--null-string"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let r = report(&run);
    assert_eq!((r["successes"].as_u64(), r["failures"].as_u64()), (Some(0), Some(20)));
    let reasons = r["failure_reasons"].as_object().unwrap();
    assert_eq!(reasons.len(), 1, "{r}");
    let (reason, count) = reasons.iter().next().unwrap();
    assert!(reason.contains("no pending operation"), "{reason}");
    assert_eq!(count.as_u64(), Some(20));
    assert!(r["p50_ms"].is_null(), "{r}");
    assert!(run.stderr.contains("20 of 20 sessions failed"), "{}", run.stderr);

    // A trust file that is not the server's certificate: every handshake is refused, and said so.
    let wrong = lab.cert_own("tomcat");
    let run = bench(&lab, &wrong, &devices, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("TLS handshake: the server certificate is not in the phone's trust list"),
        "{}",
        run.stderr
    );
    assert_eq!(report(&run)["failures"].as_u64(), Some(20));

    // A devices file with a bad name: refused before any session, naming the line.
    let bad = lab.path("bad-devices.txt");
    std::fs::write(&bad, format!("{}\n# comment\nSEP-not-a-mac\n", name(0))).unwrap();
    let run = bench(&lab, &capf_pem, &bad, &[]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("line 3: 'SEP-not-a-mac' is not a device name"), "{}", run.stderr);
    assert!(run.stdout.is_empty(), "no report: {}", run.stdout);

    // By Authentication String: a wrong string is the server's failure (reason 7), the right one
    // installs.
    let first = name(0);
    lab.ok(&[
        "device",
        "set",
        &first,
        "--operation",
        "install",
        "--auth",
        "string",
        "--auth-string",
        "20261127",
        "--key-order",
        "ec",
    ]);
    let one = lab.path("one-device.txt");
    std::fs::write(&one, format!("{first}\n")).unwrap();
    let run = bench(&lab, &capf_pem, &one, &["--auth-string", "11112222"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let r = report(&run);
    assert_eq!(r["failures"].as_u64(), Some(1), "{r}");
    assert!(r["failure_reasons"].as_object().unwrap().keys().any(|k| k.contains("reason 7")), "{r}");
    let run = bench(&lab, &capf_pem, &one, &["--auth-string", "20261127"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    assert_eq!(report(&run)["successes"].as_u64(), Some(1));

    // More sessions than devices would reuse consumed operations: refused.
    let run = bench(&lab, &capf_pem, &devices, &["--sessions", "21"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(run.stderr.contains("more than the 20 devices"), "{}", run.stderr);
}

/// `--server-pid`: the server's CPU over the run, read from another process, beside the crypto
/// floor of its CAPF key type; both in the text report and in --json.
#[test]
fn bench_target_reports_the_server_cpu_and_the_crypto_floor() {
    let mut lab = Lab::new("cucm.lab");
    lab.serve();
    const N: usize = 6;
    for i in 0..N {
        lab.add_device(&name(i), "sip", Security::Encrypted);
    }
    lab.ok(&["device", "set", "--all", "--operation", "install", "--auth", "null", "--key-order", "ec"]);
    let capf_pem = lab.cert_own("capf");
    let devices = lab.path("devices.txt");
    let names: Vec<String> = (0..N).map(name).collect();
    std::fs::write(&devices, names.join("\n")).unwrap();
    let pid = lab.server_pid().to_string();

    let run = bench(&lab, &capf_pem, &devices, &["--sessions", "3", "--server-pid", &pid]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let r = report(&run);
    assert_eq!(r["successes"].as_u64(), Some(3), "{r}");
    let cpu = &r["server_cpu"];
    assert_eq!(cpu["pid"].as_u64(), Some(u64::from(lab.server_pid())), "{r}");
    // The cluster's default CAPF key is RSA-2048: the floor is measured for that key type.
    assert_eq!(cpu["floor"]["capf_key"], "rsa2048", "{r}");
    assert_eq!(cpu["floor"]["samples"].as_u64(), Some(20), "{r}");
    let floor = cpu["floor"]["ms_per_session"].as_f64().unwrap();
    let (tls, lsc) =
        (cpu["floor"]["tls_handshake_ms"].as_f64().unwrap(), cpu["floor"]["lsc_signature_ms"].as_f64().unwrap());
    assert!(tls > 0.0 && lsc > 0.0 && (floor - tls - lsc).abs() < 1e-6, "{r}");
    // Three RSA-2048 handshakes and signatures cost the server CPU, more than one clock tick.
    let per_session = cpu["ms_per_session"].as_f64().unwrap();
    assert!(cpu["cpu_seconds"].as_f64().unwrap() > 0.0 && per_session > 0.0, "{r}");
    assert!((cpu["ratio_to_floor"].as_f64().unwrap() - per_session / floor).abs() < 1e-6, "{r}");
    // The load tool's own share of the cores: three client handshakes at least.
    assert!(r["client_cpu_ms_per_session"].as_f64().is_some_and(|ms| ms > 0.0), "{r}");

    // The text report says the same in words (the devices whose operation is still pending).
    let rest = lab.path("rest.txt");
    std::fs::write(&rest, names[3..].join("\n")).unwrap();
    let text = lab.run(&[
        "bench",
        "capf",
        "--target",
        &lab.addrs().capf.to_string(),
        "--trust",
        capf_pem.to_str().unwrap(),
        "--devices",
        rest.to_str().unwrap(),
        "--server-pid",
        &pid,
    ]);
    assert_eq!(text.code, 0, "{}{}", text.stdout, text.stderr);
    assert!(text.stdout.contains("server CPU ") && text.stdout.contains(&format!("(pid {pid},")), "{}", text.stdout);
    assert!(text.stdout.contains("crypto floor") && text.stdout.contains("x the floor"), "{}", text.stdout);
    assert!(text.stdout.contains("load tool CPU "), "{}", text.stdout);

    // A process that is not there: refused before any session, naming the option.
    let gone = bench(&lab, &capf_pem, &devices, &["--server-pid", "4294967295"]);
    assert_eq!(gone.code, 1, "{}{}", gone.stdout, gone.stderr);
    assert!(gone.stderr.contains("--server-pid"), "{}", gone.stderr);
}
