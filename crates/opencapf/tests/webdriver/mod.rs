//! Headless Chromium driven through chromedriver (WebDriver, with `fantoccini`) against a [`Lab`]'s
//! `opencapf serve`, as an administrator's browser. Chromium trusts only the cluster's tomcat key
//! (`--ignore-certificate-errors-spki-list` with its SPKI hash), so a page served with another
//! certificate fails.
//!
//! A flow is an `async fn(&Browser, &Lab)` using [`Browser::goto`], [`Browser::fill`],
//! [`Browser::click`] and friends; every page it reaches goes through [`Browser::check_page`]:
//! a screenshot under `target/browser-screenshots/` and the layout and accessibility checks.
//!
//! Without chromium or chromedriver the tests fail with a message saying what to install;
//! `OPENCAPF_SKIP_BROWSER=1` skips them on a developer's machine.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::support::Lab;

pub(crate) const CHROMIUM: &str = "/usr/bin/chromium";
pub(crate) const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
/// The laptop screen every page must fit.
pub(crate) const WIDTH: u32 = 1366;
pub(crate) const HEIGHT: u32 = 768;
/// How long chromedriver may take to listen, and a page or element to appear.
const START_TIMEOUT: Duration = Duration::from_secs(20);
const WAIT: Duration = Duration::from_secs(15);

/// `Some(reason)` when the browser tests are to be skipped (`OPENCAPF_SKIP_BROWSER=1`); panics with
/// what to install when chromium or chromedriver is missing.
pub(crate) fn skip_reason() -> Option<&'static str> {
    if std::env::var("OPENCAPF_SKIP_BROWSER").is_ok_and(|v| v == "1") {
        return Some("OPENCAPF_SKIP_BROWSER=1");
    }
    for (bin, package) in [(CHROMIUM, "chromium"), (CHROMEDRIVER, "chromium-driver")] {
        assert!(
            Path::new(bin).is_file(),
            "the browser tests need {bin}: install it (`apt-get install chromium chromium-driver`), or set \
             OPENCAPF_SKIP_BROWSER=1 to skip them on this machine (package {package})"
        );
    }
    None
}

