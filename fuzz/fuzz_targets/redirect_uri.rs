//! Redirect URIs, where they are checked: at registration (`domain::client::validate_redirect_uri`,
//! called by `flows::clients::register` for redirect, post-logout and back-channel URIs;
//! `domain::subject::sector_of_redirect_uris` for pairwise apps) and at the authorization
//! endpoint (`Client::has_redirect_uri` through `domain::authorize::trusted_target`).
//!
//! The first byte says whether the app is public and how the rest is read: as NUL-separated
//! text (registered URIs, then the requested one), or as choices that build registered URIs and
//! a requested one, often a near miss of a registered one (case, slash, port, encoding, dot
//! segments, whitespace). Properties: a URI is accepted only
//! when byte-identical to a registered one; a URI passes registration only if it is absolute,
//! has no fragment or user information, is https, loopback http or (public apps) a private-use
//! scheme, and can be sent back in a `Location` header as it is.
#![no_main]
use idp::domain::authorize::{trusted_target, UntrustedRequest};
use idp::domain::client::{validate_redirect_uri, Client};
use idp::domain::params::Params;
use libfuzzer_sys::arbitrary::{Result as Built, Unstructured};
use libfuzzer_sys::fuzz_target;

mod provider;

const SEEDS: &[&str] = &[
    "https://app.example/cb",
    "https://app.example/cb?x=1",
    "http://127.0.0.1:9000/cb",
    "http://[::1]/cb",
    "http://localhost/cb",
    "cn.gov.app:/oauth",
    "https://app.example",
    "https://用户.example/回调",
];

/// Ways a requested URI can nearly match a registered one.
fn near_miss(u: &mut Unstructured, uri: &str) -> Built<String> {
    Ok(match u.int_in_range(0..=9)? {
        0 => uri.to_ascii_uppercase(),
        1 => format!("{uri}/"),
        2 => uri.trim_end_matches('/').to_owned(),
        3 => uri.replacen("://app.example", "://app.example:443", 1),
        4 => uri.replacen("/cb", "/%63b", 1),
        5 => uri.replacen("/cb", "/./cb", 1),
        6 => format!("{uri}#"),
        7 => format!("{uri}\n"),
        8 => format!(" {uri}"),
        _ => {
            let mut s: String = uri.to_owned();
            let at = u.int_in_range(0..=s.len())?;
            if s.is_char_boundary(at) {
                s.insert(at, u.arbitrary()?);
            }
            s
        }
    })
}

fn uri(u: &mut Unstructured) -> Built<String> {
    Ok(match u.int_in_range(0..=2)? {
        0 => (*u.choose(SEEDS)?).to_owned(),
        1 => {
            let seed = *u.choose(SEEDS)?;
            near_miss(u, seed)?
        }
        _ => u.arbitrary()?,
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let public = mode & 2 != 0;
    let (registered, requested) = if mode & 1 == 0 {
        // Plain text, NUL-separated: the registered URIs, then the requested one.
        let Ok(text) = std::str::from_utf8(rest) else {
            return;
        };
        let mut parts: Vec<String> = text.split('\0').take(4).map(str::to_owned).collect();
        let requested = parts.pop().unwrap_or_default();
        if parts.is_empty() {
            return;
        }
        (parts, requested)
    } else {
        match built(&mut Unstructured::new(rest)) {
            Ok(built) => built,
            Err(_) => return,
        }
    };

    for uri in registered.iter().chain([&requested]) {
        registration(uri, public);
    }
    let _ = idp::domain::subject::sector_of_redirect_uris(&registered);

    let mut client: Client = provider::registry()[0].clone();
    client.redirect_uris = registered.clone();
    client.post_logout_redirect_uris = registered.clone();
    let exact = registered
        .iter()
        .any(|r| r.as_bytes() == requested.as_bytes());
    assert_eq!(client.has_redirect_uri(&requested), exact);
    assert_eq!(client.has_post_logout_redirect_uri(&requested), exact);

    // At the endpoint, as the browser sends it: percent-encoded in the query.
    let query = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", &client.client_id)
        .append_pair("redirect_uri", &requested)
        .finish();
    let params = Params::parse_urlencoded(query.as_bytes());
    match trusted_target(&params, Some(&client)) {
        Ok(target) => {
            assert!(exact, "{requested:?} accepted, registered {registered:?}");
            assert_eq!(target.redirect_uri.as_bytes(), requested.as_bytes());
        }
        // An empty value counts as absent (RFC 6749 3.1).
        Err(UntrustedRequest::MissingRedirectUri) => assert!(requested.is_empty()),
        Err(why) => {
            assert_eq!(why, UntrustedRequest::RedirectUriMismatch);
            assert!(!exact || requested.is_empty());
        }
    }
});

fn built(u: &mut Unstructured) -> Built<(Vec<String>, String)> {
    let registered = (0..u.int_in_range(1..=3)?)
        .map(|_| uri(u))
        .collect::<Built<Vec<String>>>()?;
    let requested = match u.int_in_range(0..=2)? {
        0 => registered[0].clone(),
        1 => near_miss(u, &registered[0])?,
        _ => uri(u)?,
    };
    Ok((registered, requested))
}

/// What passing `validate_redirect_uri` must mean.
fn registration(uri: &str, public: bool) {
    let confidential_ok = validate_redirect_uri(uri, false).is_ok();
    let ok = validate_redirect_uri(uri, public).is_ok();
    // A public (native) app may register all a confidential one may, and more.
    assert!(!confidential_ok || validate_redirect_uri(uri, true).is_ok());
    if !ok {
        return;
    }
    let parsed = url::Url::parse(uri).expect("accepted, so absolute");
    assert!(!uri.contains('#') && parsed.fragment().is_none());
    assert!(parsed.username().is_empty() && parsed.password().is_none());
    match parsed.scheme() {
        "https" => {}
        "http" => assert!(
            matches!(
                parsed.host_str(),
                Some("localhost" | "[::1]") | Some("127.0.0.1")
            ) || parsed.host_str().is_some_and(|h| h.starts_with("127."))
        ),
        other => assert!(public && other.contains('.'), "scheme {other:?}"),
    }
    // The URI goes back byte for byte in a Location header (web::handlers::respond): no
    // whitespace or control characters, which no RFC 3986 URI has and the URL parser drops.
    assert!(
        !uri.bytes().any(|b| b.is_ascii_control() || b == b' ')
            || provider::open("redirect-uri-whitespace"),
        "{uri:?} passed registration with whitespace or a control character"
    );
}
