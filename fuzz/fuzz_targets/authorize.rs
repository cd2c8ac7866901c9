//! The authorization request as `flows::authorize::start` reads it (GET query or POST form of
//! /authorize; there is no /par): `Params::parse_urlencoded`, the request object merged in by
//! `flows::request_object::resolve`, then `domain::authorize::validate`. The first byte picks
//! the way in: the rest as raw urlencoded bytes, or the rest as choices that build a request from
//! the parameters and values the provider knows, with a request object unsigned, signed by the
//! app's key or by a stranger's, so the fuzzer gets past the first checks.
//!
//! Beyond "no panic": a request that validates, or an error that is redirected, goes to a
//! redirect URI byte-identical to a registered one of an approved app; a validated request keeps
//! PKCE for public apps, asks only for scopes the app has, never gains the ID number scope from
//! `claims`, and survives being parked as JSON.
#![no_main]
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use idp::domain::authorize::{self, AuthorizeError};
use idp::domain::client::{Client, RequestObjectAlg};
use idp::domain::params::Params;
use idp::domain::scope::{self, ScopeSet};
use idp::flows::request_object;
use libfuzzer_sys::arbitrary::{Result as Built, Unstructured};
use libfuzzer_sys::fuzz_target;
use serde_json::{json, Map, Value};

mod provider;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    if mode & 1 == 0 {
        check(&Params::parse_urlencoded(rest));
    } else if let Ok(pairs) = build(&mut Unstructured::new(rest)) {
        let params = Params::from_pairs(pairs.clone());
        // The same pairs sent as a query string read back the same.
        let query = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(&pairs)
            .finish();
        let parsed = Params::parse_urlencoded(query.as_bytes());
        for (key, _) in &pairs {
            assert_eq!(params.get(key), parsed.get(key), "{key} after a round trip");
            assert_eq!(params.is_duplicated(key), parsed.is_duplicated(key));
        }
        check(&params);
    }
});

fn check(params: &Params) {
    let svc = provider::services();
    let client = provider::lookup(params.get("client_id"));
    let resolved;
    let params = match client {
        // As `start`: only an app that may start flows gets its request object read.
        Some(c) if c.may_start_flows() && request_object::has_request_object(params) => {
            // A request_uri alone is fetched from the network: not from a fuzzer.
            let Some(object) = params.get("request") else {
                return;
            };
            match request_object::resolve(svc, params, c) {
                Ok(merged) => {
                    check_resolved(&merged, c, object);
                    resolved = merged;
                    &resolved
                }
                Err(_) => {
                    if let Ok(target) = authorize::trusted_target(params, Some(c)) {
                        assert_registered(c, &target.redirect_uri);
                    }
                    return;
                }
            }
        }
        _ => params,
    };
    match authorize::validate(params, client) {
        Ok(request) => {
            let c = client.expect("a validated request has an app");
            assert!(c.may_start_flows());
            assert_eq!(request.client_id, c.client_id);
            assert_registered(c, &request.target.redirect_uri);
            assert_eq!(
                params.get("redirect_uri"),
                Some(request.target.redirect_uri.as_str())
            );
            let scopes = request.scopes();
            assert!(scopes.contains(scope::OPENID));
            assert!(
                scopes.iter().all(|s| c.allows_scope(s)),
                "{scopes:?} beyond {:?}",
                c.scopes
            );
            if scopes.contains(scope::ID_NUMBER) {
                let asked = ScopeSet::parse(params.get("scope").unwrap_or(""));
                assert!(asked.contains(scope::ID_NUMBER), "id_number from claims");
            }
            if c.is_public() {
                assert!(request.code_challenge.is_some(), "public app without PKCE");
            }
            if let Some(hint) = &request.login_hint {
                assert!(!idp::domain::id_number::IdNumber::looks_like(hint));
            }
            assert!(request
                .target
                .state
                .as_ref()
                .is_none_or(|s| s.len() <= 2048));
            assert!(request.nonce.as_ref().is_none_or(|n| n.len() <= 512));
            // Parked in the database as JSON while the citizen logs in.
            let parked = serde_json::to_string(&request).expect("serialises");
            let mut back: authorize::AuthorizationRequest =
                serde_json::from_str(&parked).expect("parses back");
            let claims = back.claims.take();
            let mut without = request.clone();
            let asked = without.claims.take();
            assert_eq!(back, without);
            assert!(same_json(claims.as_ref(), asked.as_ref()), "claims changed");
        }
        Err(AuthorizeError::Redirect(e)) => {
            let c = client.expect("an error is redirected only to an app");
            assert!(c.may_start_flows());
            assert_registered(c, &e.target.redirect_uri);
        }
        Err(AuthorizeError::Untrusted(_)) => {}
    }
}

