//! The JWT attack corpus of the reliability issue (RFC 8725, RFC 9700, the OAuch checklist),
//! applied over HTTP at every place the provider accepts a JWT: access tokens (userinfo,
//! introspection, revocation, the app API, the credential endpoint, token exchange), ID token
//! hints (authorization and logout), request objects, private_key_jwt client assertions, DPoP
//! proofs, OpenID4VCI proofs, and what an upstream sends (ID tokens, back-channel logout tokens).
//! Each forgery is refused with that endpoint's own protocol error and changes nothing; the
//! genuine token passes at each place, so every refusal is one the endpoint could have not given.
#![allow(clippy::unwrap_used)]
mod common;

use actix_web::{web, App, HttpResponse, HttpServer};
use common::app::{self, Device};
use common::browser::{query_of, Browser};
use common::flow::{self, Reply};
use common::{id_number, ClientSpec, TestClient, TestServer, PASSWORD};
use hmac::{Hmac, Mac};
use idp::domain::client::{AuthMethod, GrantType, RequestObjectAlg};
use idp::domain::licence::{Holder, ImportRecord};
use idp::flows::{clients, licences, upstreams, vci};
use keys::{Alg, SigningKey};
use serde_json::{json, Map, Value};
use std::sync::{Arc, Mutex};

type Claims = Map<String, Value>;

const EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The order of the P-256 group: r = s = n is the other classic "always valid" ECDSA signature.
const P256_N: &str = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551";

/// `kid` values that try to reach a file, a query or a parser.
const KIDS: [&str; 6] = [
    "../../../../../../dev/null",
    "' OR '1'='1' --",
    "x'; DROP TABLE signing_keys; --",
    "/proc/self/environ",
    "\u{0}",
    "{\"$ne\":null}",
];

/// The key an endpoint trusts for the tokens under attack.
struct Trusted<'a> {
    key: &'a SigningKey,
    /// The public JWK as the endpoint publishes or registered it, as text: the HMAC secret of
    /// the algorithm-confusion attack.
    jwk_text: String,
    /// Proofs (DPoP, OpenID4VCI) carry their key in the `jwk` header; other tokens name it by
    /// `kid`.
    self_signed: bool,
    typ: &'a str,
}

/// One forged token and what it tries.
struct Forgery {
    what: String,
    token: String,
    /// Signed by the trusted key itself, refused only for a forbidden header member (`jku`,
    /// `x5u`, `x5c`, a `kid` in a proof): a verifier that merely ignores the member is not fooled.
    header_only: bool,
}

fn b64(bytes: &[u8]) -> String {
    flow::b64url(bytes)
}

fn public_members(key: &SigningKey) -> Value {
    Value::Object(
        key.public_jwk()
            .into_iter()
            .filter(|(k, _)| ["kty", "crv", "x", "y", "n", "e"].contains(&k.as_str()))
            .collect(),
    )
}

fn with(mut base: Claims, extra: &[(&str, Value)]) -> Claims {
    for (k, v) in extra {
        base.insert((*k).to_owned(), v.clone());
    }
    base
}

fn assemble(header: &Value, claims: &Claims, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        b64(header.to_string().as_bytes()),
        b64(Value::Object(claims.clone()).to_string().as_bytes()),
        b64(signature)
    )
}

