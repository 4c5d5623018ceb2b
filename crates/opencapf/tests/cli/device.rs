use crate::cli::common::Cluster;

#[test]
fn add_show_remove_and_refusals() {
    let c = Cluster::init(&[]);
    let out = c.ok(&[
        "device",
        "add",
        "sep2c3124c9f8e1",
        "--model",
        "CP-8865",
        "--protocol",
        "sccp",
        "--security",
        "encrypted",
    ]);
    assert!(out.contains("SEP2C3124C9F8E1"), "names are kept uppercase: {out}");
    let d = c.json(&["device", "show", "SEP2C3124C9F8E1"]);
    assert_eq!(d["model"], "CP-8865");
    assert_eq!(d["protocol"], "SCCP");
    assert_eq!(d["security_mode"], "Encrypted");
    assert_eq!(d["capf"]["operation"], "No Pending Operation");
    assert_eq!(d["capf"]["status"], "None");
    assert_eq!(d["lsc_state"], "none");

    assert!(c.fail(&["device", "add", "SEP2C3124C9F8E1"]).contains("already exists"));
    assert!(c.fail(&["device", "add", "SEP2C3124C9F8"]).contains("not a device name"));
    assert!(c.fail(&["device", "add", "CSF2C3124C9F8E1X"]).contains("not a device name"));
    assert!(c.usage(&["device", "add", "SEP000000000001", "--protocol", "h323"]).contains("sip, sccp"));
    assert!(c.usage(&["device", "add", "SEP000000000001", "--security", "mixed"]).contains("non-secure"));
    assert!(c.fail(&["device", "show", "SEP000000000009"]).contains("no device"));

    c.ok(&["device", "remove", "SEP2C3124C9F8E1"]);
    assert!(c.fail(&["device", "remove", "SEP2C3124C9F8E1"]).contains("no device"));
}

#[test]
fn csv_import_is_all_or_nothing() {
    let c = Cluster::init(&[]);
    let bad = c.path("bad.csv");
    std::fs::write(
        &bad,
        "name,model,protocol,security,description\nSEP000000000001,CP-8861,sip,authenticated,lobby\nSEP12,CP-8861,sip,non-secure,\nSEP000000000003,CP-7841,sccp,fancy,\n",
    )
    .unwrap();
    let err = c.fail(&["device", "import", bad.to_str().unwrap()]);
    assert!(err.contains("2 problem(s)"), "{err}");
    assert!(err.contains("line 3") && err.contains("line 4"), "{err}");
    assert!(err.contains("nothing imported"), "{err}");
    assert_eq!(c.json(&["device", "list"]).as_array().unwrap().len(), 0);

    let good = c.path("good.csv");
    let mut csv = String::from("name,model,protocol,security,description\n");
    for i in 0..150 {
        csv.push_str(&format!("SEP0000000{i:05},CP-8861,sip,authenticated,desk {i}\n"));
    }
    std::fs::write(&good, &csv).unwrap();
    assert!(c.ok(&["device", "import", good.to_str().unwrap()]).contains("Imported 150 devices"));
    assert_eq!(c.json(&["device", "list"]).as_array().unwrap().len(), 150);
    // Again: refused (duplicates), unless they are skipped.
    assert!(c.fail(&["device", "import", good.to_str().unwrap()]).contains("already exists"));
    assert!(c.ok(&["device", "import", good.to_str().unwrap(), "--skip-existing"]).contains("150 already present"));
    let d = c.json(&["device", "show", "SEP000000000007"]);
    assert_eq!(d["security_mode"], "Authenticated");
    assert_eq!(d["description"], "desk 7");
}

