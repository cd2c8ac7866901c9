//! The authorization_code grant (RFC 6749 4.1.3, RFC 7636 4.6, OIDC Core 3.1.3.2): a sealed
//! code (see `sealed_code`) is checked, its tokens are signed, and then the grant, the refresh
//! token and the audit entry are stored in one transaction (the audit log's group commit), in
//! which the code is also spent. Nothing is answered before that commit.
use super::audit::AuditError;
use super::client_auth::{self, Presented};
use super::counters::Event;
use super::sealed_code::CodeGrant;
use super::token::{oauth, prepare_for_grant, TokenError, TokenResponse};
use crate::domain::audit::AuditEvent;
use crate::domain::authorize::consent_covers;
use crate::domain::client::{Client, GrantType};
use crate::domain::params::Params;
use crate::domain::pkce;
use crate::domain::scope::{self, ScopeSet};
use crate::services::Services;
use crate::store::audit::Companion;
use crate::store::grants::{self, CodeRedemption, GrantRow, Standing};
use crate::store::StoreError;
use std::sync::mpsc;

pub fn exchange(
    svc: &Services,
    client: &Client,
    params: &Params,
    jkt: Option<&str>,
) -> Result<TokenResponse, TokenError> {
    let code = params
        .get("code")
        .ok_or_else(|| oauth("invalid_request", "code is required"))?;
    // Sealed for its own client: another client's code does not open, as if it were forged.
    let sealed =
        CodeGrant::open(&svc.secrets.code_seal, &client.client_id, code).ok_or_else(|| {
            oauth(
                "invalid_grant",
                "the code is not valid or was issued to another client",
            )
        })?;
    let now = svc.now();
    let fault = fault(&sealed, params, now).err();
    let scopes = ScopeSet::parse(&sealed.scope);
    // RFC 9449 5: a public client's refresh tokens are bound to its DPoP key (a confidential
    // client's are already bound to its credentials).
    let bound_key = jkt.filter(|_| client.is_public());
    let mut row = sealed.into_row(
        &client.client_id,
        keys::sha256_b64(code.as_bytes()),
        now,
        bound_key,
    );
    let still_authorized = standing_rule(client, &scopes);
    let Some(fault) = fault else {
        return issue(svc, client, row, &scopes, jkt, still_authorized);
    };
    // A failed attempt spends the code all the same (its grant is stored revoked), and a
    // replay is still a replay.
    row.revoked_at = Some(now);
    match svc.store.redeem_sealed_code(row, still_authorized) {
        Ok(CodeRedemption::Replayed(grant)) => Err(replayed(svc, client, &grant, now)?),
        Ok(CodeRedemption::Redeemed(_)) => Err(fault),
        Err(StoreError::Conflict) => Err(already_used()),
        Err(e) => Err(e.into()),
    }
}

/// What is wrong with presenting this code with these parameters now, if anything.
fn fault(sealed: &CodeGrant, params: &Params, now: i64) -> Result<(), TokenError> {
    if now >= sealed.expires_at {
        return Err(oauth("invalid_grant", "the code has expired"));
    }
    if params.get("redirect_uri") != Some(sealed.redirect_uri.as_str()) {
        return Err(oauth(
            "invalid_grant",
            "redirect_uri does not match the authorization request",
        ));
    }
    match (&sealed.code_challenge, params.get("code_verifier")) {
        (Some(challenge), Some(verifier)) => {
            pkce::verify(challenge, verifier).map_err(|e| oauth("invalid_grant", &e.to_string()))
        }
        (Some(_), None) => Err(oauth("invalid_grant", "code_verifier is required")),
        // RFC 9700 2.1.1: a verifier without a challenge is a PKCE downgrade attempt.
        (None, Some(_)) => Err(oauth(
            "invalid_grant",
            "code_verifier sent but no code_challenge was used",
        )),
        (None, None) => Ok(()),
    }
}

