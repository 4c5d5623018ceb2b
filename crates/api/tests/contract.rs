//! Issue 14: the REST API keeps the contract its OpenAPI document states. Every operation in
//! `/api/openapi.json` is called with a fixture; its status must be documented and its JSON
//! body must validate against the documented schema. Without credentials every operation is a
//! 401 problem; with the help desk's token every admin-only one is a 403.

use crate::support;

use serde_json::{json, Value};
use support::{Admin, Answer, ADMIN_PASSWORD, PHONES};

/// One documented operation.
#[derive(Debug, Clone)]
struct Operation {
    method: String,
    path: String,
    doc: Value,
}

fn operations(doc: &Value) -> Vec<Operation> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "delete", "patch"].contains(&method.as_str()) {
                ops.push(Operation { method: method.to_uppercase(), path: path.clone(), doc: op.clone() });
            }
        }
    }
    // Reads first, removals last: a removal's target was made by a fixture before.
    let rank = |m: &str| match m {
        "GET" => 0,
        "DELETE" => 2,
        _ => 1,
    };
    ops.sort_by_key(|o| (rank(&o.method), o.path.clone()));
    ops
}

/// A new CA certificate, PEM, for `POST /trust/{store}`.
fn new_ca_pem() -> Vec<u8> {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    params.distinguished_name.push(rcgen::DnType::CommonName, "Contract Test CA");
    params.self_signed(&key).unwrap().pem().into_bytes()
}

/// The URL and body each operation is called with, and the status it must answer (2xx when
/// `None`). A new operation without a fixture fails the test: add one here.
/// A request body: its content type and bytes.
type Body = Option<(&'static str, Vec<u8>)>;

fn fixture(op: &Operation, lab_fingerprint: &str) -> (String, Body, Option<u16>) {
    let json_body = |v: Value| Some(("application/json", v.to_string().into_bytes()));
    let mut path = op.path.replace("{store}", "CAPF-trust").replace("{dn}", "1101");
    let mut expect = None;
    path = match (op.method.as_str(), op.path.as_str()) {
        ("DELETE", "/api/v1/devices/{name}") => path.replace("{name}", "SEP0000000000AA"),
        ("DELETE", "/api/v1/trust/{store}/{cert}") => {
            expect = Some(409);
            path.replace("{cert}", lab_fingerprint)
        }
        (_, p) if p.starts_with("/api/v1/certificates/") => path.replace("{name}", "CAPF"),
        // Reads come before the POST that makes it; the confirmation before any export.
        ("GET", "/api/v1/consumers/{name}") | ("POST", "/api/v1/consumers/{name}/confirm") => {
            expect = Some(if op.method == "GET" { 404 } else { 409 });
            path.replace("{name}", "radius-1")
        }
        (_, "/api/v1/consumers/{name}") => path.replace("{name}", "radius-1"),
        ("DELETE", "/api/v1/accounts/{name}") => path.replace("{name}", "ops"),
        (_, "/api/v1/accounts/{name}/role") => path.replace("{name}", "desk"),
        ("DELETE", "/api/v1/tokens/{name}") => path.replace("{name}", "ci"),
        _ => path.replace("{name}", PHONES[0].0).replace("{key}", "lsc.validity_days"),
    };
    let body = match (op.method.as_str(), op.path.as_str()) {
        ("POST", "/api/v1/devices") => {
            json_body(json!({"name": "SEP0000000000AA", "model": "CP-8841", "lines": ["1201"]}))
        }
        ("POST", "/api/v1/devices/import") => Some((
            "text/csv",
            b"name,model,protocol,security,lines\nSEP0000000000B1,CP-8861,sip,encrypted,2001\n".to_vec(),
        )),
        ("PATCH", "/api/v1/devices/{name}") => json_body(json!({"description": "reception", "load": null})),
        ("POST", "/api/v1/devices/{name}/lines") => json_body(json!({"dn": "1101"})),
        ("PUT", "/api/v1/devices/{name}/capf") => {
            json_body(json!({"operation": "install", "auth_mode": "null", "expires_in_days": 3}))
        }
        ("POST", "/api/v1/capf/bulk") => {
            json_body(json!({"filter": {"model": "CP-8845"}, "capf": {"operation": "install", "auth_mode": "null"}}))
        }
        ("POST", "/api/v1/capf/regenerate") => json_body(json!({"key": "ec256"})),
        ("POST", "/api/v1/consumers") => json_body(json!({"name": "radius-1", "kind": "freeradius"})),
        ("POST", "/api/v1/capf/reissue") => json_body(json!({"expires_in_days": 5})),
        ("POST", "/api/v1/trust/{store}") | ("POST", "/api/v1/cert/inspect") => {
            Some(("application/x-pem-file", new_ca_pem()))
        }
        ("PUT", "/api/v1/settings/{key}") => json_body(json!({"value": "400"})),
        ("POST", "/api/v1/accounts") => {
            json_body(json!({"name": "ops", "role": "helpdesk", "password": "operations passphrase"}))
        }
        ("PUT", "/api/v1/accounts/{name}/role") => json_body(json!({"role": "helpdesk"})),
        ("POST", "/api/v1/tokens") => json_body(json!({"name": "ci", "role": "helpdesk"})),
        ("POST", "/api/v1/diagnose/pcap") => Some(("application/vnd.tcpdump.pcap", support::capture())),
        ("POST", "/api/v1/diagnose/log") => Some(("text/plain", support::console_log())),
        _ if op.doc.get("requestBody").is_some() => panic!("no fixture body for {} {}: add one", op.method, op.path),
        _ => None,
    };
    (path, body, expect)
}

/// The schema of `op`'s answer with `status` and `content_type`, made self-contained (its
/// `$ref`s resolve to the document's components).
fn response_schema(doc: &Value, op: &Operation, status: u16, content_type: &str) -> Option<Value> {
    let response = op.doc["responses"].get(status.to_string())?;
    let mut schema = response["content"].get(content_type)?.get("schema")?.clone();
    if let Some(obj) = schema.as_object_mut() {
        obj.insert("components".into(), doc["components"].clone());
    }
    Some(schema)
}

fn check_documented(doc: &Value, op: &Operation, a: &Answer) {
    let what = format!("{} {} answered {}: {}", op.method, op.path, a.status, a.body);
    assert!(op.doc["responses"].get(a.status.to_string()).is_some(), "status not documented: {what}");
    let content_type = a.header("content-type").unwrap_or_default();
    let content_type = content_type.split(';').next().unwrap().trim();
    if content_type.ends_with("json") {
        let schema = response_schema(doc, op, a.status, content_type)
            .unwrap_or_else(|| panic!("content type {content_type} not documented: {what}"));
        let validator = jsonschema::draft202012::new(&schema).unwrap_or_else(|e| panic!("bad schema ({e}): {what}"));
        let body = a.json();
        let errors: Vec<String> =
            validator.iter_errors(&body).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "{what}\ndoes not validate: {errors:#?}");
    }
}

