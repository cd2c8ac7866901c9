//! This node as the relying party of an upstream identity provider, with the `openidconnect`
//! crate: discovery (cached for five minutes, refetched once when an ID token names an unknown
//! key), the authorization URL (PKCE S256, nonce, the claims linking needs asked for in the ID
//! token), the code exchange and full ID token validation (signature by the JWKS, `iss`, `aud`,
//! `exp`, `nonce`). Every call is bounded in time: a slow or dead upstream costs one timeout and
//! holds up no other.
use super::chain_logout::ChainLogoutError;
use super::federation::{Arrival, FederationError, Trip};
use crate::services::Services;
use crate::store::upstreams::UpstreamRow;
use openidconnect::core::{
    CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata, CoreResponseType,
};
use openidconnect::{
    AuthenticationFlow, AuthorizationCode, ClaimsVerificationError, ClientId, ClientSecret,
    CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier, RedirectUrl, Scope,
    SignatureVerificationError, TokenResponse,
};
use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

/// The longest any one call to an upstream may take.
pub const TIMEOUT: Duration = Duration::from_secs(5);
const METADATA_TTL_SECS: i64 = 300;

/// Discovery documents (with their JWKS) by issuer.
#[derive(Debug, Default)]
pub struct MetadataCache {
    entries: Mutex<HashMap<String, (CoreProviderMetadata, i64)>>,
}

fn http() -> &'static openidconnect::reqwest::Client {
    static CLIENT: OnceLock<openidconnect::reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        openidconnect::reqwest::Client::builder()
            // An upstream answers; it does not send us elsewhere (SSRF, mix-up).
            .redirect(openidconnect::reqwest::redirect::Policy::none())
            .timeout(TIMEOUT)
            .connect_timeout(TIMEOUT)
            .build()
            .unwrap_or_default()
    })
}

async fn metadata(
    svc: &Services,
    issuer: &str,
    refresh: bool,
) -> Result<CoreProviderMetadata, FederationError> {
    let now = svc.now();
    if !refresh {
        let cached = svc
            .federation_metadata
            .entries
            .lock()
            .map_err(|_| FederationError::Unreachable)?
            .get(issuer)
            .filter(|(_, at)| now - at < METADATA_TTL_SECS)
            .map(|(m, _)| m.clone());
        if let Some(m) = cached {
            return Ok(m);
        }
    }
    let url = IssuerUrl::new(issuer.to_owned())
        .map_err(|_| FederationError::Refused("the issuer is not a URL".into()))?;
    let fetched = tokio::time::timeout(
        TIMEOUT * 2,
        CoreProviderMetadata::discover_async(url, http()),
    )
    .await
    .map_err(|_| FederationError::Unreachable)?
    .map_err(|e| match e {
        openidconnect::DiscoveryError::Request(_) => FederationError::Unreachable,
        other => FederationError::Refused(format!("discovery: {other}")),
    })?;
    if let Ok(mut entries) = svc.federation_metadata.entries.lock() {
        entries.insert(issuer.to_owned(), (fetched.clone(), now));
    }
    Ok(fetched)
}

fn redirect_uri(svc: &Services) -> Result<RedirectUrl, FederationError> {
    RedirectUrl::new(svc.config.endpoint("/federation/callback"))
        .map_err(|_| FederationError::Refused("our own callback is not a URL".into()))
}