/// Signs the tokens first, then stores grant, refresh token and audit entry in one commit;
/// the tokens are handed out only if the code won there.
fn issue(
    svc: &Services,
    client: &Client,
    row: GrantRow,
    scopes: &ScopeSet,
    jkt: Option<&str>,
    still_authorized: impl FnOnce(&Standing) -> bool + Send + 'static,
) -> Result<TokenResponse, TokenError> {
    let (signed, event, companion) = prepare(svc, client, row, scopes, jkt, still_authorized)?;
    let written = svc.audit.append_with(event, Some(companion));
    match signed.conclude(written) {
        Concluded::Answer(answer) => answer,
        Concluded::Replayed(grant) => Err(replayed(svc, client, &grant, svc.now())?),
    }
}

/// Tokens signed for a code, waiting for the commit that decides whether the code won.
#[derive(Debug)]
struct Signed {
    response: TokenResponse,
    outcome: mpsc::Receiver<Option<CodeRedemption>>,
}

/// What the commit decided.
enum Concluded {
    Answer(Result<TokenResponse, TokenError>),
    /// The code was spent before: its grant is to be revoked (a blocking follow-up).
    Replayed(Box<GrantRow>),
}

/// The signed tokens, the audit entry and the writer's unit of work of a code exchange.
fn prepare(
    svc: &Services,
    client: &Client,
    row: GrantRow,
    scopes: &ScopeSet,
    jkt: Option<&str>,
    still_authorized: impl FnOnce(&Standing) -> bool + Send + 'static,
) -> Result<(Signed, AuditEvent, Companion), TokenError> {
    let with_refresh =
        scopes.contains(scope::OFFLINE_ACCESS) && client.allows_grant(GrantType::RefreshToken);
    let prepared = prepare_for_grant(
        svc,
        client,
        &row,
        scopes,
        with_refresh,
        row.nonce.as_deref(),
        "authorization_code",
        jkt,
    )?;
    let (told, outcome) = mpsc::sync_channel(1);
    let companion = grants::code_redemption(row, prepared.refresh_row, still_authorized, told);
    let signed = Signed {
        response: prepared.response,
        outcome,
    };
    Ok((signed, prepared.event, companion))
}

impl Signed {
    fn conclude(self, written: Result<bool, AuditError>) -> Concluded {
        Concluded::Answer(match (written, self.outcome.try_recv()) {
            (Ok(true), Ok(Some(CodeRedemption::Redeemed(_)))) => Ok(self.response),
            (Ok(false), Ok(Some(CodeRedemption::Redeemed(_)))) => Err(oauth(
                "invalid_grant",
                "the session ended or the consent was withdrawn after the code was issued",
            )),
            (Ok(false), Ok(Some(CodeRedemption::Replayed(grant)))) => {
                return Concluded::Replayed(Box::new(grant))
            }
            // Two redemptions of a code whose session is gone, at once (PostgreSQL replicas).
            (Err(_), Ok(None)) => Err(already_used()),
            (Err(e), _) => Err(e.into()),
            (Ok(_), _) => Err(TokenError::from(StoreError::Corrupt(
                "a code redemption ended without an outcome".into(),
            ))),
        })
    }
}

/// A code exchange answered by the async worker that received it, as client_credentials is
/// (see `machine_token`): the app in the client cache with a secret, no DPoP proof, a code that
/// opens and passes its checks, and an ID token that needs nothing read from the account. Its
/// only database work is the writer's commit, which the worker awaits.
#[derive(Debug)]
pub struct Quick {
    client: Client,
    signed: Signed,
}

/// What a quick exchange came to once the writer committed.
#[derive(Debug)]
pub enum Settled {
    Answer(Result<TokenResponse, TokenError>),
    /// A replayed code: revoking what it gave needs a blocking thread.
    Replayed(Box<Replay>),
}

