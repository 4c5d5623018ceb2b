//! Issue 14, Certificate Management pages: own certificates and trust stores for everyone,
//! upload and the guarded delete for administrators only (helpdesk sees no buttons and the
//! server refuses with 403), the guard's refusal naming the phones, CAPF regenerate as a plan,
//! a confirm, then the re-keying phone by phone.

use crate::support;

use opencapf_model::{now, CertKind, KeyAlgorithm, Service, SubjectFields, TrustStore};
use opencapf_testkit::{add_device, lsc, new_device, phone_key, Ca};
use support::{Admin, Client, ADMIN_PASSWORD, HELPDESK_PASSWORD};

const PHONES: [&str; 2] = ["SEP00000000C001", "SEP00000000C002"];

/// Two phones holding LSCs from the cluster's active CAPF certificate.
async fn phones_with_lscs(admin: &Admin) {
    let c = &admin.cluster;
    let capf = c.signer(Service::Capf).await.unwrap();
    let key = phone_key();
    for name in PHONES {
        add_device(c, new_device(name)).await;
        let der = lsc(&capf, name, key.public_key_der(), 365, now()).der;
        c.record_cert(&name.parse().unwrap(), &der, Some(CertKind::Lsc), "test").await.unwrap();
    }
}

async fn logged_in(admin: &Admin, name: &str, password: &str) -> (Client, String) {
    let c = admin.client(name);
    assert_eq!(c.login(name, password).await.status, 303);
    let token = c.csrf().await;
    (c, token)
}

async fn capf_fingerprint(admin: &Admin) -> String {
    admin.cluster.active_certificate(Service::Capf).await.unwrap().unwrap().fingerprint
}

/// The text of the element with this id (up to its section's end): what a person reads there.
fn section<'a>(body: &'a str, id: &str) -> &'a str {
    let at = body.find(&format!("id=\"{id}\"")).unwrap_or_else(|| panic!("no #{id} in the page:\n{body}"));
    let rest = &body[at..];
    &rest[..rest.find("</section>").unwrap_or(rest.len())]
}

/// A CA certificate of another cluster, as a PEM file to upload.
fn other_ca_pem(dir: &std::path::Path) -> (std::path::PathBuf, String) {
    let ca = Ca::capf(KeyAlgorithm::Ec256, &SubjectFields::default(), 365, now());
    let pem = opencapf_pki::pem::encode("CERTIFICATE", &ca.der);
    let path = dir.join("other-capf.pem");
    std::fs::write(&path, &pem).unwrap();
    (path, opencapf_pki::CertificateInfo::parse(&ca.der).unwrap().fingerprint)
}

#[tokio::test]
async fn admins_see_upload_and_delete_helpdesk_sees_neither_and_is_refused_403() {
    let admin = Admin::start().await;
    let capf = capf_fingerprint(&admin).await;
    let tomcat = admin.cluster.active_certificate(Service::Tomcat).await.unwrap().unwrap();

    let (root, _) = logged_in(&admin, "root", ADMIN_PASSWORD).await;
    let a = root.get("/certificates").await;
    assert_eq!(a.status, 200, "{}", a.body);
    for id in
        ["trust-upload", "own-certificates", "store-callmanager-trust", "store-capf-trust", "store-phone-sast-trust"]
    {
        assert!(a.body.contains(&format!("id=\"{id}\"")), "#{id} missing");
    }
    assert!(a.body.contains(&format!("id=\"trust-delete-capf-trust-{capf}\"")));
    assert!(a.body.contains(&format!("id=\"own-download-{}\"", tomcat.fingerprint)), "tomcat is listed");
    let pem = root.get(&format!("/certificates/own/{}/pem", tomcat.fingerprint)).await;
    assert_eq!(pem.status, 200);
    assert_eq!(opencapf_pki::pem::parse_certificates(pem.body.as_bytes()).unwrap(), vec![tomcat.der.clone()]);
    assert!(pem.header("content-disposition").unwrap().contains("tomcat-"));

    let (desk, token) = logged_in(&admin, "desk", HELPDESK_PASSWORD).await;
    let a = desk.get("/certificates").await;
    assert_eq!(a.status, 200);
    assert!(a.body.contains(&capf), "helpdesk reads the stores");
    assert!(!a.body.contains("id=\"trust-upload\""), "no upload form for helpdesk");
    assert!(!a.body.contains("trust-delete-"), "no delete buttons for helpdesk");
    let plan = desk.get("/certificates/capf/regenerate").await;
    assert_eq!(plan.status, 200);
    assert!(!plan.body.contains("regenerate-confirm"), "no regenerate button for helpdesk");

    let (file, _) = other_ca_pem(admin.dir.path());
    let upload = format!("/certificates/trust/upload?csrf_token={token}");
    let a = desk.curl(&upload, &["-F", "store=CAPF-trust", "-F", &format!("file=@{}", file.display())]).await;
    assert_eq!(a.status, 403, "{}", a.body);
    let delete = format!("/certificates/trust/CAPF-trust/{capf}/delete");
    assert_eq!(desk.curl(&delete, &["-d", &format!("csrf_token={token}")]).await.status, 403);
    let regenerate = ["-d", &format!("csrf_token={token}")];
    assert_eq!(desk.curl("/certificates/capf/regenerate", &regenerate).await.status, 403);
    assert_eq!(admin.cluster.trust_list(Some(TrustStore::Capf)).await.unwrap().len(), 1, "nothing changed");
    assert_eq!(capf_fingerprint(&admin).await, capf);
}

