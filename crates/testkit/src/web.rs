//! [`WebBrowser`]: the dashboard as a browser without JavaScript sees it — cookies kept
//! per browser, forms posted URL-encoded with the page's CSRF token — for the tests that
//! need exact control over headers (CSRF, origins, cookies) rather than a real browser.

use reqwest::header::{HeaderMap, HeaderValue};
use std::collections::BTreeMap;

/// One dashboard response.
pub struct WebPage {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: String,
}

impl WebPage {
    /// The CSRF token of the page's forms.
    pub fn csrf(&self) -> String {
        field_value(&self.body, "csrf")
            .unwrap_or_else(|| panic!("no CSRF token on the page: {}", self.body))
    }

    /// Where a redirect points.
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    /// Every `Set-Cookie` header, as sent.
    pub fn set_cookies(&self) -> Vec<String> {
        self.headers
            .get_all(reqwest::header::SET_COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok().map(str::to_owned))
            .collect()
    }
}

/// The `value` of the first input named `name` in `html`.
pub fn field_value(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    let end = html[start..].find('"')?;
    Some(html[start..start + end].to_owned())
}

/// A cookie-keeping client of one server's dashboard.
pub struct WebBrowser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl WebBrowser {
    /// A browser with no cookies, for the server at `base`.
    pub fn new(base: &str) -> Self {
        // reqwest is built without a default TLS provider; the server installs ring too.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("http client: {e}"));
        Self {
            base: base.trim_end_matches('/').to_owned(),
            http,
            cookies: BTreeMap::new(),
        }
    }

    /// Signs in through the sign-in form.
    pub async fn signed_in(base: &str, username: &str, password: &str) -> Self {
        let mut browser = Self::new(base);
        let page = browser.get("/ui/signin").await;
        let done = browser
            .post(
                "/ui/signin",
                &[
                    ("csrf", &page.csrf()),
                    ("username", username),
                    ("password", password),
                ],
            )
            .await;
        assert_eq!(
            done.location(),
            Some("/ui/vaults"),
            "sign-in of {username} failed: {}",
            done.body
        );
        browser
    }

    /// The cookie `name`, if the browser holds it.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    fn cookie_header(&self) -> Option<HeaderValue> {
        if self.cookies.is_empty() {
            return None;
        }
        let joined = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        HeaderValue::from_str(&joined).ok()
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> WebPage {
        let request = match self.cookie_header() {
            Some(cookies) => request.header(reqwest::header::COOKIE, cookies),
            None => request,
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("dashboard request failed: {e}"));
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response.text().await.unwrap_or_default();
        let page = WebPage {
            status,
            headers,
            body,
        };
        for cookie in page.set_cookies() {
            let pair = cookie.split(';').next().unwrap_or("");
            if let Some((name, value)) = pair.split_once('=') {
                let expired = cookie.contains("Max-Age=0");
                if value.is_empty() || expired {
                    self.cookies.remove(name);
                } else {
                    self.cookies.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        page
    }

    /// `GET path`.
    pub async fn get(&mut self, path: &str) -> WebPage {
        let request = self.http.get(format!("{}{path}", self.base));
        self.send(request).await
    }

    /// `POST path` with a URL-encoded form, as a same-origin page would send it.
    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> WebPage {
        let origin = self.base.clone();
        self.post_with(
            path,
            fields,
            &[("origin", &origin), ("sec-fetch-site", "same-origin")],
        )
        .await
    }

    /// `POST path` with a URL-encoded form and exactly these extra headers.
    pub async fn post_with(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> WebPage {
        let mut request = self.http.post(format!("{}{path}", self.base)).form(fields);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        self.send(request).await
    }
}

/// The form token a dashboard page derives from the cookie secret `secret` (to forge
/// one, as an attacker who planted a cookie could).
pub fn csrf_token_for(secret: &str) -> String {
    strongroom_server::dashboard_csrf_token(secret)
}