#[test]
fn set_validates_the_capf_information_block() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    let d = "SEP000000000001";
    assert!(c
        .fail(&["device", "set", d, "--operation", "install", "--auth", "string", "--auth-string", "123"])
        .contains("4 to 10 digits"));
    assert!(c
        .fail(&["device", "set", d, "--operation", "install", "--auth", "string", "--auth-string", "12345678901"])
        .contains("4 to 10 digits"));
    assert!(c
        .fail(&["device", "set", d, "--operation", "install", "--auth", "string", "--auth-string", "12ab"])
        .contains("4 to 10 digits"));
    assert!(c
        .fail(&["device", "set", d, "--operation", "install", "--auth", "string"])
        .contains("--generate-auth-string"));
    assert!(c.fail(&["device", "set", d, "--auth", "null", "--auth-string", "1234"]).contains("go with --auth string"));
    assert!(c.usage(&["device", "set", d, "--operation", "upgrade"]).contains("install, delete, troubleshoot, none"));
    assert!(c.fail(&["device", "set", d, "--rsa-bits", "512"]).contains("too weak"));
    assert!(c.fail(&["device", "set", d, "--ec-bits", "255"]).contains("256, 384 or 521"));
    assert!(c
        .fail(&["device", "set", d, "--operation", "install", "--completes-by", "2020-01-01"])
        .contains("in the past"));
    assert!(c
        .fail(&["device", "set", d, "--operation", "install", "--completes-by", "tomorrow"])
        .contains("not a date"));
    assert!(c.fail(&["device", "set", "SEP000000000002", "--operation", "install"]).contains("no device"));
    // Nothing of the refused changes was kept.
    let shown = c.json(&["device", "show", d]);
    assert_eq!(shown["capf"]["operation"], "No Pending Operation");
    assert_eq!(shown["capf"]["status"], "None");

    let out = c.cmd().args(["device", "set", "--all", "SEP000000000001"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2), "names and --all exclude each other");
}

#[test]
fn set_makes_the_operation_pending_with_a_deadline_and_history() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    let res = c.json(&[
        "device",
        "set",
        "SEP000000000001",
        "--operation",
        "install",
        "--auth",
        "string",
        "--auth-string",
        "4711",
        "--key-order",
        "ec-rsa",
        "--ec-bits",
        "384",
        "--expires-in-days",
        "3",
    ]);
    assert_eq!(res[0]["status"], "Operation Pending");
    let d = c.json(&["device", "show", "SEP000000000001"]);
    assert_eq!(d["capf"]["operation"], "Install/Upgrade");
    assert_eq!(d["capf"]["auth_mode"], "By Authentication String");
    assert_eq!(d["capf"]["key_order"], "EC Preferred, RSA Backup");
    assert_eq!(d["capf"]["ec_bits"], 384);
    assert_eq!(d["capf"]["auth_string_set"], true);
    assert!(d.get("auth_string").is_none(), "the string is not shown unless asked");
    let deadline = time::OffsetDateTime::parse(
        d["capf"]["completes_by"].as_str().unwrap(),
        &time::format_description::well_known::Rfc3339,
    )
    .unwrap();
    let days = (deadline - time::OffsetDateTime::now_utc()).whole_hours();
    assert!((71..=72).contains(&days), "{days} hours");
    assert_eq!(d["history"][0]["status"], "Operation Pending");
    // Issue 9: kept only as a keyed hash, the string cannot be shown again.
    let refused = c.fail(&["device", "show", "SEP000000000001", "--reveal-auth-string"]);
    assert!(refused.contains("keyed hash"), "{refused}");
    // The audit says a string was set, never which.
    let audit = c.json(&["audit", "--limit", "1"]);
    assert!(audit[0]["detail"].as_str().unwrap().contains("authentication string set"));
    assert!(!audit[0]["detail"].as_str().unwrap().contains("4711"));

    // Cancelling: back to None.
    c.ok(&["device", "set", "SEP000000000001", "--operation", "none"]);
    let d = c.json(&["device", "show", "SEP000000000001"]);
    assert_eq!(d["capf"]["status"], "None");
    assert!(d["capf"]["completes_by"].is_null());
}