fn hs256(header: &Value, claims: &Claims, secret: &[u8]) -> String {
    let input = format!(
        "{}.{}",
        b64(header.to_string().as_bytes()),
        b64(Value::Object(claims.clone()).to_string().as_bytes())
    );
    let mut mac = <Hmac<sha2::Sha256> as Mac>::new_from_slice(secret).unwrap();
    mac.update(input.as_bytes());
    format!("{input}.{}", b64(&mac.finalize().into_bytes()))
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

impl Trusted<'_> {
    /// How a token names this key: `kid`, or the key itself in `jwk` for a proof.
    fn naming(&self) -> Claims {
        let mut h = Map::new();
        if self.self_signed {
            h.insert("jwk".into(), public_members(self.key));
        } else {
            h.insert("kid".into(), json!(self.key.kid()));
        }
        h
    }

    fn header(&self, alg: &str) -> Value {
        let mut h = self.naming();
        h.insert("alg".into(), json!(alg));
        h.insert("typ".into(), json!(self.typ));
        Value::Object(h)
    }

    /// The token as the legitimate signer makes it: the control every forgery is measured by.
    fn genuine(&self, claims: &Claims) -> String {
        self.key
            .sign_jwt_with_header(self.typ, &self.naming(), claims)
            .unwrap()
    }

    /// The corpus: every forgery of a token with `claims`, then `bent` (claims a genuine
    /// signature does not make acceptable: expired, for another audience, ...).
    fn forgeries(&self, claims: &Claims, bent: Vec<(&str, Claims)>) -> Vec<Forgery> {
        let stranger = SigningKey::generate(Alg::ES256).unwrap();
        let mut out = Vec::new();
        let mut push = |what: &str, token: String, header_only: bool| {
            out.push(Forgery {
                what: what.to_owned(),
                token,
                header_only,
            })
        };
        for alg in ["none", "None", "NONE", "nOnE"] {
            push(
                &format!("alg {alg}"),
                assemble(&self.header(alg), claims, b""),
                false,
            );
        }
        let genuine = self.genuine(claims);
        let kept = genuine.rsplit('.').next().unwrap();
        push(
            "alg none with the genuine signature kept",
            format!(
                "{}.{}.{kept}",
                b64(self.header("none").to_string().as_bytes()),
                b64(Value::Object(claims.clone()).to_string().as_bytes())
            ),
            false,
        );
        push(
            "HS256 keyed with the public JWK",
            hs256(&self.header("HS256"), claims, self.jwk_text.as_bytes()),
            false,
        );
        let x = self.key.public_jwk()["x"].as_str().unwrap_or("").to_owned();
        push(
            "HS256 keyed with the public key's x coordinate",
            hs256(&self.header("HS256"), claims, x.as_bytes()),
            false,
        );
        push(
            "HS256 keyed with nothing, kid pointing at /dev/null",
            hs256(
                &json!({"alg": "HS256", "typ": self.typ, "kid": KIDS[0]}),
                claims,
                b"",
            ),
            false,
        );
        push(
            "signed by a stranger under the trusted key's name",
            stranger
                .sign_jwt_with_header(self.typ, &self.naming(), claims)
                .unwrap(),
            false,
        );
        let stranger_naming = if self.self_signed {
            with(Map::new(), &[("jwk", public_members(&stranger))])
        } else {
            with(Map::new(), &[("kid", json!(stranger.kid()))])
        };
        if !self.self_signed {
            push(
                "the stranger's key embedded (jwk) under the trusted kid",
                stranger
                    .sign_jwt_with_header(
                        self.typ,
                        &with(self.naming(), &[("jwk", public_members(&stranger))]),
                        claims,
                    )
                    .unwrap(),
                false,
            );
            push(
                "the stranger's key embedded (jwk), no kid",
                stranger.sign_self_contained(self.typ, claims).unwrap(),
                false,
            );
        }
        push(
            "jku naming the stranger's keys",
            stranger
                .sign_jwt_with_header(
                    self.typ,
                    &with(
                        stranger_naming.clone(),
                        &[("jku", json!("https://attacker.example/jwks.json"))],
                    ),
                    claims,
                )
                .unwrap(),
            false,
        );
        push(
            "x5u naming the stranger's certificate",
            stranger
                .sign_jwt_with_header(
                    self.typ,
                    &with(
                        stranger_naming,
                        &[("x5u", json!("https://attacker.example/cert.pem"))],
                    ),
                    claims,
                )
                .unwrap(),
            false,
        );
        for (member, value) in [
            ("jku", json!("https://attacker.example/jwks.json")),
            ("x5u", json!("https://attacker.example/cert.pem")),
            ("x5c", json!(["MIIBszCCAVmgAwIBAgIUKzHhAttacker"])),
        ] {
            push(
                &format!("{member} beside a genuine signature"),
                self.key
                    .sign_jwt_with_header(
                        self.typ,
                        &with(self.naming(), &[(member, value)]),
                        claims,
                    )
                    .unwrap(),
                true,
            );
        }
        for kid in KIDS {
            let what = format!("kid injection {kid:?}");
            if self.self_signed {
                // A proof names its key by `jwk` only: a kid beside it is refused outright.
                let token = self
                    .key
                    .sign_jwt_with_header(
                        self.typ,
                        &with(self.naming(), &[("kid", json!(kid))]),
                        claims,
                    )
                    .unwrap();
                push(&what, token, true);
            } else {
                let token = stranger
                    .sign_jwt_with_header(
                        self.typ,
                        &with(Map::new(), &[("kid", json!(kid))]),
                        claims,
                    )
                    .unwrap();
                push(&what, token, false);
            }
        }
        push(
            "ECDSA signature r = s = 0",
            assemble(&self.header("ES256"), claims, &[0u8; 64]),
            false,
        );
        push(
            "ECDSA signature r = s = n",
            assemble(
                &self.header("ES256"),
                claims,
                &[hex(P256_N), hex(P256_N)].concat(),
            ),
            false,
        );
        let mut parts = genuine.split('.');
        let (head, payload, sig) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap(),
        );
        let altered = with(claims.clone(), &[("tampered", json!(true))]);
        push(
            "the payload changed after signing",
            format!(
                "{head}.{}.{sig}",
                b64(Value::Object(altered).to_string().as_bytes())
            ),
            false,
        );
        push(
            "the signature stripped",
            format!("{head}.{payload}."),
            false,
        );
        for (what, c) in bent {
            push(what, self.genuine(&c), false);
        }
        out
    }
}

/// Our published JWK of `kid`, as text, exactly as `/jwks` serves it.
async fn published_jwk(server: &TestServer, kid: &str) -> String {
    let jwks: Value = flow::http()
        .get(server.url("/jwks"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["kid"] == kid)
        .unwrap()
        .to_string()
}

fn object(v: &Value) -> Claims {
    v.as_object().unwrap().clone()
}

async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let text = resp.text().await.unwrap();
    Reply {
        status,
        headers,
        json: serde_json::from_str(&text).unwrap_or(Value::Null),
    }
}