#[tokio::test]
async fn an_admin_uploads_a_certificate_downloads_it_and_deletes_it() {
    let admin = Admin::start().await;
    let (root, token) = logged_in(&admin, "root", ADMIN_PASSWORD).await;
    let (file, fp) = other_ca_pem(admin.dir.path());
    let form = ["-F", "store=CAPF-trust", "-F", &format!("file=@{}", file.display())];

    let a = root.curl("/certificates/trust/upload", &form).await;
    assert_eq!(a.status, 403, "an upload without its CSRF token is refused");
    let a = root.curl(&format!("/certificates/trust/upload?csrf_token={token}"), &form).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("Added to CAPF-trust"), "{}", a.body);
    assert!(a.body.contains(&format!("id=\"trust-delete-capf-trust-{fp}\"")));
    let stored = admin.cluster.trust_list(Some(TrustStore::Capf)).await.unwrap();
    let entry = stored.iter().find(|e| e.fingerprint == fp).expect("in CAPF-trust");
    assert_eq!(entry.added_by, "web:root");

    let pem = root.get(&format!("/certificates/trust/CAPF-trust/{fp}/pem")).await;
    assert_eq!(pem.status, 200);
    assert_eq!(opencapf_pki::pem::parse_certificates(pem.body.as_bytes()).unwrap(), vec![entry.der.clone()]);

    let a = root.curl("/certificates/trust/upload?csrf_token=", &form).await;
    assert_eq!(a.status, 403);
    let bad = admin.dir.path().join("notes.txt");
    std::fs::write(&bad, "not a certificate").unwrap();
    let a = root
        .curl(
            &format!("/certificates/trust/upload?csrf_token={token}"),
            &["-F", "store=CAPF-trust", "-F", &format!("file=@{}", bad.display())],
        )
        .await;
    assert_eq!(a.status, 422, "{}", a.body);
    // Past the file's 1 MiB, sent at once as a browser sends it: the rest of the form is read
    // and dropped, so that the browser reads the 413 page rather than a reset under its upload;
    // read to its end, the request leaves its connection open for the next one.
    let big = admin.dir.path().join("big.pem");
    std::fs::write(&big, vec![b'A'; 1792 * 1024]).unwrap();
    let upload = root.url(&format!("/certificates/trust/upload?csrf_token={token}"));
    let file = format!("file=@{}", big.display());
    let then = ["--next", "-k", "-w", "new connections: %{num_connects}"];
    let form = ["-H", "Expect:", "-F", "store=CAPF-trust", "-F", &file, &upload].into_iter().chain(then);
    let a = root.curl("/login", &form.collect::<Vec<_>>()).await;
    assert_eq!(a.status, 413, "{}", a.body);
    assert!(a.body.contains("the field file is larger than 1048576 bytes"), "{}", a.body);
    assert!(a.body.ends_with("new connections: 0"), "the next request on the same connection: {}", a.body);

    let delete = format!("/certificates/trust/CAPF-trust/{fp}/delete");
    assert_eq!(root.curl(&delete, &["-X", "POST"]).await.status, 403, "a delete without its CSRF token");
    let a = root.curl(&delete, &["-d", &format!("csrf_token={token}")]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert!(a.body.contains("Removed from CAPF-trust"));
    assert!(!admin.cluster.trust_list(Some(TrustStore::Capf)).await.unwrap().iter().any(|e| e.fingerprint == fp));
    let log = admin.cluster.audit(10).await.unwrap();
    assert!(log.iter().any(|e| e.action == "trust.remove" && e.actor == "web:root"));
}