#[test]
fn generated_authentication_strings_differ_per_device() {
    let c = Cluster::init(&[]);
    for i in 1..=5 {
        c.ok(&["device", "add", &format!("SEP00000000000{i}")]);
    }
    let res =
        c.json(&["device", "set", "--all", "--operation", "install", "--auth", "string", "--generate-auth-string"]);
    let strings: std::collections::HashSet<String> =
        res.as_array().unwrap().iter().map(|r| r["auth_string"].as_str().unwrap().to_owned()).collect();
    assert_eq!(res.as_array().unwrap().len(), 5);
    assert!(strings.len() >= 4, "unique per device (8 random digits): {strings:?}");
    for s in &strings {
        assert!(s.len() == 8 && s.chars().all(|ch| ch.is_ascii_digit()), "{s}");
    }
    let status = c.json(&["status"]);
    assert_eq!(status["pending_operations"], 5);
}

#[test]
fn list_filters_by_lsc_state_issuer_and_expiry() {
    let c = Cluster::init(&[]);
    let other = Cluster::init(&[]);
    for d in ["SEP000000000001", "SEP000000000002", "SEP000000000003", "SEP000000000004"] {
        c.ok(&["device", "add", d]);
        other.ok(&["device", "add", d]);
    }
    let ours = c.issue_lsc("SEP000000000001", 365);
    c.record("SEP000000000001", &ours);
    let short = c.issue_lsc("SEP000000000002", 20);
    c.record("SEP000000000002", &short);
    let foreign = other.issue_lsc("SEP000000000003", 365);
    c.record("SEP000000000003", &foreign);
    let names = |args: &[&str]| -> Vec<String> {
        let mut all = vec!["device", "list"];
        all.extend_from_slice(args);
        c.json(&all).as_array().unwrap().iter().map(|d| d["name"].as_str().unwrap().to_owned()).collect()
    };
    assert_eq!(names(&["--lsc", "valid"]), vec!["SEP000000000001", "SEP000000000002"]);
    assert_eq!(names(&["--lsc", "foreign"]), vec!["SEP000000000003"]);
    assert_eq!(names(&["--lsc", "none"]), vec!["SEP000000000004"]);
    assert!(names(&["--lsc", "expired"]).is_empty());
    let other_cn = other.json(&["status"])["capf"]["common_name"].as_str().unwrap().to_owned();
    assert_eq!(names(&["--lsc-issuer", &other_cn]), vec!["SEP000000000003"]);
    let in_30_days = (time::OffsetDateTime::now_utc() + time::Duration::days(30)).date().to_string();
    assert_eq!(names(&["--lsc-expires-before", &in_30_days]), vec!["SEP000000000002"]);
    assert!(c.usage(&["device", "list", "--lsc", "stale"]).contains("none, valid, expired, foreign"));
    let human = c.ok(&["device", "list", "--lsc", "foreign"]);
    assert!(human.contains(&other_cn), "{human}");
}

#[test]
fn an_lsc_past_its_end_is_listed_as_expired() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    // An old LSC from this CAPF key, made the way CAPF would have made it long ago.
    let capf_key_file = std::fs::read_dir(c.data().join("keys"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.file_name().unwrap().to_str().unwrap().starts_with("capf-"))
        .unwrap();
    let capf_der: Vec<u8> = c.store(async |s| s.require_certificate(opencapf_model::Service::Capf).await.unwrap().der);
    let key = rcgen::KeyPair::from_pem(&std::fs::read_to_string(capf_key_file).unwrap()).unwrap();
    let issuer = rcgen::Issuer::from_ca_cert_der(&capf_der.as_slice().into(), &key).unwrap();
    let mut p = rcgen::CertificateParams::default();
    p.distinguished_name = rcgen::DistinguishedName::new();
    p.distinguished_name.push(rcgen::DnType::CommonName, "SEP000000000001");
    p.not_before = time::OffsetDateTime::now_utc() - time::Duration::days(400);
    p.not_after = time::OffsetDateTime::now_utc() - time::Duration::days(35);
    p.use_authority_key_identifier_extension = true;
    let phone = rcgen::KeyPair::generate().unwrap();
    let old = p.signed_by(&phone, &issuer).unwrap();
    let f = c.path("old-lsc.pem");
    std::fs::write(&f, old.pem()).unwrap();
    c.record("SEP000000000001", &f);
    let list = c.json(&["device", "list", "--lsc", "expired"]);
    assert_eq!(list[0]["name"], "SEP000000000001");
    assert_eq!(c.json(&["status"])["devices_by_lsc"]["expired"], 1);
}