/// A call with the DPoP scheme and a fresh, genuine proof for this request and token.
async fn with_dpop(
    server: &TestServer,
    device: &Device,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Reply {
    let url = server.url(path);
    let mut req = match method {
        "GET" => flow::http().get(&url),
        _ => flow::http().post(&url),
    };
    req = req
        .header("Authorization", format!("DPoP {token}"))
        .header("DPoP", device.proof(method, &url, None, Some(token)));
    if let Some(b) = body {
        req = req.json(b);
    }
    reply(req.send().await.unwrap()).await
}

fn challenge(r: &Reply) -> String {
    r.www_authenticate().unwrap_or_default()
}

fn assert_invalid_token(r: &Reply, what: &str, place: &str) {
    assert_eq!(
        r.status,
        401,
        "{what} at {place}: {} {:?}",
        r.json,
        challenge(r)
    );
    // RFC 6750 3.1: the challenge says invalid_token; the app API (whose errors are JSON, see
    // the README) says it in its body.
    assert!(
        challenge(r).contains(r#"error="invalid_token""#) || r.error() == "invalid_token",
        "{what} at {place}: {} {}",
        challenge(r),
        r.json
    );
}

async fn userinfo_post(server: &TestServer, token: &str) -> Reply {
    let resp = flow::http()
        .post(server.url("/userinfo"))
        .form(&[("access_token", token)])
        .send()
        .await
        .unwrap();
    reply(resp).await
}

async fn introspect(server: &TestServer, client: &TestClient, token: &str) -> Reply {
    flow::as_client(server, client, "/introspect", &[("token", token)]).await
}

async fn exchange(
    server: &TestServer,
    client: &TestClient,
    api: &TestClient,
    token: &str,
) -> Reply {
    let form = [
        ("grant_type", EXCHANGE),
        ("subject_token", token),
        ("subject_token_type", ACCESS_TOKEN_TYPE),
        ("audience", api.client_id.as_str()),
    ];
    flow::as_client(server, client, "/token", &form).await
}

#[actix_web::test]
async fn forged_access_tokens_are_refused_wherever_an_access_token_is_accepted() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 201);
    server.user(&citizen, PASSWORD).await;
    let app = server
        .client(ClientSpec {
            grant_types: vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::TokenExchange,
            ],
            ..ClientSpec::default()
        })
        .await;
    let api = server
        .client(ClientSpec {
            name: "跨省接口".into(),
            redirect_uri: "http://127.0.0.1:9/api".into(),
            grant_types: vec![GrantType::ClientCredentials],
            first_party: true,
            ..ClientSpec::default()
        })
        .await;
    let browser = Browser::new(&server.base);
    let access = flow::tokens(
        &server,
        &browser,
        &app,
        &citizen,
        PASSWORD,
        &[("scope", "openid profile")],
    )
    .await
    .str("access_token");
    let key = server.svc.keys.signer(Alg::ES256);
    let trusted = Trusted {
        key: &key,
        jwk_text: published_jwk(&server, key.kid()).await,
        self_signed: false,
        typ: "at+jwt",
    };
    let (_, claims) = flow::jwt_parts(&access);
    let claims = object(&claims);
    let ours = trusted.genuine(&claims);
    let r = flow::userinfo(&server, Some(&ours)).await;
    assert_eq!(r.status, 200, "the corpus signs as we do");
    let now = flow::now(&server);
    let bent = vec![
        (
            "expired",
            with(
                claims.clone(),
                &[("exp", json!(now - 1)), ("iat", json!(now - 601))],
            ),
        ),
        (
            "for another audience",
            // Its own jti: it is genuinely ours, so its client may revoke it.
            with(
                claims.clone(),
                &[
                    ("aud", json!("https://api.elsewhere.example")),
                    ("jti", json!(keys::random_token(16))),
                ],
            ),
        ),
    ];
    // The genuine token passes everywhere.
    assert_eq!(flow::userinfo(&server, Some(&access)).await.status, 200);
    assert_eq!(userinfo_post(&server, &access).await.status, 200);
    assert_eq!(
        introspect(&server, &app, &access).await.json["active"],
        true
    );
    let exchanged = exchange(&server, &app, &api, &access).await;
    assert_eq!(exchanged.status, 200, "{}", exchanged.json);

    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        let r = flow::userinfo(&server, Some(&f.token)).await;
        assert_invalid_token(&r, what, "GET /userinfo");
        let r = userinfo_post(&server, &f.token).await;
        assert_invalid_token(&r, what, "POST /userinfo");
        // Introspection describes any live token of ours to its client, whatever its audience:
        // the resource server checks `aud` itself (RFC 7662 2.2, RFC 9068 4).
        if what != "for another audience" {
            let r = introspect(&server, &app, &f.token).await;
            assert_eq!(r.status, 200, "{what} at /introspect");
            assert_eq!(r.json, json!({"active": false}), "{what} at /introspect");
        }
        let r = exchange(&server, &app, &api, &f.token).await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_request"),
            "{what} at token exchange: {}",
            r.json
        );
        // RFC 7009: always 200, and a forgery carrying the genuine jti revokes nothing.
        let r = flow::as_client(&server, &app, "/revoke", &[("token", &f.token)]).await;
        assert_eq!(r.status, 200, "{what} at /revoke");
    }
    // Nothing changed: the genuine token still works, and revoking it really does revoke it.
    assert_eq!(flow::userinfo(&server, Some(&access)).await.status, 200);
    assert_eq!(
        introspect(&server, &app, &access).await.json["active"],
        true
    );
    flow::as_client(&server, &app, "/revoke", &[("token", &access)]).await;
    let r = flow::userinfo(&server, Some(&access)).await;
    assert_invalid_token(&r, "the genuine token, revoked", "/userinfo");
    server.stop().await;
}

