//! OpenID for Verifiable Presentations 1.0, as far as a counter and the wallet need it: a
//! request by reference (`request_uri`) with a DCQL query for one licence type and the claims
//! asked for, answered by `direct_post` to the verifier's `response_uri`. The verifier is
//! identified with the `redirect_uri:` client identifier prefix, so its request object is not
//! signed and its `client_id` must be `redirect_uri:` + the `response_uri` it asks answers at.
//! Pure: building and parsing; the HTTP is the binaries'.
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use serde_json::{json, Map, Value};

pub const CLIENT_ID_PREFIX: &str = "redirect_uri:";
pub const REQUEST_TYP: &str = "oauth-authz-req+jwt";
/// The one credential query of our requests.
pub const QUERY_ID: &str = "licence";

/// What a verifier asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub response_uri: String,
    pub nonce: String,
    pub state: String,
    pub vct: String,
    pub claims: Vec<String>,
}

impl Request {
    pub fn client_id(&self) -> String {
        format!("{CLIENT_ID_PREFIX}{}", self.response_uri)
    }

    pub fn dcql_query(&self) -> Value {
        json!({ "credentials": [{
            "id": QUERY_ID,
            "format": "dc+sd-jwt",
            "meta": { "vct_values": [self.vct] },
            "claims": self.claims.iter().map(|c| json!({ "path": [c] })).collect::<Vec<_>>(),
        }]})
    }

    /// The request object served at `request_uri`: an unsigned JWT (the `redirect_uri:` prefix
    /// forbids signing; the wallet binds the answer to `response_uri` instead).
    pub fn request_object(&self) -> String {
        let header = json!({ "alg": "none", "typ": REQUEST_TYP });
        let payload = json!({
            "response_type": "vp_token",
            "response_mode": "direct_post",
            "client_id": self.client_id(),
            "response_uri": self.response_uri,
            "nonce": self.nonce,
            "state": self.state,
            "dcql_query": self.dcql_query(),
            // Verifier metadata travels in the request with the redirect_uri: prefix.
            "client_metadata": { "vp_formats_supported": { "dc+sd-jwt": {
                "sd-jwt_alg_values": ["ES256"], "kb-jwt_alg_values": ["ES256", "RS256"] } } },
        });
        format!(
            "{}.{}.",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string())
        )
    }

    /// What the counter's screen shows as a QR code (cross-device) or opens (same-device).
    pub fn link(&self, request_uri: &str) -> String {
        let q = url::form_urlencoded::Serializer::new(String::new())
            .append_pair("client_id", &self.client_id())
            .append_pair("request_uri", request_uri)
            .finish();
        format!("openid4vp://?{q}")
    }

    /// The presentation in a `vp_token` form value (`{"licence": [presentation]}`).
    pub fn presentation_in(vp_token: &str) -> Result<String, &'static str> {
        let value: Value =
            serde_json::from_str(vp_token).map_err(|_| "vp_token is not a JSON object")?;
        match value
            .get(QUERY_ID)
            .and_then(Value::as_array)
            .map(Vec::as_slice)
        {
            Some([Value::String(p)]) => Ok(p.clone()),
            _ => Err("vp_token must hold exactly one presentation for the query \"licence\""),
        }
    }
}

/// The `vp_token` of an answer.
pub fn vp_token(presentation: &str) -> String {
    json!({ QUERY_ID: [presentation] }).to_string()
}

/// Where the wallet finds the request: the `client_id` and `request_uri` of a link.
pub fn parse_link(link: &str) -> Result<(String, String), String> {
    let url = url::Url::parse(link.trim()).map_err(|_| "not a URL".to_owned())?;
    let get = |k: &str| {
        url.query_pairs()
            .find(|(name, _)| name == k)
            .map(|(_, v)| v.into_owned())
            .ok_or_else(|| format!("the link has no {k}"))
    };
    Ok((get("client_id")?, get("request_uri")?))
}