/// Where screenshots go: `target/browser-screenshots/`, emptied first so that only this run's are there.
pub(crate) fn screenshot_dir() -> PathBuf {
    let dir =
        Path::new(env!("CARGO_TARGET_TMPDIR")).parent().expect("target/tmp has a parent").join("browser-screenshots");
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The SHA-256 of a certificate's SubjectPublicKeyInfo, base64: what Chromium's
/// `--ignore-certificate-errors-spki-list` takes.
fn spki_hash(cert_pem: &Path) -> String {
    let script = "openssl x509 -in \"$1\" -pubkey -noout | openssl pkey -pubin -outform der | openssl dgst -sha256 -binary | base64";
    let out = Command::new("sh").args(["-c", script, "sh"]).arg(cert_pem).output().expect("openssl runs");
    assert!(out.status.success(), "hashing tomcat's key: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_owned()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// chromedriver and one browser session; both end when it is dropped or closed.
pub(crate) struct Browser {
    pub(crate) client: Client,
    driver: Child,
    /// `https://127.0.0.1:PORT`, the admin service.
    pub(crate) base: String,
    shots: PathBuf,
    /// Screenshots taken, numbered in order.
    taken: std::sync::atomic::AtomicUsize,
    _profile: tempfile::TempDir,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// chromedriver on a free port and a headless Chromium at 1366x768 trusting the lab's tomcat.
    pub(crate) async fn start(lab: &Lab) -> Browser {
        let port = free_port();
        let log = std::fs::File::create(lab.path("chromedriver.log")).unwrap();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .spawn()
            .unwrap_or_else(|e| panic!("starting {CHROMEDRIVER}: {e}"));
        let addr = SocketAddr::from(([127, 0, 0, 1], port));
        let deadline = Instant::now() + START_TIMEOUT;
        while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen on {addr} within {START_TIMEOUT:?}");
            std::thread::sleep(Duration::from_millis(100));
        }
        let profile = tempfile::tempdir().unwrap();
        let spki = spki_hash(&lab.cert_own("tomcat"));
        let args = vec![
            "--headless=new".to_owned(),
            // Containers and CI run as root, where Chromium's sandbox cannot start.
            "--no-sandbox".to_owned(),
            "--disable-dev-shm-usage".to_owned(),
            "--disable-gpu".to_owned(),
            format!("--window-size={WIDTH},{HEIGHT}"),
            format!("--ignore-certificate-errors-spki-list={spki}"),
            format!("--user-data-dir={}", profile.path().display()),
            "--lang=en-US".to_owned(),
        ];
        let caps = json!({
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
            "timeouts": { "pageLoad": 20_000, "script": 15_000 },
        });
        let Value::Object(caps) = caps else { unreachable!() };
        let client = ClientBuilder::rustls()
            .expect("rustls with the system roots")
            .capabilities(caps)
            .connect(&format!("http://{addr}"))
            .await
            .unwrap_or_else(|e| panic!("a Chromium session through chromedriver: {e}"));
        client.set_window_size(WIDTH, HEIGHT).await.unwrap();
        Browser {
            client,
            driver,
            base: format!("https://{}", lab.addrs().admin),
            shots: screenshot_dir(),
            taken: Default::default(),
            _profile: profile,
        }
    }

    /// Ends the session (the browser quits) and chromedriver.
    pub(crate) async fn close(self) {
        let _ = self.client.clone().close().await;
    }

    /// Opens a page of the admin service.
    pub(crate) async fn goto(&self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.unwrap_or_else(|e| panic!("opening {path}: {e}"));
    }

    /// The path and query of the page shown.
    pub(crate) async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(q) => format!("{}?{q}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// The element `css` selects, once it is there.
    pub(crate) async fn find(&self, css: &str) -> fantoccini::elements::Element {
        match self.client.wait().at_most(WAIT).for_element(Locator::Css(css)).await {
            Ok(e) => e,
            Err(e) => panic!("no {css} on {}: {e}\n{}", self.path().await, self.text("body").await),
        }
    }

    pub(crate) async fn exists(&self, css: &str) -> bool {
        !self.client.find_all(Locator::Css(css)).await.unwrap().is_empty()
    }

    pub(crate) async fn count(&self, css: &str) -> usize {
        self.client.find_all(Locator::Css(css)).await.unwrap().len()
    }

    /// Replaces the value of the input `css`.
    pub(crate) async fn fill(&self, css: &str, value: &str) {
        let e = self.find(css).await;
        e.clear().await.unwrap();
        e.send_keys(value).await.unwrap();
    }

    /// Chooses the option with this value in the select `css`.
    pub(crate) async fn select(&self, css: &str, value: &str) {
        self.find(css).await.select_by_value(value).await.unwrap_or_else(|e| panic!("{css} = {value}: {e}"));
    }

    /// Clicks `css` (a link or a submit button: WebDriver waits for the next page to load).
    pub(crate) async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap_or_else(|e| panic!("clicking {css}: {e}"));
    }

    /// Clicks `css` (a link or a submit button), waits for the next page to load (not the old
    /// one still shown) and for `then`, a selector of the next page.
    pub(crate) async fn click_to(&self, css: &str, then: &str) {
        self.client.execute("window.opencapfOldPage = true;", vec![]).await.unwrap();
        self.click(css).await;
        let loaded = "return window.opencapfOldPage === undefined && document.readyState === 'complete';";
        let deadline = Instant::now() + WAIT;
        // Bounded: a click that loads no page fails here rather than hanging.
        while self.client.execute(loaded, vec![]).await.ok().and_then(|v| v.as_bool()) != Some(true) {
            assert!(Instant::now() < deadline, "clicking {css} loaded no page within {WAIT:?}: {}", self.path().await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        self.find(then).await;
    }

    /// The visible text of `css` (`body` for the whole page).
    pub(crate) async fn text(&self, css: &str) -> String {
        match self.client.find(Locator::Css(css)).await {
            Ok(e) => e.text().await.unwrap_or_default(),
            Err(_) => String::new(),
        }
    }

    /// Logs in on the login form; the page after it is shown.
    pub(crate) async fn log_in(&self, user: &str, password: &str) {
        self.goto("/login").await;
        self.fill("#username", user).await;
        self.fill("#password", password).await;
        self.click_to("main form button[type=submit]", "main h1").await;
    }

    /// Logs out with the layout's button.
    pub(crate) async fn log_out(&self) {
        self.click_to("header .who button", "#username").await;
    }

    /// A request from the page's own script (`fetch`, same origin, with the session's CSRF token
    /// as the pages' script sends it); its HTTP status.
    pub(crate) async fn fetch_status(&self, method: &str, path: &str) -> u16 {
        let script = r#"
            const [method, path, done] = arguments;
            const field = document.querySelector('input[name="csrf_token"]');
            const headers = field ? { 'X-CSRF-Token': field.value } : {};
            fetch(path, { method, headers, credentials: 'same-origin' })
                .then(r => done(r.status)).catch(e => done(String(e)));
        "#;
        let v = self.client.execute_async(script, vec![json!(method), json!(path)]).await.unwrap();
        v.as_u64().unwrap_or_else(|| panic!("fetch {method} {path}: {v}")) as u16
    }

    /// Saves a screenshot of the page as `NN-name.png`, without the layout checks (for pages that
    /// are not ours: Swagger UI); returns its path.
    pub(crate) async fn screenshot(&self, name: &str) -> PathBuf {
        let n = self.taken.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
        let png = self.client.screenshot().await.unwrap();
        let file = self.shots.join(format!("{n:02}-{name}.png"));
        std::fs::write(&file, png).unwrap();
        file
    }

    /// Saves a screenshot of the page as `NN-name.png` and checks it: nothing wider than the
    /// window (wide tables scroll inside `.table-wrap`), every form field labelled, headings in
    /// order, one `aria-current` in the navigation once logged in.
    pub(crate) async fn check_page(&self, name: &str) {
        let file = self.screenshot(name).await;
        let report = self.client.execute(PAGE_CHECKS, vec![]).await.unwrap();
        let problems: Vec<String> = report["problems"]
            .as_array()
            .map(|a| a.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect())
            .unwrap_or_default();
        assert!(
            problems.is_empty(),
            "{name} ({}), screenshot {}:\n{}",
            self.path().await,
            file.display(),
            problems.join("\n")
        );
    }
}

/// The checks of [`Browser::check_page`], run in the page; returns `{problems: [...]}`.
const PAGE_CHECKS: &str = r#"
const problems = [];
const inner = window.innerWidth;
const scroll = document.documentElement.scrollWidth;
if (scroll > inner) problems.push(`the page scrolls sideways: scrollWidth ${scroll} > innerWidth ${inner}`);
const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (typeof el.className === 'string' && el.className ? '.' + el.className.trim().split(/\s+/).join('.') : '');
// Inside a container that scrolls sideways (a .table-wrap) an element may extend beyond the window.
const scrolls = el => { const o = getComputedStyle(el).overflowX; return o === 'auto' || o === 'scroll' || o === 'hidden'; };
const insideScroller = el => { for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) { if (scrolls(p)) return true; } return false; };
for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width === 0 && r.height === 0) continue;
    if (r.right > inner + 0.5 && !insideScroller(el)) problems.push(`${describe(el)} ends at ${Math.round(r.right)} px, beyond the window (${inner} px)`);
}
for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden') continue;
    const named = (el.labels && el.labels.length > 0) || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby');
    if (!named) problems.push(`${describe(el)} (name ${el.name}) has no label`);
}
let previous = 0;
for (const h of document.querySelectorAll('h1, h2, h3, h4, h5, h6')) {
    const level = Number(h.tagName[1]);
    if (level > previous + 1) problems.push(`heading ${h.tagName} "${h.textContent.trim()}" skips a level after h${previous}`);
    previous = level;
}
if (document.querySelectorAll('h1').length !== 1) problems.push(`${document.querySelectorAll('h1').length} h1 headings`);
if (document.querySelector('header nav') && document.querySelectorAll('header nav [aria-current="page"]').length > 1)
    problems.push('more than one aria-current link in the navigation');
for (const th of document.querySelectorAll('th')) {
    if (!th.getAttribute('scope')) problems.push(`a table header without scope: "${th.textContent.trim()}"`);
}
return { problems };
"#;

/// `opencapf admin add NAME --role ROLE --password-stdin`.
pub(crate) fn add_account(lab: &Lab, name: &str, role: &str, password: &str) {
    use assert_cmd::cargo::CommandCargoExt;
    use std::io::Write;
    let mut child = Command::cargo_bin(crate::support::BIN)
        .unwrap()
        .env_remove("OPENCAPF_DATA_DIR")
        .arg("--data-dir")
        .arg(lab.data())
        .args(["admin", "add", name, "--role", role, "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(format!("{password}\n").as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "admin add {name}: {}", String::from_utf8_lossy(&out.stderr));
}