/// The government app's DPoP-bound token: a forgery presented with the DPoP scheme and a genuine
/// proof by the bound device key is still refused at userinfo, the app API and the credential
/// endpoint.
#[actix_web::test]
async fn forged_bound_tokens_are_refused_even_with_a_genuine_proof() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 202);
    server.user(&citizen, PASSWORD).await;
    let gov_app = app::register(&server).await;
    let (device, access) = app::logged_in(&server, &gov_app, &citizen, PASSWORD).await;
    let key = server.svc.keys.signer(Alg::ES256);
    let trusted = Trusted {
        key: &key,
        jwk_text: published_jwk(&server, key.kid()).await,
        self_signed: false,
        typ: "at+jwt",
    };
    let (_, claims) = flow::jwt_parts(&access);
    let claims = object(&claims);
    assert_eq!(claims["cnf"]["jkt"], device.jkt());
    let now = flow::now(&server);
    let bent = vec![
        (
            "expired",
            with(
                claims.clone(),
                &[("exp", json!(now - 1)), ("iat", json!(now - 601))],
            ),
        ),
        (
            "for another audience",
            with(
                claims.clone(),
                &[("aud", json!("https://api.elsewhere.example"))],
            ),
        ),
    ];
    let credential_request = json!({
        "credential_configuration_id": "medical_insurance",
        "proofs": {"jwt": ["a.b.c"]},
    });
    // The genuine token passes (the credential endpoint then wants a licence scope it lacks).
    let ok = with_dpop(&server, &device, "GET", "/userinfo", &access, None).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let ok = with_dpop(&server, &device, "GET", "/app/devices", &access, None).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
    let ok = with_dpop(
        &server,
        &device,
        "POST",
        "/credential",
        &access,
        Some(&credential_request),
    )
    .await;
    assert_eq!(ok.status, 403, "insufficient_scope: {}", ok.json);

    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        for (method, path, body) in [
            ("GET", "/userinfo", None),
            ("GET", "/app/devices", None),
            ("POST", "/credential", Some(&credential_request)),
        ] {
            let r = with_dpop(&server, &device, method, path, &f.token, body).await;
            assert_invalid_token(&r, what, path);
        }
    }
    let ok = with_dpop(&server, &device, "GET", "/app/devices", &access, None).await;
    assert_eq!(ok.status, 200, "nothing changed: {}", ok.json);
    server.stop().await;
}

#[actix_web::test]
async fn forged_id_token_hints_are_refused_at_authorize_and_logout() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 203);
    server.user(&citizen, PASSWORD).await;
    let app = server.client(ClientSpec::default()).await;
    // A browser with a session and the app's consent: an accepted hint would get a code at once.
    let browser = Browser::new(&server.base);
    let id_token = flow::tokens(&server, &browser, &app, &citizen, PASSWORD, &[])
        .await
        .str("id_token");
    let (header, claims) = flow::jwt_parts(&id_token);
    let claims = object(&claims);
    let key = server.svc.keys.signer(Alg::ES256);
    assert_eq!(header["kid"], key.kid());
    let trusted = Trusted {
        key: &key,
        jwk_text: published_jwk(&server, key.kid()).await,
        self_signed: false,
        typ: header["typ"].as_str().unwrap_or("JWT"),
    };
    let silent = |hint: &str| {
        flow::authorize_url(
            &server,
            &app,
            &[("prompt", "none"), ("id_token_hint", hint)],
        )
    };
    let logout = |hint: &str| {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("id_token_hint", hint)
            .append_pair("post_logout_redirect_uri", "http://127.0.0.1:9/bye")
            .append_pair("state", "bye-1")
            .finish();
        format!("/logout?{q}")
    };

    // The genuine hint is accepted silently.
    let page = browser.get(&silent(&trusted.genuine(&claims))).await;
    assert!(
        query_of(&page.location.unwrap()).contains_key("code"),
        "the genuine hint gets a code"
    );

    // Expired hints are accepted by design (OIDC Core 3.1.2.1), and the hint's audience is not
    // the requesting app's business at /authorize: neither is in the corpus there.
    for f in trusted.forgeries(&claims, vec![]) {
        let what = f.what.as_str();
        let page = browser.get(&silent(&f.token)).await;
        let loc = page
            .location
            .unwrap_or_else(|| panic!("{what}: {} {}", page.status, page.body));
        assert!(loc.starts_with(&app.redirect_uri), "{what}: {loc}");
        let q = query_of(&loc);
        assert!(!q.contains_key("code"), "{what} got a code");
        assert_eq!(
            q.get("error").map(String::as_str),
            Some("invalid_request"),
            "{what}"
        );
        assert_eq!(q.get("state").map(String::as_str), Some("st-1"), "{what}");
        assert_eq!(q.get("iss"), Some(&server.base), "{what}");
    }

    // At logout an accepted hint would end the session without asking and send the browser to
    // the app: every forgery gets the error page instead, and the session lives on.
    let bent = vec![(
        "naming an app that does not exist",
        with(claims.clone(), &[("aud", json!("https://evil.example/"))]),
    )];
    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        let page = browser.get(&logout(&f.token)).await;
        assert_eq!(page.status, 400, "{what}: {}", page.body);
        assert!(page.location.is_none(), "{what} redirected");
        assert!(page.body.contains(r#"class="message""#), "{what}");
        assert!(logged_in(&browser).await, "{what} ended the session");
    }
    let done = browser.get(&logout(&trusted.genuine(&claims))).await;
    assert_eq!(
        done.location.as_deref(),
        Some("http://127.0.0.1:9/bye?state=bye-1"),
        "the genuine hint logs out at once"
    );
    assert!(!logged_in(&browser).await);
    server.stop().await;
}