/// The wallet's reading of a request object fetched for `client_id`: refuses anything but an
/// unsigned `redirect_uri:` request whose client_id and response_uri agree with the link.
pub fn parse_request_object(jwt: &str, link_client_id: &str) -> Result<Request, String> {
    let mut parts = jwt.trim().split('.');
    let (Some(h), Some(p), Some(""), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the request object is not an unsigned JWT".into());
    };
    let decode = |s: &str| -> Result<Map<String, Value>, String> {
        let bytes = URL_SAFE_NO_PAD
            .decode(s)
            .map_err(|_| "bad base64url".to_owned())?;
        serde_json::from_slice(&bytes).map_err(|_| "not a JSON object".to_owned())
    };
    let header = decode(h)?;
    if header.get("typ").and_then(Value::as_str) != Some(REQUEST_TYP)
        || header.get("alg").and_then(Value::as_str) != Some("none")
    {
        return Err("the request object must be an unsigned oauth-authz-req+jwt".into());
    }
    let claims = decode(p)?;
    let text = |k: &str| {
        claims
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| format!("the request has no {k}"))
    };
    let client_id = text("client_id")?;
    let response_uri = text("response_uri")?;
    if client_id != link_client_id || client_id != format!("{CLIENT_ID_PREFIX}{response_uri}") {
        return Err("the request's client_id does not match the link and its response_uri".into());
    }
    if text("response_type")? != "vp_token" || text("response_mode")? != "direct_post" {
        return Err(
            "only response_type vp_token with response_mode direct_post is supported".into(),
        );
    }
    let query = claims
        .get("dcql_query")
        .and_then(|q| q.get("credentials"))
        .and_then(Value::as_array)
        .and_then(|c| c.first())
        .ok_or("the request has no DCQL credential query")?;
    let vct = query
        .pointer("/meta/vct_values/0")
        .and_then(Value::as_str)
        .ok_or("the DCQL query names no vct")?
        .to_owned();
    let asked = query
        .get("claims")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut names = Vec::with_capacity(asked.len());
    for c in asked {
        match c.get("path").and_then(Value::as_array).map(Vec::as_slice) {
            Some([Value::String(name)]) => names.push(name.clone()),
            _ => return Err("only top-level claim paths are supported".into()),
        }
    }
    Ok(Request {
        response_uri,
        nonce: text("nonce")?,
        state: text("state")?,
        vct,
        claims: names,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            response_uri: "https://counter.example/presentations/a/response".into(),
            nonce: "n-1".into(),
            state: "s-1".into(),
            vct: "urn:cn:gov:licence:resident-id:1".into(),
            claims: vec!["name".into(), "birth_date".into()],
        }
    }

    #[test]
    fn a_request_round_trips_through_its_link_and_object() {
        let r = request();
        let link = r.link("https://counter.example/presentations/a/request");
        let (client_id, request_uri) = parse_link(&link).expect("link");
        assert_eq!(
            client_id,
            "redirect_uri:https://counter.example/presentations/a/response"
        );
        assert_eq!(
            request_uri,
            "https://counter.example/presentations/a/request"
        );
        assert_eq!(parse_request_object(&r.request_object(), &client_id), Ok(r));
    }

    #[test]
    fn a_request_for_another_verifier_is_refused() {
        let r = request();
        let err = parse_request_object(&r.request_object(), "redirect_uri:https://evil.example/cb")
            .expect_err("another client_id");
        assert!(err.contains("does not match"), "{err}");
        let mut moved = request();
        moved.response_uri = "https://evil.example/collect".into();
        assert!(parse_request_object(&moved.request_object(), &r.client_id()).is_err());
        assert!(
            parse_request_object("e30.e30.sig", &r.client_id()).is_err(),
            "signed: refused"
        );
    }

    #[test]
    fn a_vp_token_holds_one_presentation() {
        assert_eq!(
            Request::presentation_in(&vp_token("a~b~c")),
            Ok("a~b~c".into())
        );
        assert!(Request::presentation_in(r#"{"licence": ["a", "b"]}"#).is_err());
        assert!(Request::presentation_in("[]").is_err());
    }
}