#[tokio::test]
async fn deleting_the_capf_certificate_phones_need_shows_the_refusal_and_the_phones() {
    let admin = Admin::start().await;
    phones_with_lscs(&admin).await;
    let capf = capf_fingerprint(&admin).await;
    let (root, token) = logged_in(&admin, "root", ADMIN_PASSWORD).await;
    let a = root
        .curl(&format!("/certificates/trust/CAPF-trust/{capf}/delete"), &["-d", &format!("csrf_token={token}")])
        .await;
    assert_eq!(a.status, 409, "{}", a.body);
    let refusal = section(&a.body, "guard-refusal");
    assert!(refusal.contains("refusing to remove"), "{refusal}");
    assert!(refusal.contains("id=\"guard-refusal-devices\""));
    for name in PHONES {
        assert!(refusal.contains(&format!("<a href=\"/phones/{name}\">{name}</a>")), "{name} is named: {refusal}");
    }
    assert!(admin.cluster.trust_list(Some(TrustStore::Capf)).await.unwrap().iter().any(|e| e.fingerprint == capf));
}

#[tokio::test]
async fn regenerate_shows_the_plan_then_the_rekeying_phone_by_phone() {
    let admin = Admin::start().await;
    phones_with_lscs(&admin).await;
    let old = capf_fingerprint(&admin).await;
    let (root, token) = logged_in(&admin, "root", ADMIN_PASSWORD).await;

    let plan = root.get("/certificates/capf/regenerate").await;
    assert_eq!(plan.status, 200, "{}", plan.body);
    let shown = section(&plan.body, "regenerate-plan");
    assert!(shown.contains("<strong>2</strong> phone(s)"), "{shown}");
    assert!(shown.contains(&old), "the certificate to retire is named");
    for name in PHONES {
        assert!(shown.contains(name));
    }
    assert!(plan.body.contains("id=\"regenerate-confirm\""));

    let a = root.curl("/certificates/capf/regenerate", &["-X", "POST"]).await;
    assert_eq!(a.status, 403, "no CSRF token, no regeneration");
    assert_eq!(capf_fingerprint(&admin).await, old);
    let a = root.curl("/certificates/capf/regenerate", &["-d", &format!("csrf_token={token}&key=")]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(a.header("location").as_deref(), Some("/certificates/capf/regenerate/progress"));
    let new = capf_fingerprint(&admin).await;
    assert_ne!(new, old);
    for store in TrustStore::PHONE_CERTIFICATES {
        let fps: Vec<String> =
            admin.cluster.trust_list(Some(store)).await.unwrap().into_iter().map(|e| e.fingerprint).collect();
        assert!(fps.contains(&new) && fps.contains(&old), "{store}: the new and the old CAPF certificate");
    }

    let page = root.get("/certificates/capf/regenerate/progress").await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("data-refresh=\"/certificates/capf/regenerate/progress/fragment\""));
    assert!(page.body.contains("id=\"rekey-schedule\""));
    let fragment = root.get("/certificates/capf/regenerate/progress/fragment").await;
    assert_eq!(fragment.status, 200);
    assert!(!fragment.body.contains("<html"), "a fragment, not a page");
    assert!(fragment.body.contains("<strong>0</strong> re-keyed, <strong>2</strong> still"), "{}", fragment.body);
    for name in PHONES {
        assert!(fragment.body.contains(&format!("id=\"rekey-{name}\"")));
    }

    let a = root.curl("/certificates/capf/reissue", &["-d", &format!("csrf_token={token}")]).await;
    assert_eq!(a.status, 303, "{}", a.body);
    let fragment = root.get("/certificates/capf/regenerate/progress/fragment").await;
    assert!(fragment.body.contains("Install/Upgrade"), "{}", fragment.body);
    let d = admin.cluster.device(&PHONES[0].parse().unwrap()).await.unwrap();
    assert_eq!(d.capf.operation.to_string(), "Install/Upgrade");
}