#[actix_web::test]
async fn forged_request_objects_are_refused() {
    let server = TestServer::start().await;
    let citizen = id_number(33, 204);
    server.user(&citizen, PASSWORD).await;
    let client_key = SigningKey::generate(Alg::ES256).unwrap();
    let jwk = Value::Object(client_key.public_jwk());
    let registered_jwks = json!({ "keys": [jwk] });
    let registered = server
        .with(move |s| {
            clients::register(
                s,
                clients::NewClient {
                    name: "签名请求应用".into(),
                    redirect_uris: vec!["http://127.0.0.1:9/cb".into()],
                    post_logout_redirect_uris: vec![],
                    auth_method: AuthMethod::ClientSecretBasic,
                    grant_types: vec![GrantType::AuthorizationCode],
                    scopes: vec!["openid".into(), "profile".into()],
                    id_token_alg: Alg::ES256,
                    jwks: Some(registered_jwks),
                    jwks_uri: None,
                    request_object_alg: Some(RequestObjectAlg::Signed(Alg::ES256)),
                    backchannel_logout_uri: None,
                    approve: true,
                    metadata: Map::new(),
                    registration_token_hash: None,
                },
                "test",
            )
            .unwrap()
        })
        .await;
    let client = TestClient {
        client_id: registered.client_id,
        client_secret: registered.client_secret,
        redirect_uri: "http://127.0.0.1:9/cb".into(),
    };
    // Session and consent: an accepted request object would be answered with a code at once.
    let browser = Browser::new(&server.base);
    flow::code(&server, &browser, &client, &citizen, PASSWORD, &[]).await;
    let trusted = Trusted {
        key: &client_key,
        jwk_text: jwk.to_string(),
        self_signed: false,
        typ: "oauth-authz-req+jwt",
    };
    let now = flow::now(&server);
    let claims = object(&json!({
        "iss": client.client_id, "aud": server.base, "iat": now, "exp": now + 300,
        "client_id": client.client_id, "response_type": "code", "scope": "openid",
        "redirect_uri": client.redirect_uri, "state": "st-1", "nonce": "n-1",
    }));
    let bent = vec![
        (
            "expired",
            with(
                claims.clone(),
                &[("exp", json!(now - 1)), ("iat", json!(now - 301))],
            ),
        ),
        (
            "for another provider",
            with(
                claims.clone(),
                &[("aud", json!("https://op.elsewhere.example"))],
            ),
        ),
        (
            "issued by another client",
            with(claims.clone(), &[("iss", json!("someone-else"))]),
        ),
    ];
    let send = |jwt: &str| flow::authorize_url(&server, &client, &[("request", jwt)]);
    let page = browser.get(&send(&trusted.genuine(&claims))).await;
    let loc = page.location.unwrap_or_default();
    assert!(
        query_of(&loc).contains_key("code"),
        "the genuine request object is answered: {loc} {}",
        page.body
    );
    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        let page = browser.get(&send(&f.token)).await;
        let loc = page
            .location
            .unwrap_or_else(|| panic!("{what}: {} {}", page.status, page.body));
        assert!(loc.starts_with(&client.redirect_uri), "{what}: {loc}");
        let q = query_of(&loc);
        assert!(!q.contains_key("code"), "{what} got a code");
        assert_eq!(
            q.get("error").map(String::as_str),
            Some("invalid_request_object"),
            "{what}: {loc}"
        );
        assert_eq!(q.get("iss"), Some(&server.base), "{what}");
    }
    server.stop().await;
}

async fn assertion_request(server: &TestServer, assertion: &str) -> Reply {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_assertion_type", JWT_BEARER),
        ("client_assertion", assertion),
    ];
    flow::post_form(server, "/token", None, &form).await
}

#[actix_web::test]
async fn forged_client_assertions_are_refused() {
    let server = TestServer::start().await;
    let client_key = SigningKey::generate(Alg::ES256).unwrap();
    let jwk = Value::Object(client_key.public_jwk());
    let client = server
        .client(ClientSpec {
            auth_method: AuthMethod::PrivateKeyJwt,
            grant_types: vec![GrantType::ClientCredentials],
            jwks: Some(json!({ "keys": [jwk] })),
            ..ClientSpec::default()
        })
        .await;
    let trusted = Trusted {
        key: &client_key,
        jwk_text: jwk.to_string(),
        self_signed: false,
        typ: "JWT",
    };
    let now = flow::now(&server);
    let claims = object(&json!({
        "iss": client.client_id, "sub": client.client_id, "aud": server.url("/token"),
        "iat": now, "exp": now + 60, "jti": keys::random_token(16),
    }));
    let fresh = |c: Claims| with(c, &[("jti", json!(keys::random_token(16)))]);
    let bent = vec![
        (
            "expired",
            fresh(with(
                claims.clone(),
                &[("exp", json!(now - 60)), ("iat", json!(now - 120))],
            )),
        ),
        (
            "for another provider",
            fresh(with(
                claims.clone(),
                &[("aud", json!("https://op.elsewhere.example/token"))],
            )),
        ),
        (
            "naming another client as subject",
            fresh(with(claims.clone(), &[("sub", json!("someone-else"))])),
        ),
    ];
    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        let r = assertion_request(&server, &f.token).await;
        assert_eq!(
            (r.status, r.error()),
            (401, "invalid_client"),
            "{what}: {}",
            r.json
        );
        assert!(r.json.get("access_token").is_none(), "{what}");
    }
    // Nothing was spent: the genuine assertion (same jti as the forgeries) still works, once.
    let genuine = trusted.genuine(&claims);
    let r = assertion_request(&server, &genuine).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = assertion_request(&server, &genuine).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"), "a replay");
    server.stop().await;
}