#[test]
fn record_cert_binds_the_certificate_to_the_device() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    c.ok(&["device", "add", "SEP000000000002"]);
    let lsc = c.issue_lsc("SEP000000000001", 365);
    let err = c.fail(&["device", "record-cert", "SEP000000000002", lsc.to_str().unwrap()]);
    assert!(err.contains("does not belong to SEP000000000002"), "{err}");
    c.ok(&["mfg", "init"]);
    let dir = c.path("phone");
    c.ok(&["mfg", "issue", "SEP000000000002", "--out", dir.to_str().unwrap()]);
    let out = c.ok(&["device", "record-cert", "SEP000000000002", dir.join("mic.pem").to_str().unwrap()]);
    assert!(out.contains("MIC"), "{out}");
    let d = c.json(&["device", "show", "SEP000000000002"]);
    assert!(d["mic"]["subject"].as_str().unwrap().contains("CN=CP-8861-SEP000000000002"));
    assert_eq!(d["lsc_state"], "none");
}

#[test]
fn update_changes_the_profile_and_keeps_the_certificates() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001"]);
    let lsc = c.issue_lsc("SEP000000000001", 365);
    c.record("SEP000000000001", &lsc);
    c.ok(&["device", "update", "SEP000000000001", "--security", "encrypted", "--protocol", "sccp"]);
    let d = c.json(&["device", "show", "SEP000000000001"]);
    assert_eq!(d["security_mode"], "Encrypted");
    assert_eq!(d["protocol"], "SCCP");
    assert_eq!(d["model"], "CP-8861", "unchanged fields stay");
    assert_eq!(d["lsc_state"], "valid", "the LSC stays");
    assert!(c.usage(&["device", "update", "SEP000000000001", "--security", "mixed"]).contains("non-secure"));
    assert!(c.fail(&["device", "update", "SEP000000000009", "--security", "encrypted"]).contains("no device"));
    assert_eq!(
        c.json(&["device", "show", "SEP000000000001"])["security_mode"],
        "Encrypted",
        "a refusal changes nothing"
    );
    assert_eq!(c.json(&["audit", "--limit", "1"])[0]["action"], "device.update");
}