/// The follow-up of a replayed code, for a blocking thread.
#[derive(Debug)]
pub struct Replay {
    client: Client,
    grant: GrantRow,
}

/// The quick exchange with the entry and unit of work to hand the writer; `None` and the full
/// exchange runs on a blocking thread and gives the answer, errors included. Nothing is
/// changed or counted before `None`, so every request is judged and counted once.
pub fn without_blocking(
    svc: &Services,
    params: &Params,
    presented: &Presented,
    dpop_proof: bool,
) -> Option<(Quick, AuditEvent, Companion)> {
    if dpop_proof
        || params.first_duplicate().is_some()
        || params.overflowed()
        || params.get("grant_type") != Some("authorization_code")
    {
        return None;
    }
    let client = client_auth::authenticate_cached(svc, presented)?.ok()?;
    // A federation node's ID token carries the ID number read from the account.
    if !client.allows_grant(GrantType::AuthorizationCode)
        || client.dpop_bound
        || client.federation_region.is_some()
    {
        return None;
    }
    let code = params.get("code")?;
    let sealed = CodeGrant::open(&svc.secrets.code_seal, &client.client_id, code)?;
    let now = svc.now();
    // Claims asked for by name are read from the account: the blocking path does that.
    if sealed.claims.is_some() || fault(&sealed, params, now).is_err() {
        return None;
    }
    let scopes = ScopeSet::parse(&sealed.scope);
    let row = sealed.into_row(
        &client.client_id,
        keys::sha256_b64(code.as_bytes()),
        now,
        None,
    );
    let still_authorized = standing_rule(&client, &scopes);
    let (signed, event, companion) =
        prepare(svc, &client, row, &scopes, None, still_authorized).ok()?;
    Some((Quick { client, signed }, event, companion))
}

impl Quick {
    /// The answer once the writer has committed (or failed), counted for the app.
    pub fn settle(self, svc: &Services, written: Result<bool, AuditError>) -> Settled {
        match self.signed.conclude(written) {
            Concluded::Answer(answer) => {
                let event = if answer.is_ok() {
                    Event::Token
                } else {
                    Event::Error
                };
                svc.counters.count(&self.client.client_id, event);
                Settled::Answer(answer)
            }
            Concluded::Replayed(grant) => Settled::Replayed(Box::new(Replay {
                client: self.client,
                grant: *grant,
            })),
        }
    }
}

impl Replay {
    /// Revokes what the replayed code gave and answers the error. Blocking.
    pub fn finish(self, svc: &Services) -> Result<TokenResponse, TokenError> {
        svc.counters.count(&self.client.client_id, Event::Error);
        Err(replayed(svc, &self.client, &self.grant, svc.now())?)
    }
}

/// Whether what authorized a code still stands at its redemption: its session open, and the
/// consent covering its scopes.
fn standing_rule(
    client: &Client,
    scopes: &ScopeSet,
) -> impl FnOnce(&Standing) -> bool + Send + 'static {
    let first_party = client.first_party;
    let granted = scopes.clone();
    move |standing: &Standing| {
        let consented = ScopeSet::parse(standing.consent.as_deref().unwrap_or_default());
        standing.session_open && consent_covers(&granted, &consented, first_party)
    }
}

/// RFC 6749 4.1.2: a code used twice revokes what it issued.
fn replayed(
    svc: &Services,
    client: &Client,
    grant: &GrantRow,
    now: i64,
) -> Result<TokenError, TokenError> {
    svc.store.revoke_grant(&grant.id, now)?;
    svc.audit.append(AuditEvent::new(
        "code.replayed",
        &grant.sub,
        Some(&client.client_id),
        serde_json::json!({ "grant": grant.id, "action": "grant revoked" }),
    ))?;
    Ok(oauth(
        "invalid_grant",
        "the code was already used; tokens issued with it are revoked",
    ))
}

fn already_used() -> TokenError {
    oauth("invalid_grant", "the code was already used")
}
