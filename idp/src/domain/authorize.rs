//! The authorization request (RFC 6749 4.1.1, OIDC Core 3.1.2.1) as a validated value, and the
//! decision what happens next. Pure: no HTTP, no storage, time passed in.
use super::client::{Client, GrantType};
use super::params::Params;
use super::pkce;
use super::scope::{self, ScopeSet};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// Where an error or a code goes once client and redirect URI are trusted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResponseTarget {
    pub redirect_uri: String,
    pub response_mode: ResponseMode,
    pub state: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Prompt {
    pub none: bool,
    pub login: bool,
    pub consent: bool,
}

/// A request that passed every check; stored while the citizen logs in or consents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    pub client_id: String,
    pub target: ResponseTarget,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub login_hint: Option<String>,
    pub id_token_hint: Option<String>,
    pub acr_values: Vec<String>,
    pub ui_locales: Option<String>,
    pub claims: Option<serde_json::Value>,
}

impl AuthorizationRequest {
    pub fn scopes(&self) -> ScopeSet {
        ScopeSet::parse(&self.scope)
    }

    /// The highest assurance level among the requested `acr_values` that this provider
    /// offers; 0 when none was asked for (unknown values do not count).
    pub fn requested_level(&self) -> u8 {
        self.acr_values
            .iter()
            .map(|a| super::acr::level(a))
            .max()
            .unwrap_or(0)
    }
}

/// Why a request is refused without redirecting: the redirect URI cannot be trusted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UntrustedRequest {
    #[error("the request has no client_id")]
    MissingClientId,
    #[error("client_id or redirect_uri was sent more than once")]
    DuplicateParameter,
    #[error("no app is registered with this client_id")]
    UnknownClient,
    #[error("this app is not approved to sign users in ({0})")]
    ClientNotApproved(String),
    #[error("the request has no redirect_uri")]
    MissingRedirectUri,
    #[error("the redirect_uri is not registered for this app")]
    RedirectUriMismatch,
}

/// An error the client learns about at its redirect URI (RFC 6749 4.1.2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectError {
    pub target: ResponseTarget,
    pub error: &'static str,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthorizeError {
    Untrusted(UntrustedRequest),
    Redirect(RedirectError),
}

/// Step 1: the parts that decide whether we may redirect at all.
pub fn trusted_target(
    params: &Params,
    client: Option<&Client>,
) -> Result<ResponseTarget, UntrustedRequest> {
    if params.is_duplicated("client_id") || params.is_duplicated("redirect_uri") {
        return Err(UntrustedRequest::DuplicateParameter);
    }
    params
        .get("client_id")
        .ok_or(UntrustedRequest::MissingClientId)?;
    let client = client.ok_or(UntrustedRequest::UnknownClient)?;
    if !client.may_start_flows() {
        return Err(UntrustedRequest::ClientNotApproved(
            client.status.to_string(),
        ));
    }
    let redirect_uri = params
        .get("redirect_uri")
        .ok_or(UntrustedRequest::MissingRedirectUri)?;
    if !client.has_redirect_uri(redirect_uri) {
        return Err(UntrustedRequest::RedirectUriMismatch);
    }
    let response_mode = match params.get("response_mode") {
        Some("form_post") => ResponseMode::FormPost,
        _ => ResponseMode::Query,
    };
    Ok(ResponseTarget {
        redirect_uri: redirect_uri.to_owned(),
        response_mode,
        state: params.get("state").map(str::to_owned),
    })
}