/// JSON equality, except that a float may move by its last bit: serde_json parses floats
/// faster than exactly unless its `float_roundtrip` feature is on.
fn same_json(a: Option<&Value>, b: Option<&Value>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(Value::Number(x)), Some(Value::Number(y))) if x.is_f64() || y.is_f64() => {
            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
            (x - y).abs() <= f64::EPSILON * x.abs().max(y.abs())
        }
        (Some(Value::Array(x)), Some(Value::Array(y))) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| same_json(Some(x), Some(y)))
        }
        (Some(Value::Object(x)), Some(Value::Object(y))) => {
            x.len() == y.len() && x.iter().all(|(k, v)| same_json(Some(v), y.get(k)))
        }
        (a, b) => a == b,
    }
}

/// Exact match (RFC 9700 2.1): the very bytes of a registered URI.
fn assert_registered(client: &Client, uri: &str) {
    assert!(
        client
            .redirect_uris
            .iter()
            .any(|r| r.as_bytes() == uri.as_bytes()),
        "{uri:?} is not registered for {}",
        client.client_id
    );
}

/// What a request object that resolved must have been.
fn check_resolved(merged: &Params, client: &Client, object: &str) {
    assert!(merged.get("request").is_none() && merged.get("request_uri").is_none());
    let header = keys::peek_header(object.trim()).expect("it resolved, so it is a JWT");
    let unsigned = header.get("alg").and_then(Value::as_str) == Some("none");
    if unsigned {
        assert!(
            !matches!(client.request_object_alg, Some(RequestObjectAlg::Signed(_))),
            "an unsigned object for an app that registered a signing alg"
        );
    } else {
        // RFC 9101 10.2: a signed object is bounded in time, or a captured one replays forever.
        let payload = object.trim().split('.').nth(1).unwrap_or("");
        let claims: Value = URL_SAFE_NO_PAD
            .decode(payload)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .expect("it resolved, so its payload is JSON");
        // A NumericDate (RFC 7519 2) may have a fraction.
        let exp = claims.get("exp").and_then(Value::as_f64);
        assert!(
            exp.is_some_and(|exp| exp > provider::NOW as f64)
                || provider::open("request-object-exp"),
            "a signed request object resolved with exp {:?}",
            claims.get("exp")
        );
    }
    // OIDC Core 6.1: the object's client_id, if any, is the request's.
    assert!(
        merged.get("client_id") == Some(client.client_id.as_str())
            || provider::open("request-object-client-id"),
        "the request object changed client_id to {:?}",
        merged.get("client_id")
    );
}

/// Parameters the provider reads, with values worth trying.
const KNOWN: &[(&str, &[&str])] = &[
    (
        "client_id",
        &[
            provider::WEB_APP,
            provider::NATIVE_APP,
            provider::PENDING_APP,
        ],
    ),
    (
        "redirect_uri",
        &[
            "https://app.example/cb",
            "https://app.example/cb?tenant=1",
            "http://127.0.0.1:9000/cb",
            "cn.gov.app:/oauth",
            "http://localhost/cb",
            "https://app.example/cb/",
            "https://APP.example/cb",
            "https://app.example/cb?tenant=2",
            "https://app.example:443/cb",
        ],
    ),
    ("response_type", &["code", "token", "code id_token"]),
    ("response_mode", &["query", "form_post", "fragment"]),
    (
        "scope",
        &[
            "openid",
            "openid profile phone",
            "openid id_number",
            "openid licence:driving",
            "openid gov_app",
            "profile",
        ],
    ),
    ("state", &["s-1"]),
    ("nonce", &["n-1"]),
    (
        "code_challenge",
        &["E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM", "short"],
    ),
    ("code_challenge_method", &["S256", "plain"]),
    (
        "prompt",
        &["none", "login", "consent", "none consent", "select_account"],
    ),
    ("max_age", &["0", "600", "-1", "99999999999999999999"]),
    ("login_hint", &["11010119900307777X", "13800000000"]),
    (
        "acr_values",
        &["urn:cn:gov:idp:loa:3", "urn:cn:gov:idp:loa:2 x"],
    ),
    ("ui_locales", &["zh-CN", "en"]),
    (
        "claims",
        &[
            r#"{"id_token":{"phone_number":null}}"#,
            r#"{"userinfo":{"id_number":{"essential":true},"name":null}}"#,
            r#"{"userinfo":[]}"#,
        ],
    ),
    ("registration", &["{}"]),
    ("request_uri", &["https://app.example/request.jwt"]),
];

