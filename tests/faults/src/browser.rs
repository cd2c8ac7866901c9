//! A scripted browser: one cookie jar (cookies are per host, so give nodes their own loopback
//! address), redirects followed by hand, forms filled by field name as a person would.
//! Nothing here panics on a bad answer: under faults, bad answers are what the tests look at.
use reqwest::header::{CONTENT_TYPE, LOCATION};
use std::time::Duration;

/// The longest any one answer may take. The provider bounds its own waits (5 s per upstream
/// call, 5 s for a database connection), so a request still open after this has hung.
pub const HANG: Duration = Duration::from_secs(30);

/// An HTTP client for the tests: no redirects followed, a cookie jar, hangs reported as errors.
pub fn client(cookies: bool) -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(cookies)
        .timeout(HANG)
        .build()
        .expect("HTTP client")
}

#[derive(Debug, Clone)]
pub struct Page {
    /// The absolute URL the page came from.
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    pub content_type: String,
    pub retry_after: Option<String>,
    pub body: String,
}

impl Page {
    pub fn is_html(&self) -> bool {
        self.content_type.starts_with("text/html")
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The absolute URL of the redirect, if any.
    pub fn next(&self) -> Option<String> {
        let loc = self.location.as_deref()?;
        url::Url::parse(&self.url)
            .ok()?
            .join(loc)
            .ok()
            .map(String::from)
    }
}

pub async fn read(url: &str, resp: reqwest::Response) -> Result<Page, reqwest::Error> {
    let status = resp.status().as_u16();
    let header = |name| {
        resp.headers()
            .get(name)
            .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
            .map(str::to_owned)
    };
    let location = header(LOCATION);
    let content_type = header(CONTENT_TYPE).unwrap_or_default();
    let retry_after = header(reqwest::header::RETRY_AFTER);
    Ok(Page {
        url: url.to_owned(),
        status,
        location,
        content_type,
        retry_after,
        body: resp.text().await?,
    })
}

#[derive(Debug, Clone)]
pub struct Browser {
    pub http: reqwest::Client,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    pub fn new() -> Self {
        Self { http: client(true) }
    }

    pub async fn get(&self, url: &str) -> Result<Page, reqwest::Error> {
        read(url, self.http.get(url).send().await?).await
    }

    pub async fn post(&self, url: &str, form: &[(String, String)]) -> Result<Page, reqwest::Error> {
        read(url, self.http.post(url).form(form).send().await?).await
    }

    /// Submits the form of `page` that has a field `field`: its hidden inputs plus `values`.
    pub async fn submit(
        &self,
        page: &Page,
        field: &str,
        values: &[(&str, &str)],
    ) -> Result<Page, reqwest::Error> {
        let Some(form) = form_containing(&page.body, field) else {
            panic!("no form with {field} at {}:\n{}", page.url, page.body);
        };
        let mut pairs = form.hidden;
        pairs.extend(values.iter().map(|(k, v)| ((*k).into(), (*v).into())));
        let action = url::Url::parse(&page.url)
            .and_then(|u| u.join(&form.action))
            .map(String::from)
            .unwrap_or(form.action);
        self.post(&action, &pairs).await
    }

    /// From `url` to the redirect to `stop_at` (the app), across every node on the way:
    /// follows redirects, logs in as `user` where a password form shows, allows where a
    /// consent form shows. Returns that redirect, or the first other page that is not a form
    /// it knows (an error page).
    pub async fn travel(
        &self,
        url: &str,
        user: &str,
        stop_at: &str,
    ) -> Result<Page, reqwest::Error> {
        let mut page = self.get(url).await?;
        for _ in 0..40 {
            if let Some(next) = page.next() {
                if next.starts_with(stop_at) {
                    return Ok(page);
                }
                page = self.get(&next).await?;
            } else if page.status == 200 && page.body.contains(r#"name="password""#) {
                page = self
                    .submit(
                        &page,
                        "password",
                        &[("username", user), ("password", crate::PASSWORD)],
                    )
                    .await?;
            } else if page.status == 200 && page.body.contains(r#"name="decision""#) {
                page = self
                    .submit(&page, "decision", &[("decision", "allow")])
                    .await?;
            } else {
                return Ok(page);
            }
        }
        panic!("more than 40 steps from {url}");
    }
}

#[derive(Debug)]
pub struct Form {
    pub action: String,
    pub hidden: Vec<(String, String)>,
}

/// A small, strict reader of the provider's own forms (attributes in double quotes).
pub fn form_containing(html: &str, field: &str) -> Option<Form> {
    for chunk in html.split("<form").skip(1) {
        let form = chunk.split("</form>").next()?;
        if !form.contains(&format!(r#"name="{field}""#)) {
            continue;
        }
        let action = attr(form.split('>').next()?, "action").unwrap_or_default();
        let hidden = form
            .split("<input")
            .skip(1)
            .filter(|i| i.contains(r#"type="hidden""#))
            .filter_map(|i| Some((attr(i, "name")?, attr(i, "value").unwrap_or_default())))
            .collect();
        return Some(Form { action, hidden });
    }
    None
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(r#" {name}=""#))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(
        tag[start..end]
            .replace("&quot;", "\"")
            .replace("&#39;", "'")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

/// The query parameters of a URL.
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .map(|u| u.query_pairs().into_owned().collect())
        .unwrap_or_default()
}