/// Validates a whole authorization request for `client` (looked up by its `client_id`).
pub fn validate(
    params: &Params,
    client: Option<&Client>,
) -> Result<AuthorizationRequest, AuthorizeError> {
    let target = trusted_target(params, client).map_err(AuthorizeError::Untrusted)?;
    let client = client.ok_or(AuthorizeError::Untrusted(UntrustedRequest::UnknownClient))?;
    let fail = |error: &'static str, description: String| {
        AuthorizeError::Redirect(RedirectError {
            target: target.clone(),
            error,
            description,
        })
    };
    if let Some(dup) = params.first_duplicate() {
        return Err(fail(
            "invalid_request",
            format!("parameter {dup} was sent more than once"),
        ));
    }
    if params.overflowed() {
        return Err(fail(
            "invalid_request",
            "the request has too many parameters".into(),
        ));
    }
    if let Some(mode) = params.get("response_mode") {
        if !matches!(mode, "query" | "form_post") {
            return Err(fail(
                "invalid_request",
                format!("response_mode {mode:?} is not supported; use query or form_post"),
            ));
        }
    }
    match params.get("response_type") {
        None => return Err(fail("invalid_request", "response_type is required".into())),
        Some("code") => {}
        Some(_) => {
            return Err(fail(
                "unsupported_response_type",
                "only response_type=code is supported".into(),
            ))
        }
    }
    if !client.allows_grant(GrantType::AuthorizationCode) {
        return Err(fail(
            "unauthorized_client",
            "this app may not use the authorization code grant".into(),
        ));
    }
    // Request objects were resolved into plain parameters before this (flows::request_object).
    if params.get("registration").is_some() {
        return Err(fail(
            "registration_not_supported",
            "the registration parameter is not supported".into(),
        ));
    }
    let mut scopes = ScopeSet::parse(params.get("scope").unwrap_or(""));
    scopes.retain(|s| {
        (scope::SUPPORTED.contains(&s) || scope::licence_type(s).is_some())
            && client.allows_scope(s)
    });
    if !scopes.contains(scope::OPENID) {
        return Err(fail("invalid_scope", "scope must include openid".into()));
    }

    let code_challenge = match params.get("code_challenge") {
        Some(challenge) => {
            pkce::check_challenge(challenge, params.get("code_challenge_method"))
                .map_err(|e| fail("invalid_request", e.to_string()))?;
            Some(challenge.to_owned())
        }
        None if params.get("code_challenge_method").is_some() => {
            return Err(fail(
                "invalid_request",
                "code_challenge_method without code_challenge".into(),
            ))
        }
        None if client.is_public() => {
            return Err(fail(
                "invalid_request",
                "PKCE (code_challenge with S256) is required for public clients".into(),
            ))
        }
        None => None,
    };

    let prompt = parse_prompt(params.get("prompt")).map_err(|d| fail("invalid_request", d))?;
    let max_age = match params.get("max_age") {
        Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
            fail(
                "invalid_request",
                "max_age must be a non-negative integer".into(),
            )
        })?),
        None => None,
    };
    let claims = match params.get("claims") {
        Some(text) => Some(parse_claims(text).map_err(|d| fail("invalid_request", d))?),
        None => None,
    };
    // A claim asked for by name needs the consent its scope needs: the scope joins the request
    // (and so the consent page) if the app may have it; otherwise the claim is not released.
    // The ID number is never released this way.
    for name in claims
        .as_ref()
        .map(requested_claim_names)
        .unwrap_or_default()
    {
        match scope::scope_for_claim(&name) {
            Some(s) if s != scope::ID_NUMBER && client.allows_scope(s) => scopes.insert(s),
            _ => {}
        }
    }
    let bounded = |key: &str, max: usize| -> Result<Option<String>, AuthorizeError> {
        match params.get(key) {
            Some(v) if v.len() > max => Err(fail("invalid_request", format!("{key} is too long"))),
            v => Ok(v.map(str::to_owned)),
        }
    };
    Ok(AuthorizationRequest {
        client_id: client.client_id.clone(),
        scope: scopes.to_string(),
        nonce: bounded("nonce", 512)?,
        code_challenge,
        prompt,
        max_age,
        // A hint that is an ID number is dropped: it would be stored with the parked request.
        login_hint: bounded("login_hint", 256)?
            .filter(|h| !super::id_number::IdNumber::looks_like(h)),
        id_token_hint: bounded("id_token_hint", 8192)?,
        acr_values: params
            .get("acr_values")
            .map(|v| {
                v.split(' ')
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        ui_locales: bounded("ui_locales", 128)?,
        claims,
        target: ResponseTarget {
            state: bounded("state", 2048)?,
            ..target
        },
    })
}

fn parse_prompt(value: Option<&str>) -> Result<Prompt, String> {
    let mut prompt = Prompt::default();
    for v in value.unwrap_or("").split(' ').filter(|s| !s.is_empty()) {
        match v {
            "none" => prompt.none = true,
            "login" => prompt.login = true,
            "consent" => prompt.consent = true,
            "select_account" => {}
            other => return Err(format!("prompt value {other:?} is not supported")),
        }
    }
    if prompt.none && (prompt.login || prompt.consent) {
        return Err("prompt=none cannot be combined with other values".into());
    }
    Ok(prompt)
}

fn requested_claim_names(claims: &serde_json::Value) -> Vec<String> {
    ["userinfo", "id_token"]
        .iter()
        .filter_map(|member| claims.get(member).and_then(|m| m.as_object()))
        .flat_map(|m| m.keys().cloned())
        .collect()
}

/// The `claims` parameter (OIDC Core 5.5): a JSON object with optional `userinfo` and `id_token` members.
fn parse_claims(text: &str) -> Result<serde_json::Value, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|_| "claims is not valid JSON".to_string())?;
    let object = value.as_object().ok_or("claims must be a JSON object")?;
    for (member, request) in object {
        if !matches!(member.as_str(), "userinfo" | "id_token") {
            continue;
        }
        if !request.is_object() && !request.is_null() {
            return Err(format!("claims.{member} must be an object"));
        }
    }
    Ok(value)
}

