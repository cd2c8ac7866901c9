//! A third-party OpenID provider in a test: the npm `oidc-provider` (the OpenID-certified
//! reference implementation) as the conformance suite runs it (`conformance/reference-op`),
//! with its admin API for users and clients. Needs `conformance/install.sh` to have run.
#![allow(dead_code, clippy::unwrap_used)]

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct ReferenceOp {
    child: Child,
    pub base: String,
    admin_token: String,
}

impl Drop for ReferenceOp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl ReferenceOp {
    pub async fn start() -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../conformance");
        assert!(
            dir.join("node_modules/oidc-provider").is_dir(),
            "oidc-provider is not installed: run conformance/install.sh (scripts/test.sh does)"
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let base = format!("http://127.0.0.1:{port}");
        let admin_token = keys::random_token(16);
        let mut child = Command::new("node")
            .arg(dir.join("reference-op/server.mjs"))
            .current_dir(&dir)
            .env("REF_ISSUER", &base)
            .env("REF_PORT", port.to_string())
            .env("REF_ADMIN_TOKEN", &admin_token)
            .stdout(Stdio::piped())
            .spawn()
            .expect("node is installed");
        // It prints one line when it accepts connections: wait for it, not for a timer.
        let stdout = child.stdout.take().unwrap();
        let line = tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
            line
        })
        .await
        .unwrap();
        assert!(
            line.contains("listening on"),
            "oidc-provider did not start: {line:?}"
        );
        Self {
            child,
            base,
            admin_token,
        }
    }

    async fn admin(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.admin_token)
            .json(&body)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{path}: {}", r.status());
        r.json().await.unwrap()
    }

    /// A citizen whose account lives there, with their (verified) ID number.
    pub async fn user(&self, id_number: &str, name: &str, password: &str) {
        self.admin(
            "/__admin/users",
            serde_json::json!({ "id_number": id_number, "name": name, "password": password }),
        )
        .await;
    }

    /// A confidential client (client_secret_basic); returns its id and secret.
    pub async fn client(
        &self,
        name: &str,
        redirect_uri: &str,
        scopes: &[&str],
    ) -> (String, String) {
        let c = self
            .admin(
                "/__admin/clients",
                serde_json::json!({
                    "name": name,
                    "redirect_uris": [redirect_uri],
                    "scopes": scopes,
                    "id_token_alg": "ES256",
                }),
            )
            .await;
        (
            c["client_id"].as_str().unwrap().to_owned(),
            c["client_secret"].as_str().unwrap().to_owned(),
        )
    }
}