/// What the help desk may not do: change anything but CAPF operations, or see accounts. Reading
/// a capture, a log or a certificate changes nothing.
fn is_admin_only(op: &Operation) -> bool {
    let helpdesk_may = [
        "/api/v1/devices/{name}/capf",
        "/api/v1/capf/bulk",
        "/api/v1/diagnose/pcap",
        "/api/v1/diagnose/log",
        "/api/v1/cert/inspect",
    ];
    let admin_reads = ["/api/v1/accounts", "/api/v1/tokens"];
    if op.method == "GET" {
        admin_reads.contains(&op.path.as_str())
    } else {
        !helpdesk_may.contains(&op.path.as_str())
    }
}

#[tokio::test]
async fn every_documented_operation_answers_as_documented() {
    let admin = Admin::start().await;
    let lab = admin.with_phones().await;
    let c = admin.client("script");
    let a = c.get("/api/openapi.json").await;
    assert_eq!(a.status, 200, "the document is public");
    let doc = a.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let ops = operations(&doc);
    assert!(ops.len() >= 35, "{} operations", ops.len());
    for op in &ops {
        let (path, body, expect) = fixture(op, &lab);
        let body_ref = body.as_ref().map(|(t, b)| (*t, b.as_slice()));

        let anonymous = c.call(&op.method, &path, None, body_ref).await;
        assert_eq!(anonymous.status, 401, "{} {} without credentials", op.method, path);
        assert_eq!(anonymous.header("content-type").as_deref(), Some("application/problem+json"));
        check_documented(&doc, op, &anonymous);

        if is_admin_only(op) {
            let desk = c.call(&op.method, &path, Some(&admin.helpdesk_token), body_ref).await;
            assert_eq!(desk.status, 403, "{} {} with the help desk's token: {}", op.method, path, desk.body);
            check_documented(&doc, op, &desk);
        }

        let a = c.call(&op.method, &path, Some(&admin.admin_token), body_ref).await;
        match expect {
            Some(status) => assert_eq!(a.status, status, "{} {}: {}", op.method, path, a.body),
            None => assert!((200..300).contains(&a.status), "{} {}: {} {}", op.method, path, a.status, a.body),
        }
        check_documented(&doc, op, &a);
    }
}

#[tokio::test]
async fn a_session_needs_its_csrf_token_to_change_anything() {
    let admin = Admin::start().await;
    let c = admin.client("browser");
    assert_eq!(c.login("root", ADMIN_PASSWORD).await.status, 303);
    let body = json!({"name": "SEP0000000000CC"}).to_string();
    let post = |extra: Vec<String>| {
        let mut args = vec!["-X".to_owned(), "POST".into(), "-H".into(), "Content-Type: application/json".into()];
        args.extend(extra);
        args.extend(["--data-binary".into(), body.clone()]);
        args
    };
    let args = post(vec![]);
    let a = c.curl("/api/v1/devices", &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.json()["detail"].as_str().unwrap().contains("CSRF"));
    let args = post(vec!["-H".into(), format!("X-CSRF-Token: {}", c.csrf().await)]);
    let a = c.curl("/api/v1/devices", &args.iter().map(String::as_str).collect::<Vec<_>>()).await;
    assert_eq!(a.status, 201, "{}", a.body);
    let audit = admin.cluster.audit(1).await.unwrap();
    assert_eq!((audit[0].action.as_str(), audit[0].actor.as_str()), ("device.add", "web:root"));
}

#[tokio::test]
async fn the_interactive_docs_load_only_local_files() {
    let admin = Admin::start().await;
    let c = admin.client("browser");
    let a = c.get("/api/docs/").await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("swagger-ui"), "{}", a.body);
    for attr in ["src=\"", "href=\""] {
        for part in a.body.split(attr).skip(1) {
            let url = part.split('"').next().unwrap();
            assert!(!url.contains("//"), "a remote asset: {url}");
        }
    }
    assert!(!a.body.contains("<script>"), "no inline script: the CSP allows only 'self'");
    let csp = a.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'self'") && !csp.contains("unsafe-eval"), "{csp}");
    let init = c.get("/api/docs/swagger-initializer.js").await;
    assert_eq!(init.status, 200);
    assert!(init.body.contains("/api/openapi.json"), "{}", init.body);
}
