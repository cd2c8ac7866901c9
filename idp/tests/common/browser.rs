//! A scripted browser: a cookie jar, redirects followed by hand (so tests see each hop), and
//! forms filled by their field names, as a person would.
#![allow(dead_code, clippy::unwrap_used)]

use reqwest::header::LOCATION;
use reqwest::redirect::Policy;
use reqwest::StatusCode;

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

#[derive(Debug, Clone)]
pub struct Page {
    pub status: StatusCode,
    pub location: Option<String>,
    pub body: String,
    pub headers: reqwest::header::HeaderMap,
}

impl Browser {
    pub fn new(base: &str) -> Self {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(Policy::none())
            .build()
            .unwrap();
        Self {
            http,
            base: base.to_owned(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{}", self.base, url)
        } else {
            url.to_owned()
        }
    }

    pub async fn get(&self, url: &str) -> Page {
        to_page(self.http.get(self.absolute(url)).send().await.unwrap()).await
    }

    pub async fn post(&self, url: &str, form: &[(String, String)]) -> Page {
        to_page(
            self.http
                .post(self.absolute(url))
                .form(form)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Follows redirects while they stay on the provider; returns the first page that is not a
    /// redirect, or the redirect that leaves the provider (to the app).
    pub async fn follow(&self, mut page: Page) -> Page {
        for _ in 0..10 {
            match &page.location {
                Some(loc) if loc.starts_with('/') || loc.starts_with(&self.base) => {
                    page = self.get(loc).await
                }
                _ => return page,
            }
        }
        panic!("redirect loop");
    }

    /// Submits the form that contains `field`, with its hidden inputs plus `values`.
    pub async fn submit(&self, page: &Page, field: &str, values: &[(&str, &str)]) -> Page {
        let form = form_containing(&page.body, field)
            .unwrap_or_else(|| panic!("no form with {field} in:\n{}", page.body));
        let mut pairs = form.hidden.clone();
        pairs.extend(
            values
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        self.post(&form.action, &pairs).await
    }

    /// From an authorization URL to the redirect back to the app: logs in if asked, consents if asked.
    pub async fn authorize(&self, auth_url: &str, username: &str, password: &str) -> Page {
        let mut page = self.follow(self.get(auth_url).await).await;
        for _ in 0..4 {
            if page.location.is_some() || page.status != StatusCode::OK {
                return page;
            }
            if page.body.contains(r#"name="password""#) {
                page = self
                    .follow(
                        self.submit(
                            &page,
                            "password",
                            &[("username", username), ("password", password)],
                        )
                        .await,
                    )
                    .await;
            } else if page.body.contains(r#"name="decision""#) {
                page = self
                    .follow(
                        self.submit(&page, "decision", &[("decision", "allow")])
                            .await,
                    )
                    .await;
            } else {
                return page;
            }
        }
        page
    }
}

async fn to_page(resp: reqwest::Response) -> Page {
    let status = resp.status();
    let headers = resp.headers().clone();
    let location = headers
        .get(LOCATION)
        .map(|l| l.to_str().unwrap().to_owned());
    let body = resp.text().await.unwrap();
    Page {
        status,
        location,
        body,
        headers,
    }
}

pub struct Form {
    pub action: String,
    pub hidden: Vec<(String, String)>,
}

/// A small, strict reader of our own server-rendered forms (attributes in double quotes).
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
        return Some(Form {
            action: unescape(&action),
            hidden,
        });
    }
    None
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(r#" {name}=""#))? + name.len() + 3;
    let end = tag[start..].find('"')? + start;
    Some(unescape(&tag[start..end]))
}

fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

/// The query parameters of a redirect (absolute, or a local path on the provider).
pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse("http://provider.invalid/")
        .unwrap()
        .join(url)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

/// The fields of the form on `page` that posts to `action` and contains `marker` (anything in
/// its markup: an id, a name): its hidden fields, with `extra` added or overriding.
pub fn form_fields(
    page: &Page,
    action: &str,
    marker: &str,
    extra: &[(&str, &str)],
) -> Vec<(String, String)> {
    let needle = format!(r#"action="{action}""#);
    let at = page
        .body
        .match_indices(&needle)
        .map(|(i, _)| i)
        .find(|i| {
            page.body[*i..]
                .split("</form>")
                .next()
                .is_some_and(|f| f.contains(marker))
        })
        .unwrap_or_else(|| panic!("no form to {action} with {marker}: {}", page.body));
    let start = page.body[..at].rfind("<form").expect("a form tag");
    let form = form_containing(&page.body[start..], "csrf").expect("a form with a CSRF token");
    let mut fields: Vec<(String, String)> = form
        .hidden
        .into_iter()
        .filter(|(k, _)| !extra.iter().any(|(e, _)| e == k))
        .collect();
    fields.extend(
        extra
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
    );
    fields
}