#[test]
fn a_factory_reset_erases_lsc_trust_and_config_but_keeps_the_mic() {
    let c = Cluster::init(&[]);
    c.ok(&["mfg", "init"]);
    let dir = c.path("phone");
    let d = dir.to_str().unwrap();
    let out = c.ok(&["phone", "init", d, "--name", "SEP000000000001", "--mic-key-type", "ec256"]);
    for role in ["SAST", "CCM+TFTP", "CAPF", "TVS"] {
        assert!(out.contains(&format!("trusts (ITL): {role} ")), "{out}");
    }
    let mic = std::fs::read(dir.join("mic.pem")).unwrap();
    // Made with a cluster, the phone holds the cluster's ITL, exactly as `serve` sends it.
    let itl = c.path("ITLFile.tlv");
    c.ok(&["trust", "export-itl", "--out", itl.to_str().unwrap()]);
    assert_eq!(std::fs::read(dir.join("itl.tlv")).unwrap(), std::fs::read(&itl).unwrap());
    assert!(!dir.join("trust-list.pem").exists(), "no trust list beside the ITL");
    std::fs::write(dir.join("config.xml"), "<device><deviceProtocol>SIP</deviceProtocol></device>").unwrap();
    let shown = c.json(&["phone", "show", d]);
    assert_eq!(shown["config"]["protocol"], "SIP", "{shown}");
    let out = c.ok(&["phone", "factory-reset", d]);
    assert!(out.contains("the MIC stays"), "{out}");
    for gone in ["itl.tlv", "config.xml", "tvs-cache.json", "lsc.pem", "lsc.key"] {
        assert!(!dir.join(gone).exists(), "{gone}");
    }
    assert_eq!(std::fs::read(dir.join("mic.pem")).unwrap(), mic, "the MIC is never erased");
    let shown = c.json(&["phone", "show", d]);
    assert_eq!(shown["itl"], serde_json::json!([]));
    assert_eq!(shown["config"], serde_json::Value::Null);
    assert!(std::fs::read_to_string(dir.join("console.log")).unwrap().contains("Factory reset"));
    // The command that handed phones a trust list is gone: phones get their ITL by booting.
    let gone = c.cmd().args(["phone", "update-trust-list", d]).output().unwrap();
    assert_eq!(gone.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&gone.stderr).contains("unrecognized subcommand"));
    // A phone made in factory state has no trust list; an unreadable ITL is refused.
    let fresh = c.path("fresh");
    c.ok(&["phone", "init", fresh.to_str().unwrap(), "--name", "SEP000000000002", "--factory"]);
    assert!(!fresh.join("itl.tlv").exists());
    let junk = c.path("junk.tlv");
    std::fs::write(&junk, "nothing").unwrap();
    let bad = c.path("bad");
    let err =
        c.fail(&["phone", "init", bad.to_str().unwrap(), "--name", "SEP000000000003", "--itl", junk.to_str().unwrap()]);
    assert!(err.contains("the ITL cannot be read"), "{err}");
    assert!(!bad.exists());
}

#[test]
fn a_cp_7965_speaks_tls_1_0_and_a_cp_8861_does_not() {
    let c = Cluster::init(&[]);
    c.ok(&["mfg", "init"]);
    let old = c.path("old");
    let out = c.ok(&[
        "phone",
        "init",
        old.to_str().unwrap(),
        "--name",
        "SEP000000007965",
        "--model",
        "CP-7965",
        "--mic-key-type",
        "rsa1024",
    ]);
    assert!(out.contains("TLS: 1.0 only, AES256-SHA:AES128-SHA"), "{out}");
    let shown = c.json(&["phone", "show", old.to_str().unwrap()]);
    assert_eq!(shown["tls_family"], "cisco79xx", "{shown}");
    assert_eq!(shown["mic"]["key"], "RSA 1024", "{shown}");
    // Its MIC comes from the lab's older, SHA-1 CA, as a real 79xx's from Cisco Manufacturing CA.
    assert!(shown["mic"].to_string().contains("OpenCAPF Lab Manufacturing CA (SHA-1)"), "{shown}");
    assert!(c.ok(&["phone", "show", old.to_str().unwrap()]).contains("1.0 (OpenSSL, AES256-SHA:AES128-SHA)"));
    let new = c.path("new");
    let out = c.ok(&["phone", "init", new.to_str().unwrap(), "--name", "SEP000000008861"]);
    assert!(!out.contains("TLS: 1.0"), "{out}");
    let shown = c.json(&["phone", "show", new.to_str().unwrap()]);
    assert_eq!(shown["tls_family"], "modern");
    assert!(!shown["mic"].to_string().contains("(SHA-1)"), "{shown}");
}