/// Where to send the browser: the upstream's authorization endpoint, for this trip.
pub async fn authorization_url(
    svc: &Services,
    upstream: &UpstreamRow,
    trip: &Trip,
) -> Result<String, FederationError> {
    let meta = metadata(svc, &upstream.issuer, false).await?;
    let client =
        CoreClient::from_provider_metadata(meta, ClientId::new(upstream.client_id.clone()), None)
            .set_redirect_uri(redirect_uri(svc)?);
    let verifier = PkceCodeVerifier::new(trip.pkce_verifier.clone());
    let (state, nonce) = (trip.state.clone(), trip.nonce.clone());
    let request = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            move || CsrfToken::new(state),
            move || Nonce::new(nonce),
        )
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(PkceCodeChallenge::from_code_verifier_sha256(&verifier));
    let mut request = if trip.want_id_number {
        // In the signed ID token, not only at userinfo: linking trusts only what is signed.
        request
            .add_scope(Scope::new(crate::domain::scope::ID_NUMBER.into()))
            .add_extra_param(
                "claims",
                r#"{"id_token":{"id_number":{"essential":true},"name":null,"acr":null}}"#,
            )
    } else {
        request.add_extra_param("claims", r#"{"id_token":{"name":null,"acr":null}}"#)
    };
    if let Some(code) = &trip.region_hint {
        request = request.add_extra_param("login_hint", super::upstreams::region_hint(code));
    }
    if trip.silent {
        request = request.add_prompt(openidconnect::core::CoreAuthPrompt::None);
    } else if trip.force_login {
        request = request.add_prompt(openidconnect::core::CoreAuthPrompt::Login);
    }
    if let Some(max_age) = trip.max_age {
        request = request.set_max_age(std::time::Duration::from_secs(max_age.max(0) as u64));
    }
    Ok(request.url().0.to_string())
}

/// Redeems the code the upstream sent back and validates its ID token completely.
pub async fn redeem(
    svc: &Services,
    upstream: &UpstreamRow,
    client_secret: &str,
    trip: &Trip,
    code: &str,
) -> Result<Arrival, FederationError> {
    let client_for = |meta: CoreProviderMetadata| {
        CoreClient::from_provider_metadata(
            meta,
            ClientId::new(upstream.client_id.clone()),
            Some(ClientSecret::new(client_secret.to_owned())),
        )
    };
    let meta = metadata(svc, &upstream.issuer, false).await?;
    let client = client_for(meta.clone()).set_redirect_uri(redirect_uri(svc)?);
    let exchange = client
        .exchange_code(AuthorizationCode::new(code.to_owned()))
        .map_err(|_| FederationError::Refused("the upstream has no token endpoint".into()))?
        .set_pkce_verifier(PkceCodeVerifier::new(trip.pkce_verifier.clone()));
    let tokens = tokio::time::timeout(TIMEOUT * 2, exchange.request_async(http()))
        .await
        .map_err(|_| FederationError::Unreachable)?
        .map_err(|e| match e {
            openidconnect::RequestTokenError::Request(_) => FederationError::Unreachable,
            other => FederationError::Refused(format!("token endpoint: {other}")),
        })?;
    let id_token = tokens
        .id_token()
        .ok_or_else(|| FederationError::Refused("no ID token".into()))?;
    let now = svc.now();
    let nonce = Nonce::new(trip.nonce.clone());
    let verify = |meta: CoreProviderMetadata| {
        let client = client_for(meta);
        let verifier = client
            .id_token_verifier()
            .set_allowed_algs(vec![
                CoreJwsSigningAlgorithm::EcdsaP256Sha256,
                CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            ])
            .set_time_fn(move || chrono::DateTime::from_timestamp(now, 0).unwrap_or_default());
        id_token.claims(&verifier, &nonce).map(|c| {
            (
                c.subject().as_str().to_owned(),
                c.auth_context_ref().map(|a| a.as_str().to_owned()),
                c.auth_method_refs()
                    .map(|v| v.iter().map(|m| m.as_str().to_owned()).collect())
                    .unwrap_or_default(),
                c.auth_time().unwrap_or_else(|| c.issue_time()).timestamp(),
            )
        })
    };
    let verified = match verify(meta) {
        // The upstream may have rotated its keys since we cached its JWKS: fetch once more.
        Err(ClaimsVerificationError::SignatureVerification(
            SignatureVerificationError::NoMatchingKey,
        )) => verify(metadata(svc, &upstream.issuer, true).await?),
        other => other,
    };
    let (upstream_sub, acr, amr, auth_time) =
        verified.map_err(|e| FederationError::Refused(format!("ID token: {e}")))?;
    // The claims openidconnect does not model, from the payload it has just verified.
    let payload = signed_payload(&id_token.to_string());
    let text = |k: &str| payload.get(k).and_then(|v| v.as_str()).map(str::to_owned);
    Ok(Arrival {
        upstream_sub,
        id_number: text("id_number"),
        upstream_sid: text("sid"),
        name: text("name"),
        acr,
        amr,
        auth_time: Some(auth_time),
    })
}

