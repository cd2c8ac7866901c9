//! Wiring federation nodes together in a test.
#![allow(dead_code, clippy::unwrap_used)]

use super::browser::{Browser, Page};
use super::{ClientSpec, TestClient, TestServer};
use idp::flows::upstreams::{self, NewUpstream};

/// Makes `child` a relying party of `parent` (a first-party client there, allowed the ID number)
/// under the upstream code `code`; returns that client as `parent` registered it.
pub async fn link(
    child: &TestServer,
    parent: &TestServer,
    code: &'static str,
    name: &'static str,
) -> TestClient {
    let node = parent
        .client(ClientSpec {
            name: format!("节点 {code}"),
            redirect_uri: child.url("/federation/callback"),
            scopes: ["openid", "profile", "id_number"]
                .map(String::from)
                .to_vec(),
            first_party: true,
            // Logout along the chain: the parent tells the child when the session ends.
            backchannel_logout_uri: Some(child.url("/federation/backchannel_logout")),
            ..ClientSpec::default()
        })
        .await;
    let (issuer, registered) = (parent.base.clone(), node.clone());
    child
        .with(move |svc| {
            let new = NewUpstream {
                code,
                name,
                issuer: &issuer,
                client_id: &registered.client_id,
                client_secret: registered.client_secret.as_deref().unwrap(),
            };
            upstreams::add(svc, &new, "test").unwrap().unwrap();
        })
        .await;
    node
}

/// A browser (one cookie jar) travelling across every node: follows each redirect wherever it
/// leads, and stops at a page or at the app's redirect URI. Returns the pages shown on the way.
pub struct Traveller {
    pub browser: Browser,
}

impl Traveller {
    pub fn at(&self, base: &str) -> Browser {
        Browser {
            http: self.browser.http.clone(),
            base: base.to_owned(),
        }
    }

    pub async fn travel(&self, from_base: &str, url: &str, app: &TestClient) -> (Page, usize) {
        let mut base = from_base.to_owned();
        let mut page = self.at(&base).get(url).await;
        let mut hops = 0;
        while let Some(loc) = page.location.clone() {
            if loc.starts_with(&app.redirect_uri) {
                return (page, hops);
            }
            if !loc.starts_with('/') {
                let u = url::Url::parse(&loc).unwrap();
                base = format!("{}://{}", u.scheme(), u.host_str().unwrap());
                if let Some(port) = u.port() {
                    base = format!("{base}:{port}");
                }
            }
            page = self.at(&base).get(&loc).await;
            hops += 1;
            assert!(hops < 40, "redirect loop at {loc}");
        }
        (page, hops)
    }
}