#[test]
fn lines_are_added_removed_imported_and_shown_in_button_order() {
    let c = Cluster::init(&[]);
    let out = c.ok(&["device", "add", "SEPC80084AA8743", "--model", "CP-7821", "--line", "2222", "--line", "2223"]);
    assert!(out.contains("lines 2222 2223"), "{out}");
    let d = c.json(&["device", "show", "SEPC80084AA8743"]);
    assert_eq!(d["lines"], serde_json::json!(["2222", "2223"]));
    assert_eq!(d["line_registrations"][0]["button"], 1);
    assert_eq!(d["line_registrations"][1]["dn"], "2223");
    assert_eq!(d["line_registrations"][1]["registration"], "none");

    let added = c.json(&["device", "line", "add", "SEPC80084AA8743", "+33123456789"]);
    assert_eq!(added["lines"], serde_json::json!(["2222", "2223", "+33123456789"]));
    let out = c.ok(&["device", "line", "remove", "SEPC80084AA8743", "2222"]);
    assert!(out.contains("lines now: 2223, +33123456789"), "{out}");
    let text = c.ok(&["device", "show", "SEPC80084AA8743"]);
    assert!(text.contains("2223, +33123456789"), "{text}");
    assert!(text.contains("REGISTRATION"), "{text}");
    let listed = c.ok(&["device", "list"]);
    assert!(listed.contains("LINE 1") && listed.contains("2223"), "{listed}");

    assert!(c.fail(&["device", "line", "add", "SEPC80084AA8743", "2223"]).contains("already has line 2223"));
    assert!(c.fail(&["device", "line", "remove", "SEPC80084AA8743", "9999"]).contains("has no line 9999"));
    assert!(c.fail(&["device", "line", "add", "SEPC80084AA8743", "22a2"]).contains("not a directory number"));
    assert!(c.fail(&["device", "line", "add", "SEPC80084AA8743", "1 2"]).contains("one directory number"));
    assert!(c.fail(&["device", "add", "SEP000000000001", "--line", "5", "--line", "5"]).contains("given twice"));
    let audit = c.ok(&["audit"]);
    assert!(audit.contains("device.line.add") && audit.contains("device.line.remove"), "{audit}");

    let csv = c.path("lines.csv");
    std::fs::write(&csv, "name,model,lines\nSEP000000000011,CP-8861,3001 3002\nSEP000000000012,CP-8861,\n").unwrap();
    c.ok(&["device", "import", csv.to_str().unwrap()]);
    assert_eq!(c.json(&["device", "show", "SEP000000000011"])["lines"], serde_json::json!(["3001", "3002"]));
    assert_eq!(c.json(&["device", "show", "SEP000000000012"])["lines"], serde_json::json!([]));
    let bad = c.path("bad-lines.csv");
    std::fs::write(&bad, "name,lines\nSEP000000000013,30x1\n").unwrap();
    let err = c.fail(&["device", "import", bad.to_str().unwrap()]);
    assert!(err.contains("line 2") && err.contains("not a directory number"), "{err}");
}

#[test]
fn reset_needs_a_running_server() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000021"]);
    assert!(c.fail(&["device", "reset", "SEP000000000021"]).contains("no `opencapf serve` is running"));
    assert!(c.fail(&["device", "reset", "SEP000000000022"]).contains("no device"));
}

/// The lines of a CSV report, each split into its fields (RFC 4180).
fn csv_rows(out: &str) -> Vec<Vec<String>> {
    assert!(out.ends_with("\r\n"), "CRLF line ends: {out:?}");
    let mut r = csv::ReaderBuilder::new().has_headers(false).from_reader(out.as_bytes());
    r.records().map(|rec| rec.unwrap().iter().map(str::to_owned).collect()).collect()
}

