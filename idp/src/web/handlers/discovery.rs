//! OpenID Connect Discovery 1.0 and the JWKS.
use crate::domain::{acr, scope};
use crate::services::Services;
use actix_web::http::header;
use actix_web::{web, HttpResponse};
use serde_json::json;

pub fn document(svc: &Services) -> serde_json::Value {
    let e = |p: &str| svc.config.endpoint(p);
    json!({
        "issuer": svc.config.issuer,
        "authorization_endpoint": e("/authorize"),
        "token_endpoint": e("/token"),
        "userinfo_endpoint": e("/userinfo"),
        "jwks_uri": e("/jwks"),
        "registration_endpoint": e("/register"),
        "end_session_endpoint": e("/logout"),
        "introspection_endpoint": e("/introspect"),
        "revocation_endpoint": e("/revoke"),
        "device_authorization_endpoint": e("/device_authorization"),
        "scopes_supported": scope::SUPPORTED.iter().map(|s| (*s).to_owned())
            .chain(svc.licence_types.all().map(|t| format!("{}{}", scope::LICENCE_PREFIX, t.id)))
            .collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "form_post"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials", crate::domain::device::GRANT_TYPE, crate::domain::token_exchange::GRANT_TYPE, crate::flows::vci::PRE_AUTHORIZED_GRANT],
        // OpenID4VCI: a wallet redeems a pre-authorized code without client authentication.
        "pre-authorized_grant_anonymous_access_supported": true,
        "subject_types_supported": ["public", "pairwise"],
        "id_token_signing_alg_values_supported": ["RS256", "ES256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "RS256"],
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "code_challenge_methods_supported": ["S256"],
        "dpop_signing_alg_values_supported": ["ES256", "RS256"],
        "claims_supported": scope::ALL_CLAIMS.iter().chain(["iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr", "sid", "azp", "at_hash"].iter()).collect::<Vec<_>>(),
        "claims_parameter_supported": true,
        "claim_types_supported": ["normal"],
        "request_parameter_supported": true,
        "request_uri_parameter_supported": true,
        "require_request_uri_registration": false,
        "request_object_signing_alg_values_supported": ["none", "RS256", "ES256"],
        "authorization_response_iss_parameter_supported": true,
        // Only what a login can reach here: the strong level needs passkeys (a WebAuthn RP).
        "acr_values_supported": if svc.webauthn.is_some() {
            vec![acr::ACR_PASSWORD, acr::ACR_STRONG]
        } else {
            vec![acr::ACR_PASSWORD]
        },
        "display_values_supported": ["page", "popup", "touch", "wap"],
        "ui_locales_supported": ["zh-CN", "en"],
        "claims_locales_supported": ["zh-CN", "en"],
        "backchannel_logout_supported": true,
        "backchannel_logout_session_supported": true,
        "frontchannel_logout_supported": false,
    })
}

pub async fn configuration(svc: web::Data<Services>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=300"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .json(document(&svc))
}

/// Published keys: active ones and retired ones whose tokens may still be alive.
pub async fn jwks(svc: web::Data<Services>) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, "public, max-age=60"))
        .insert_header((header::ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
        .content_type("application/jwk-set+json")
        .body(svc.keys.published().jwks().to_string())
}
