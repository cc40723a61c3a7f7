//! A real headless Chromium for the dashboard's journeys, driven through chromedriver
//! with fantoccini. [`Browser::start`] installs Debian's `chromium` and
//! `chromium-driver` when they are missing and this process may (root with apt-get), and
//! otherwise fails saying what to install: a browser test never passes without a browser.

use fantoccini::elements::Element;
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

/// Installs Chromium and chromedriver once per test process, if they are missing.
fn ensure_installed() {
    static INSTALLED: OnceLock<Result<(), String>> = OnceLock::new();
    let outcome = INSTALLED.get_or_init(|| {
        if Path::new(CHROMIUM).exists() && Path::new(CHROMEDRIVER).exists() {
            return Ok(());
        }
        let install = || {
            Command::new("apt-get")
                .args(["install", "-y", "-q", "chromium", "chromium-driver"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .stdout(Stdio::null())
                .status()
        };
        let mut status = install();
        if !status.as_ref().is_ok_and(|s| s.success()) {
            // A fresh machine may not have read its package lists yet.
            let _ = Command::new("apt-get")
                .args(["update", "-q"])
                .stdout(Stdio::null())
                .status();
            status = install();
        }
        match status {
            Ok(s) if s.success() && Path::new(CHROMEDRIVER).exists() => Ok(()),
            Ok(s) => Err(format!(
                "apt-get install chromium chromium-driver exited with {s}"
            )),
            Err(e) => Err(format!("apt-get could not run: {e}")),
        }
    });
    if let Err(why) = outcome {
        panic!(
            "the dashboard's browser tests need Chromium and chromedriver ({why}); install them \
             with `sudo apt-get install chromium chromium-driver` (Debian) and run the tests again"
        );
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap_or_else(|e| panic!("no free port: {e}"))
}

/// One headless Chromium with its own profile, driven by its own chromedriver.
pub struct Browser {
    pub client: Client,
    /// The server under test, e.g. `http://127.0.0.1:40123`.
    pub base: String,
    driver: Child,
    _scratch: tempfile::TempDir,
}

impl Browser {
    /// Starts chromedriver and a fresh Chromium for the server at `base`.
    pub async fn start(base: &str) -> Self {
        ensure_installed();
        let scratch = tempfile::tempdir().unwrap_or_else(|e| panic!("scratch dir: {e}"));
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .env("HOME", scratch.path())
            .env("TMPDIR", scratch.path())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("chromedriver did not start: {e}"));
        let profile = scratch.path().join("profile");
        let capabilities = serde_json::json!({
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.display()),
                ]
            }
        });
        let serde_json::Value::Object(capabilities) = capabilities else {
            unreachable!("a JSON object literal")
        };
        let url = format!("http://127.0.0.1:{port}");
        let mut last_error = String::new();
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        base: base.trim_end_matches('/').to_owned(),
                        driver,
                        _scratch: scratch,
                    };
                }
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("could not open a Chromium session through chromedriver: {last_error}");
    }

    /// Opens `path` on the server under test.
    pub async fn open(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap_or_else(|e| panic!("open {path}: {e}"));
    }

    /// The path of the page now shown.
    pub async fn path(&self) -> String {
        let url = self
            .client
            .current_url()
            .await
            .unwrap_or_else(|e| panic!("current url: {e}"));
        url.path().to_owned()
    }

    /// Waits (up to ten seconds) for an element, and returns it.
    pub async fn find(&self, css: &str) -> Element {
        let found = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await;
        match found {
            Ok(element) => element,
            Err(e) => {
                let path = self.path().await;
                let text = match self.client.find(Locator::Css("body")).await {
                    Ok(body) => body.text().await.unwrap_or_default(),
                    Err(_) => String::new(),
                };
                panic!("no element {css} on {path} ({e}); the page says: {text}")
            }
        }
    }

    /// Whether an element is on the page now (no waiting).
    pub async fn has(&self, css: &str) -> bool {
        self.client.find(Locator::Css(css)).await.is_ok()
    }

    /// Types `text` into the field `css` (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field
            .clear()
            .await
            .unwrap_or_else(|e| panic!("clear {css}: {e}"));
        field
            .send_keys(text)
            .await
            .unwrap_or_else(|e| panic!("type into {css}: {e}"));
    }

    /// Clicks `css`, scrolled to the middle of the window first as a person would (a
    /// sticky panel at the bottom may cover it otherwise).
    pub async fn click(&self, css: &str) {
        let element = self.find(css).await;
        if let Ok(reference) = serde_json::to_value(&element) {
            let _ = self
                .client
                .execute(
                    "arguments[0].scrollIntoView({block: 'center'});",
                    vec![reference],
                )
                .await;
        }
        element
            .click()
            .await
            .unwrap_or_else(|e| panic!("click {css}: {e}"));
    }

    /// Clicks the button whose text is `label` (the first one).
    pub async fn click_button(&self, label: &str) {
        let xpath = format!("//button[normalize-space(.)='{label}']");
        let button = self
            .client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::XPath(&xpath))
            .await
            .unwrap_or_else(|e| panic!("no button '{label}': {e}"));
        button
            .click()
            .await
            .unwrap_or_else(|e| panic!("click '{label}': {e}"));
    }

    /// The visible text of `css`. A page that is being replaced (a navigation, an htmx
    /// swap) makes found elements stale; the lookup is then tried again.
    pub async fn text(&self, css: &str) -> String {
        let mut last_error = String::new();
        for _ in 0..50 {
            match self.find(css).await.text().await {
                Ok(text) => return text,
                Err(e) => last_error = e.to_string(),
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("text of {css}: {last_error}")
    }

    /// The whole page's visible text.
    pub async fn page_text(&self) -> String {
        self.text("body").await
    }

    /// Waits (up to ten seconds) until the page's text contains `needle`.
    pub async fn wait_for_text(&self, needle: &str) {
        for _ in 0..100 {
            if self.page_text().await.contains(needle) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!(
            "'{needle}' never appeared; the page says: {}",
            self.page_text().await
        );
    }

    /// Saves a PNG of the page to `STRONGROOM_SCREENSHOT_DIR/name.png` when that is set
    /// (the README's screenshots are made this way).
    pub async fn screenshot(&self, name: &str) {
        let Some(dir) = std::env::var_os("STRONGROOM_SCREENSHOT_DIR") else {
            return;
        };
        let png = self
            .client
            .screenshot()
            .await
            .unwrap_or_else(|e| panic!("screenshot: {e}"));
        let path = PathBuf::from(dir).join(format!("{name}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// Closes the browser and its driver.
    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.driver.kill();
    }
}