#[test]
fn device_list_and_doctor_write_the_capf_report_as_csv() {
    use opencapf_model::{NewRegistration, Protocol, RegistrationResult, Transport};
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001", "--model", "CP-8861, \"lab\"", "--security", "encrypted"]);
    c.ok(&["device", "add", "SEP000000000002"]);
    let lsc = c.issue_lsc("SEP000000000001", 365);
    c.record("SEP000000000001", &lsc);
    c.store(async |s| {
        let bare = NewRegistration::bare(
            "10.0.0.1:5061".into(),
            Protocol::Sip,
            Transport::Tls,
            RegistrationResult::Registered,
            String::new(),
        );
        let event = NewRegistration { device: Some("SEP000000000001".into()), ..bare };
        s.record_registration(&event, "test", "registration", "SEP000000000001", "").await.unwrap();
    });
    let shown = c.json(&["device", "show", "SEP000000000001"]);

    let rows = csv_rows(&c.ok(&["device", "list", "--csv"]));
    assert_eq!(
        rows[0],
        ["name", "model", "lsc_issuer", "lsc_serial", "lsc_expires", "status", "last_registration"],
        "{rows:?}"
    );
    let one = &rows[1];
    assert_eq!(one[0], "SEP000000000001");
    assert_eq!(one[1], "CP-8861, \"lab\"", "quoted, quotes doubled");
    assert_eq!(one[2], shown["lsc"]["issuer_cn"].as_str().unwrap());
    assert_eq!(one[3], shown["lsc"]["serial"].as_str().unwrap());
    assert_eq!(one[4], shown["lsc"]["not_after"].as_str().unwrap());
    assert!(one[6].ends_with(" registered"), "{one:?}");
    assert_eq!(rows[2][0], "SEP000000000002");
    assert_eq!(rows[2][2..5], ["", "", ""], "no LSC: empty fields");
    assert_eq!(rows.len(), 3);
    // Filters still apply.
    assert_eq!(csv_rows(&c.ok(&["device", "list", "--lsc", "none", "--csv"])).len(), 2);

    let out = c.cmd().args(["doctor", "--csv"]).output().unwrap();
    let rows = csv_rows(&String::from_utf8(out.stdout).unwrap());
    assert_eq!(rows[0].last().unwrap(), "findings");
    assert_eq!(rows.len(), 3);
    assert!(c.fail(&["--json", "device", "list", "--csv"]).contains("pick one"));
}

#[test]
fn import_refuses_unknown_columns_and_reads_a_cucm_bat_export() {
    let c = Cluster::init(&[]);
    let typo = c.path("typo.csv");
    std::fs::write(&typo, "name,model,securty\nSEP000000000001,CP-8861,encrypted\n").unwrap();
    let err = c.fail(&["device", "import", typo.to_str().unwrap()]);
    assert!(err.contains("line 1, column 3") && err.contains("'securty'"), "{err}");
    assert_eq!(c.json(&["device", "list"]).as_array().unwrap().len(), 0);

    let bat = c.path("bat.csv");
    std::fs::write(
        &bat,
        "DEVICE NAME,DESCRIPTION,DEVICE POOL,DEVICE TYPE,DEVICE PROTOCOL,DEVICE SECURITY PROFILE,DIRECTORY NUMBER 2,DIRECTORY NUMBER 1\n\
         SEP000000000001,lobby,Default,Cisco 8861,SIP,Cisco 8861 - Standard SIP Encrypted Profile,2001,1001\n\
         SEP000000000002,desk,Default,Cisco 7841,SCCP,Cisco 7841 - Standard SCCP Non-Secure Profile,,1002\n",
    )
    .unwrap();
    c.ok(&["device", "import", bat.to_str().unwrap()]);
    let d = c.json(&["device", "show", "SEP000000000001"]);
    assert_eq!(d["model"], "CP-8861");
    assert_eq!(d["security_mode"], "Encrypted");
    assert_eq!(d["description"], "lobby");
    assert_eq!(d["lines"], serde_json::json!(["1001", "2001"]));
    let d = c.json(&["device", "show", "SEP000000000002"]);
    assert_eq!((d["protocol"].as_str(), d["security_mode"].as_str()), (Some("SCCP"), Some("Non Secure")));

    let odd = c.path("odd.csv");
    std::fs::write(&odd, "name,model\nSEP000000000003,CP-8816\n").unwrap();
    let out = c.cmd().args(["device", "import", odd.to_str().unwrap()]).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("unknown model(s) CP-8816") && stderr.contains("CP-8861"), "{stderr}");
}