/// Whether what the citizen consented to covers `scopes` for a client. A first-party service
/// needs no consent, except for the ID number and licences: those cross to anyone only with
/// the citizen's own yes.
pub fn consent_covers(scopes: &ScopeSet, consented: &ScopeSet, first_party: bool) -> bool {
    if first_party {
        scopes
            .iter()
            .all(|s| !super::scope::needs_consent_always(s) || consented.contains(s))
    } else {
        scopes.is_subset_of(consented)
    }
}

/// What the provider knows about the browser's session when it decides.
#[derive(Debug, Clone)]
pub struct SessionView<'a> {
    pub sub: &'a str,
    pub auth_time: i64,
    pub acr: &'a str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Show the login page (or fail with login_required for prompt=none).
    Login,
    Consent,
    IssueCode,
    Fail {
        error: &'static str,
        description: String,
    },
}

/// Everything that decides the next step of a validated request.
#[derive(Debug, Clone)]
pub struct DecisionInput<'a> {
    pub request: &'a AuthorizationRequest,
    pub session: Option<SessionView<'a>>,
    /// The citizen logged in while handling this very request (satisfies prompt=login).
    pub fresh_login: bool,
    /// The citizen answered the consent page for this request.
    pub fresh_consent: bool,
    /// Scopes the citizen already consented to for this client.
    pub consented: &'a ScopeSet,
    /// `sub` from a verified id_token_hint, if one was sent.
    pub hinted_sub: Option<&'a str>,
    /// The platform's own service: no consent page unless it asks for one.
    pub first_party: bool,
    pub now: i64,
}

pub fn decide(input: &DecisionInput<'_>) -> Next {
    let request = input.request;
    let login_needed = match &input.session {
        None => true,
        Some(session) => {
            let too_old = request
                .max_age
                .is_some_and(|max| input.now - session.auth_time > max);
            let wrong_user = input.hinted_sub.is_some_and(|sub| sub != session.sub);
            // A session below the level the client asked for steps up (a passkey login). The
            // login this request itself caused is accepted whatever its level: acr_values is
            // voluntary (OIDC Core 3.1.2.1), so the achieved `acr` goes back and the client
            // decides.
            let too_weak = super::acr::level(session.acr) < request.requested_level();
            !input.fresh_login && (request.prompt.login || too_old || wrong_user || too_weak)
        }
    };
    if login_needed {
        if request.prompt.none {
            return Next::Fail {
                error: "login_required",
                description: "the user must log in".into(),
            };
        }
        return Next::Login;
    }
    let consent_needed = !input.fresh_consent
        && (request.prompt.consent
            || !consent_covers(&request.scopes(), input.consented, input.first_party));
    if consent_needed {
        if request.prompt.none {
            return Next::Fail {
                error: "consent_required",
                description: "the user must consent".into(),
            };
        }
        return Next::Consent;
    }
    Next::IssueCode
}
