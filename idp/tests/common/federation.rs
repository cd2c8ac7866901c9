//! Wiring federation nodes together in a test.
#![allow(dead_code, clippy::unwrap_used)]

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