#[test]
fn replacing_pending_operations_needs_replace() {
    let c = Cluster::init(&[]);
    for i in 1..=3 {
        c.ok(&["device", "add", &format!("SEP00000000000{i}")]);
    }
    c.ok(&["device", "set", "SEP000000000001", "SEP000000000002", "--operation", "install", "--auth", "null"]);
    let err = c.fail(&["device", "set", "--all", "--operation", "delete", "--auth", "null"]);
    assert!(err.contains("pending operation of 2 device(s)") && err.contains("--replace"), "{err}");
    assert_eq!(c.json(&["device", "show", "SEP000000000003"])["capf"]["operation"], "No Pending Operation");
    assert_eq!(c.json(&["device", "show", "SEP000000000001"])["capf"]["operation"], "Install/Upgrade");

    let out = c.cmd().args(["device", "set", "--all", "--operation", "delete", "--auth", "null", "--replace"]).output();
    let out = out.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success() && stderr.contains("Replaced the pending operation of 2 device(s)"), "{stderr}");
    assert_eq!(c.json(&["device", "show", "SEP000000000001"])["capf"]["operation"], "Delete");
    // Cancelling is not replacing.
    c.ok(&["device", "set", "--all", "--operation", "none"]);
}

#[test]
fn jabber_and_analog_adaptor_names_are_device_names() {
    let c = Cluster::init(&[]);
    for name in ["CSFJSMITH", "BOTJSMITH", "tctjsmith", "TABJSMITH", "ATA2C3124C9F8E1", "AN2C3124C9F8E1"] {
        assert!(c.ok(&["device", "add", name]).contains(&name.to_ascii_uppercase()), "{name}");
    }
    assert_eq!(c.json(&["device", "show", "tctjsmith"])["name"], "TCTJSMITH");
    // SEP keeps its strict form; the other prefixes have theirs.
    for bad in ["SEPJSMITH", "CSFJ.SMITH", "CSFJSMITH1234567", "ATA2C3124C9F8", "AN2C3124C9F8EZ"] {
        let err = c.fail(&["device", "add", bad]);
        assert!(err.contains("not a device name") && err.contains("CSF"), "{err}");
    }
}

#[test]
fn a_wrong_enum_value_exits_2_with_the_possible_values() {
    let c = Cluster::init(&[]);
    c.ok(&["device", "add", "SEP000000000001", "--protocol", "SCCP", "--security", "Encrypted"]);
    for (args, values) in [
        (vec!["device", "add", "SEP000000000002", "--security", "secure"], "non-secure, authenticated, encrypted"),
        (vec!["device", "set", "SEP000000000001", "--auth", "password"], "string, null, lsc, mic"),
        (vec!["device", "set", "SEP000000000001", "--key-order", "dsa"], "rsa, ec, ec-rsa"),
        (vec!["device", "record-cert", "SEP000000000001", "x.pem", "--as", "ca"], "lsc, mic"),
        (vec!["capf", "regenerate", "--capf-key", "dsa1024"], "rsa2048"),
        (vec!["cert", "inspect", "x.pem", "--store", "tomcat"], "CallManager-trust, CAPF-trust"),
        (vec!["phone", "register", "phone-dir", "--protocol", "h323"], "sip, sccp"),
        (vec!["phone", "register", "phone-dir", "--tls", "1.4"], "1.0, 1.2, 1.3, both"),
        // TLS 1.1 was never a phone's: 79xx speak 1.0, 78xx/88xx 1.2 and up (phone-boot.md §5).
        (vec!["phone", "capf", "phone-dir", "--tls", "1.1"], "1.0, 1.2, 1.3, both"),
        (vec!["phone", "init", "phone-dir", "--name", "SEP000000000001", "--mic-key-type", "dsa"], "ec256"),
        (vec!["bench", "capf", "--phone-key", "dsa"], "rsa2048"),
    ] {
        let err = c.usage(&args);
        assert!(err.contains(values), "{args:?}: {err}");
        for rust_name in ["SecurityMode", "AuthMode", "KeyOrder", "CertKind", "KeyAlgorithm", "TrustStore"] {
            assert!(!err.contains(rust_name), "{args:?}: {err}");
        }
    }
}