fn signed_payload(jwt: &str) -> serde_json::Map<String, serde_json::Value> {
    use base64::Engine as _;
    jwt.split('.')
        .nth(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p)
                .ok()
        })
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// The upstream's signing keys, from its (cached) discovery; `refresh` fetches them anew.
async fn upstream_keys(
    svc: &Services,
    issuer: &str,
    refresh: bool,
) -> Result<keys::KeySet, ChainLogoutError> {
    let meta = metadata(svc, issuer, refresh)
        .await
        .map_err(|_| ChainLogoutError::Unreachable)?;
    let jwks = serde_json::to_value(meta.jwks()).map_err(|_| ChainLogoutError::Unreachable)?;
    keys::KeySet::from_jwks(&jwks).map_err(|_| ChainLogoutError::Unreachable)
}

/// Verifies a logout token's signature with the upstream's keys (fetched once more when it
/// names a key we have not seen: the upstream may have rotated). Returns its claims.
pub async fn verify_logout_token(
    svc: &Services,
    upstream: &UpstreamRow,
    token: &str,
) -> Result<serde_json::Map<String, serde_json::Value>, ChainLogoutError> {
    const ALGS: [keys::Alg; 2] = [keys::Alg::ES256, keys::Alg::RS256];
    let verify = |set: &keys::KeySet| keys::verify_jwt(token, set, &ALGS, None);
    let set = upstream_keys(svc, &upstream.issuer, false).await?;
    let verified = match verify(&set) {
        Err(keys::KeyError::UnknownKey) => {
            verify(&upstream_keys(svc, &upstream.issuer, true).await?)
        }
        other => other,
    }
    .map_err(|_| ChainLogoutError::BadSignature)?;
    // Explicitly typed (BCL 1.0, 2.4), or untyped from providers that predate it; never another
    // kind of token passed off as one.
    match verified
        .header
        .get("typ")
        .and_then(serde_json::Value::as_str)
    {
        None => {}
        Some(t) if t.eq_ignore_ascii_case("logout+jwt") || t.eq_ignore_ascii_case("JWT") => {}
        Some(_) => return Err(ChainLogoutError::Invalid("typ is not logout+jwt")),
    }
    Ok(verified.claims)
}

/// Tells the upstream that the session `upstream_sid` ended here: a POST to its
/// `/federation/session_ended`, authenticated as this node's client there (client_secret_basic).
pub async fn tell_session_ended(
    upstream: &UpstreamRow,
    client_secret: &str,
    upstream_sid: &str,
) -> Result<(), String> {
    let url = format!(
        "{}{}",
        upstream.issuer.trim_end_matches('/'),
        super::chain_logout::SESSION_ENDED_PATH
    );
    // RFC 6749 2.3.1: the id and secret are form-encoded before Basic encoding.
    let encode = |s: &str| url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
    let answer = http()
        .post(url)
        .basic_auth(encode(&upstream.client_id), Some(encode(client_secret)))
        .form(&[("sid", upstream_sid)])
        .send()
        .await;
    match answer {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!(
            "the upstream answered HTTP {}",
            r.status().as_u16()
        )),
        Err(e) if e.is_timeout() => Err("timed out".into()),
        Err(_) => Err("unreachable".into()),
    }
}