async fn dpop_token_request(server: &TestServer, client: &TestClient, proof: &str) -> Reply {
    let resp = flow::http()
        .post(server.url("/token"))
        .basic_auth(&client.client_id, client.client_secret.as_deref())
        .header("DPoP", proof)
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    reply(resp).await
}

async fn dpop_userinfo(server: &TestServer, access: &str, proof: &str) -> Reply {
    let resp = flow::http()
        .get(server.url("/userinfo"))
        .header("Authorization", format!("DPoP {access}"))
        .header("DPoP", proof)
        .send()
        .await
        .unwrap();
    reply(resp).await
}

#[actix_web::test]
async fn forged_dpop_proofs_are_refused_at_the_token_endpoint_and_with_a_bound_token() {
    let server = TestServer::start().await;
    let client = server
        .client(ClientSpec {
            grant_types: vec![GrantType::ClientCredentials],
            dpop: true,
            ..ClientSpec::default()
        })
        .await;
    let device_key = SigningKey::generate(Alg::ES256).unwrap();
    let trusted = Trusted {
        key: &device_key,
        jwk_text: public_members(&device_key).to_string(),
        self_signed: true,
        typ: "dpop+jwt",
    };
    let token_url = server.url("/token");
    let now = flow::now(&server);
    let first = dpop_token_request(
        &server,
        &client,
        &trusted.genuine(&object(&json!({
            "jti": keys::random_token(16), "htm": "POST", "htu": token_url, "iat": now,
        }))),
    )
    .await;
    assert_eq!(first.error(), "use_dpop_nonce");
    let nonce = first.headers["dpop-nonce"].to_str().unwrap().to_owned();
    let claims = object(&json!({
        "jti": keys::random_token(16), "htm": "POST", "htu": token_url, "iat": now,
        "nonce": nonce,
    }));
    let fresh = |c: Claims| with(c, &[("jti", json!(keys::random_token(16)))]);
    let bent = vec![
        (
            "issued ten minutes ago",
            fresh(with(claims.clone(), &[("iat", json!(now - 600))])),
        ),
        (
            "for another URL",
            fresh(with(
                claims.clone(),
                &[("htu", json!(server.url("/userinfo")))],
            )),
        ),
        (
            "for another method",
            fresh(with(claims.clone(), &[("htm", json!("GET"))])),
        ),
    ];
    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        let r = dpop_token_request(&server, &client, &f.token).await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_dpop_proof"),
            "{what} at /token: {}",
            r.json
        );
    }
    // Nothing was spent: the genuine proof (same jti as the forgeries) gets a bound token, once.
    let genuine = trusted.genuine(&claims);
    let r = dpop_token_request(&server, &client, &genuine).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["token_type"], "DPoP");
    let r = dpop_token_request(&server, &client, &genuine).await;
    assert_eq!(r.error(), "invalid_dpop_proof", "a replay");

    // A citizen's token bound to the app's device key, at userinfo.
    let citizen = id_number(33, 205);
    server.user(&citizen, PASSWORD).await;
    let gov_app = app::register(&server).await;
    let (device, access) = app::logged_in(&server, &gov_app, &citizen, PASSWORD).await;
    let trusted = Trusted {
        key: &device.key,
        jwk_text: public_members(&device.key).to_string(),
        self_signed: true,
        typ: "dpop+jwt",
    };
    let url = server.url("/userinfo");
    let claims = object(&json!({
        "jti": keys::random_token(16), "htm": "GET", "htu": url, "iat": now,
        "ath": keys::sha256_b64(access.as_bytes()),
    }));
    let bent = vec![
        (
            "issued ten minutes ago",
            fresh(with(claims.clone(), &[("iat", json!(now - 600))])),
        ),
        (
            "for another URL",
            fresh(with(
                claims.clone(),
                &[("htu", json!(server.url("/app/devices")))],
            )),
        ),
        (
            "for another method",
            fresh(with(claims.clone(), &[("htm", json!("POST"))])),
        ),
        (
            "for another token",
            fresh(with(
                claims.clone(),
                &[("ath", json!(keys::sha256_b64(b"another")))],
            )),
        ),
    ];
    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        let r = dpop_userinfo(&server, &access, &f.token).await;
        assert_eq!(r.status, 401, "{what} at /userinfo: {}", r.json);
        let c = challenge(&r);
        assert!(
            c.starts_with("DPoP ") && c.contains("invalid_dpop_proof"),
            "{what}: {c}"
        );
    }
    let genuine = trusted.genuine(&claims);
    assert_eq!(dpop_userinfo(&server, &access, &genuine).await.status, 200);
    let r = dpop_userinfo(&server, &access, &genuine).await;
    assert_eq!(r.status, 401, "a replay");
    server.stop().await;
}