fn value(u: &mut Unstructured, known: &[&str]) -> Built<Option<String>> {
    Ok(match u.int_in_range(0..=4)? {
        0 | 1 => None,
        2 | 3 => Some((*u.choose(known)?).to_owned()),
        _ => Some(u.arbitrary()?),
    })
}

fn json_value(u: &mut Unstructured, known: &[&str]) -> Built<Option<Value>> {
    Ok(match u.int_in_range(0..=7)? {
        0 | 1 => None,
        2 | 3 => Some(json!(u.choose(known)?)),
        4 => Some(json!(u.arbitrary::<String>()?)),
        5 => Some(json!(u.arbitrary::<i64>()?)),
        6 => Some(Value::Null),
        _ => Some(match u.int_in_range(0..=3)? {
            0 => json!(u.arbitrary::<bool>()?),
            1 => json!(u.arbitrary::<f64>()?),
            2 => json!([u.choose(known)?]),
            _ => json!({ "v": u.choose(known)? }),
        }),
    })
}

fn build(u: &mut Unstructured) -> Built<Vec<(String, String)>> {
    let mut pairs = Vec::new();
    for (name, known) in KNOWN {
        if let Some(v) = value(u, known)? {
            pairs.push(((*name).to_owned(), v));
        }
    }
    for _ in 0..u.int_in_range(0..=3)? {
        let name = match u.arbitrary::<bool>()? {
            true => u.choose(KNOWN)?.0.to_owned(),
            false => u.arbitrary()?,
        };
        pairs.push((name, u.arbitrary()?));
    }
    if u.arbitrary::<bool>()? {
        let object = request_object(u)?;
        let at = u.int_in_range(0..=pairs.len())?;
        pairs.insert(at, ("request".into(), object));
    }
    Ok(pairs)
}

fn request_object(u: &mut Unstructured) -> Built<String> {
    let mut claims = Map::new();
    for (name, known) in KNOWN {
        if let Some(v) = json_value(u, known)? {
            claims.insert((*name).to_owned(), v);
        }
    }
    let envelope: [(&str, &[&str]); 3] = [
        ("iss", &[provider::WEB_APP, provider::NATIVE_APP]),
        ("aud", &[provider::ISSUER, "https://other.example"]),
        ("jti", &["j-1"]),
    ];
    for (name, known) in envelope {
        if let Some(v) = json_value(u, known)? {
            claims.insert(name.to_owned(), v);
        }
    }
    if u.arbitrary::<bool>()? {
        claims.insert("aud".into(), json!([provider::ISSUER]));
    }
    match u.int_in_range(0..=3)? {
        0 => {}
        1 => {
            claims.insert("exp".into(), json!(provider::NOW + 300));
        }
        2 => {
            claims.insert("exp".into(), json!(provider::NOW));
        }
        _ => {
            if let Some(v) = json_value(u, &["1800000300"])? {
                claims.insert("exp".into(), v);
            }
        }
    }
    Ok(match u.int_in_range(0..=3)? {
        0 => format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none"}"#),
            URL_SAFE_NO_PAD.encode(Value::Object(claims).to_string())
        ),
        1 => provider::app_key()
            .sign_jwt("oauth-authz-req+jwt", &claims)
            .unwrap_or_default(),
        2 => provider::stranger_key()
            .sign_jwt("oauth-authz-req+jwt", &claims)
            .unwrap_or_default(),
        _ => u.arbitrary()?,
    })
}