async fn credential_request(server: &TestServer, token: &str, proof: &str) -> Reply {
    let body = json!({
        "credential_configuration_id": "medical_insurance",
        "proofs": {"jwt": [proof]},
    });
    let resp = flow::http()
        .post(server.url("/credential"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap();
    reply(resp).await
}

#[actix_web::test]
async fn forged_credential_proofs_are_refused_and_nothing_is_issued() {
    let server = TestServer::start().await;
    let holder = id_number(44, 206);
    let record: ImportRecord = serde_json::from_value(json!({
        "type": "medical_insurance", "holder": holder,
        "claims": {"name": "王五", "insured_region": "广州市", "insurance_type": "城乡居民医保"}}))
    .unwrap();
    server
        .with(move |s| {
            licences::import(s, &[record], "operator:test")
                .unwrap()
                .unwrap()
        })
        .await;
    let h = Holder::Person(idp::domain::id_number::IdNumber::parse(&holder).unwrap());
    let offer = server
        .with(move |s| {
            vci::offer(s, &h, "medical_insurance", "operator:test")
                .unwrap()
                .unwrap()
        })
        .await;
    let offer_url = url::Url::parse(&offer.offer).unwrap();
    let (_, body) = offer_url
        .query_pairs()
        .find(|(k, _)| k == "credential_offer")
        .unwrap();
    let body: Value = serde_json::from_str(&body).unwrap();
    let code = body["grants"][vci::PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = flow::post_form(
        &server,
        "/token",
        None,
        &[
            ("grant_type", vci::PRE_AUTHORIZED_GRANT),
            ("pre-authorized_code", &code),
            ("tx_code", &offer.tx_code),
        ],
    )
    .await
    .str("access_token");
    let c_nonce: Value = flow::http()
        .post(server.url("/credential/nonce"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let wallet = SigningKey::generate(Alg::ES256).unwrap();
    let trusted = Trusted {
        key: &wallet,
        jwk_text: public_members(&wallet).to_string(),
        self_signed: true,
        typ: vci::PROOF_TYP,
    };
    let now = flow::now(&server);
    let claims = object(&json!({"aud": server.base, "iat": now, "nonce": c_nonce["c_nonce"]}));
    let bent = vec![
        (
            "issued ten minutes ago",
            with(claims.clone(), &[("iat", json!(now - 600))]),
        ),
        (
            "for another issuer",
            with(
                claims.clone(),
                &[("aud", json!("https://issuer.elsewhere.example"))],
            ),
        ),
    ];
    for f in trusted.forgeries(&claims, bent) {
        let what = f.what.as_str();
        let r = credential_request(&server, &token, &f.token).await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_proof"),
            "{what}: {}",
            r.json
        );
    }
    let issued = server
        .with(|s| {
            s.store
                .audit_recent(Some("licence.issued"), 10)
                .unwrap()
                .len()
        })
        .await;
    assert_eq!(issued, 0, "nothing was issued");
    let r = credential_request(&server, &token, &trusted.genuine(&claims)).await;
    assert_eq!(r.status, 200, "the genuine proof: {}", r.json);
    assert_eq!(r.json["credentials"].as_array().unwrap().len(), 1);
    server.stop().await;
}

/// What the fake upstream publishes and answers next.
struct Fake {
    issuer: String,
    published: Vec<Map<String, Value>>,
    next_id_token: String,
}

async fn start_fake_upstream() -> (String, Arc<Mutex<Fake>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let fake = Arc::new(Mutex::new(Fake {
        issuer: base.clone(),
        published: Vec::new(),
        next_id_token: String::new(),
    }));
    let state = fake.clone();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .route(
                "/.well-known/openid-configuration",
                web::get().to(|f: web::Data<Arc<Mutex<Fake>>>| async move {
                    let issuer = f.lock().unwrap().issuer.clone();
                    HttpResponse::Ok().json(json!({
                        "issuer": issuer,
                        "authorization_endpoint": format!("{issuer}/authorize"),
                        "token_endpoint": format!("{issuer}/token"),
                        "jwks_uri": format!("{issuer}/jwks"),
                        "response_types_supported": ["code"],
                        "subject_types_supported": ["public"],
                        "id_token_signing_alg_values_supported": ["ES256"],
                    }))
                }),
            )
            .route(
                "/jwks",
                web::get().to(|f: web::Data<Arc<Mutex<Fake>>>| async move {
                    HttpResponse::Ok().json(json!({ "keys": f.lock().unwrap().published }))
                }),
            )
            .route(
                "/token",
                web::post().to(|f: web::Data<Arc<Mutex<Fake>>>| async move {
                    HttpResponse::Ok().json(json!({
                        "access_token": "opaque",
                        "token_type": "Bearer",
                        "expires_in": 60,
                        "id_token": f.lock().unwrap().next_id_token,
                    }))
                }),
            )
    })
    .workers(1)
    .listen(listener)
    .unwrap()
    .run();
    actix_web::rt::spawn(server);
    (base, fake)
}

/// One trip to the upstream: its state and nonce, from the authorization URL.
async fn trip(browser: &Browser) -> (String, String) {
    let out = browser.get("/federation/start?upstream=33").await;
    let q = query_of(&out.location.expect("to the upstream"));
    (q["state"].clone(), q["nonce"].clone())
}

/// The upstream answers the trip with `token` as its ID token.
async fn answer(
    browser: &Browser,
    fake: &Arc<Mutex<Fake>>,
    state: &str,
    token: String,
) -> common::browser::Page {
    fake.lock().unwrap().next_id_token = token;
    browser
        .get(&format!("/federation/callback?state={state}&code=c"))
        .await
}

async fn upstream_logout(server: &TestServer, token: &str) -> Reply {
    let resp = flow::http()
        .post(server.url("/federation/backchannel_logout"))
        .form(&[("logout_token", token)])
        .send()
        .await
        .unwrap();
    reply(resp).await
}

async fn logged_in(browser: &Browser) -> bool {
    browser.get("/account").await.status == 200
}

/// What an upstream sends: its ID tokens (verified by the `openidconnect` crate) and its
/// back-channel logout tokens (by our own verifier) meet the same corpus.
#[actix_web::test]
async fn forged_upstream_id_tokens_and_logout_tokens_are_refused() {
    let (fake_base, fake) = start_fake_upstream().await;
    let upstream_key = SigningKey::generate(Alg::ES256).unwrap();
    fake.lock().unwrap().published = vec![upstream_key.public_jwk()];
    let here = TestServer::start_localhost().await;
    let issuer = fake_base.clone();
    let client_secret = "a-secret-of-the-hub-at-33";
    here.with(move |svc| {
        let new = upstreams::NewUpstream {
            code: "33",
            name: "浙江",
            issuer: &issuer,
            client_id: "hub-at-33",
            client_secret,
        };
        upstreams::add(svc, &new, "test").unwrap().unwrap();
    })
    .await;
    let browser = Browser::new(&here.base);
    let citizen = id_number(33, 207);
    let now = flow::now(&here);
    let trusted = Trusted {
        key: &upstream_key,
        jwk_text: Value::Object(upstream_key.public_jwk()).to_string(),
        self_signed: false,
        typ: "JWT",
    };
    let id_claims = |nonce: &str| {
        object(&json!({
            "iss": fake_base, "sub": "zj-0001", "aud": "hub-at-33", "iat": now, "exp": now + 300,
            "nonce": nonce, "sid": "zj-sid-1", "id_number": citizen, "name": "张三",
            "acr": idp::domain::acr::ACR_PASSWORD,
        }))
    };
    let bent = |nonce: &str| {
        vec![
            (
                "expired",
                with(
                    id_claims(nonce),
                    &[("exp", json!(now - 600)), ("iat", json!(now - 900))],
                ),
            ),
            (
                "for another client",
                with(id_claims(nonce), &[("aud", json!("someone-else"))]),
            ),
        ]
    };
    // The corpus is made anew for each trip (its nonce); the i-th forgery of each.
    let count = trusted.forgeries(&id_claims("n"), bent("n")).len();
    let mut tried = 0;
    for i in 0..count {
        let (state, nonce) = trip(&browser).await;
        let f = trusted
            .forgeries(&id_claims(&nonce), bent(&nonce))
            .swap_remove(i);
        if f.header_only {
            // openidconnect ignores jku, x5u and x5c and verifies with the upstream's JWKS only:
            // a token the upstream's key signed is the upstream's word, whatever else it says.
            continue;
        }
        let page = answer(&browser, &fake, &state, f.token).await;
        assert_eq!(page.status, 502, "{}: {}", f.what, page.body);
        assert!(page.body.contains("已拒绝并记录"), "{}", f.what);
        assert!(!logged_in(&browser).await, "{} logged someone in", f.what);
        tried += 1;
    }
    // Also an HMAC keyed with the client secret we share with the upstream: a legitimate OIDC
    // algorithm in general, not one we allow (anyone holding the secret could mint logins).
    let (state, nonce) = trip(&browser).await;
    let page = answer(
        &browser,
        &fake,
        &state,
        hs256(
            &json!({"alg": "HS256", "typ": "JWT"}),
            &id_claims(&nonce),
            client_secret.as_bytes(),
        ),
    )
    .await;
    assert_eq!(page.status, 502, "HS256 keyed with the client secret");
    assert!(!logged_in(&browser).await);
    let refused = here
        .with(|s| {
            s.store
                .audit_recent(Some("federation.refused"), 100)
                .unwrap()
                .len()
        })
        .await;
    assert_eq!(refused, tried + 1, "every refusal is audited");

    // The genuine ID token logs the citizen in (upstream session zj-sid-1).
    let (state, nonce) = trip(&browser).await;
    let page = answer(&browser, &fake, &state, trusted.genuine(&id_claims(&nonce))).await;
    assert_eq!(page.status, 302, "{}", page.body);
    assert!(logged_in(&browser).await);

    // Back-channel logout tokens from the upstream (verified by our own strict verifier).
    let logout = Trusted {
        typ: "logout+jwt",
        ..trusted
    };
    let logout_claims = object(&json!({
        "iss": fake_base, "aud": "hub-at-33", "iat": now, "exp": now + 120,
        "jti": keys::random_token(16), "sid": "zj-sid-1",
        "events": { "http://schemas.openid.net/event/backchannel-logout": {} },
    }));
    let fresh = |c: Claims| with(c, &[("jti", json!(keys::random_token(16)))]);
    let bent = vec![
        (
            "expired",
            fresh(with(
                logout_claims.clone(),
                &[("exp", json!(now - 480)), ("iat", json!(now - 600))],
            )),
        ),
        (
            "for another client",
            fresh(with(
                logout_claims.clone(),
                &[("aud", json!("someone-else"))],
            )),
        ),
    ];
    for f in logout.forgeries(&logout_claims, bent) {
        let r = upstream_logout(&here, &f.token).await;
        assert_eq!(
            (r.status, r.error()),
            (400, "invalid_request"),
            "{}: {}",
            f.what,
            r.json
        );
        assert!(logged_in(&browser).await, "{} ended the session", f.what);
    }
    let r = upstream_logout(&here, &logout.genuine(&logout_claims)).await;
    assert_eq!(r.status, 200, "the genuine logout token: {}", r.json);
    assert!(
        !logged_in(&browser).await,
        "the genuine logout token ends the session"
    );
    here.stop().await;
}
