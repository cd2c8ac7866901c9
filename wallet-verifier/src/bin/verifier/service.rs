//! `verifier serve`: a counter's verifier over HTTP (OpenID4VP 1.0, `direct_post`).
//!
//!   POST /presentations  {"vct", "claims": [...], "return_to"?}  -> {"id", "link", "request_uri", "qr_svg"}
//!   GET  /presentations/{id}/request               -> the request object (unsigned JWT)
//!   POST /presentations/{id}/response              <- the wallet's vp_token and state
//!   GET  /presentations/{id}[?response_code=C]     -> {"status": "pending" | "verified" | "refused", ...}
//!
//! The counter's own calls (making a request, reading its result) carry
//! `Authorization: Bearer` with the counter token (`VERIFIER_COUNTER_TOKEN`): the service must
//! be public for wallets, and whoever merely sees a QR code (its request id) must not read what
//! the citizen showed, nor make requests in the counter's name.
//!
//! Cross-device, the counter's screen draws `link` (`qr_svg`) and the phone scans it. Same-device
//! (a page on the phone itself asks, giving `return_to`), the page opens `link`; after answering,
//! the wallet is sent back to `return_to` with a `response_code`, and only with that code does
//! the result show (OpenID4VP 8.2: whoever merely saw the link cannot fetch it). Pending requests
//! live in memory for five minutes; each is answered once.
use actix_web::{web, App, HttpResponse, HttpServer};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Mutex;
use wallet_verifier::oid4vp::Request;
use wallet_verifier::online::{self, Asked, Online};
use wallet_verifier::sd_jwt::Verifier;

const PENDING_SECS: i64 = 300;
const MAX_PENDING: usize = 10_000;

struct Pending {
    request: Request,
    created_at: i64,
    outcome: Option<Value>,
    /// Same-device: where the wallet sends the citizen back, and the code the result needs.
    return_to: Option<(String, String)>,
}

struct Counter {
    public_url: String,
    counter_token: String,
    verifier: Verifier,
    online: Online,
    pending: Mutex<HashMap<String, Pending>>,
}

fn error(status: actix_web::http::StatusCode, error: &str, description: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({ "error": error, "error_description": description }))
}

fn bad_request(description: &str) -> HttpResponse {
    error(
        actix_web::http::StatusCode::BAD_REQUEST,
        "invalid_request",
        description,
    )
}

fn not_found() -> HttpResponse {
    error(
        actix_web::http::StatusCode::NOT_FOUND,
        "not_found",
        "no pending presentation has that id",
    )
}

/// The counter's own calls carry its token; wallets' calls do not need it.
fn is_counter(counter: &Counter, req: &actix_web::HttpRequest) -> bool {
    req.headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| {
            keys::constant_time_eq(t.trim().as_bytes(), counter.counter_token.as_bytes())
        })
}

fn unauthorized() -> HttpResponse {
    HttpResponse::Unauthorized()
        .insert_header(("www-authenticate", "Bearer"))
        .json(json!({ "error": "invalid_token", "error_description": "the counter token is missing or wrong" }))
}

async fn create(
    req: actix_web::HttpRequest,
    counter: web::Data<Counter>,
    body: web::Json<Value>,
) -> HttpResponse {
    if !is_counter(&counter, &req) {
        return unauthorized();
    }
    let vct = body
        .get("vct")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .trim()
        .to_owned();
    let claims: Vec<String> = body
        .get("claims")
        .and_then(Value::as_array)
        .map(|c| {
            c.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if vct.is_empty() || vct.len() > 255 || claims.is_empty() || claims.len() > 32 {
        return bad_request("give a vct and 1 to 32 claim names");
    }
    let return_to = match body.get("return_to").and_then(Value::as_str) {
        None => None,
        Some(url) => match url::Url::parse(url) {
            Ok(u) if matches!(u.scheme(), "https" | "http") && u.fragment().is_none() => {
                Some((url.to_owned(), keys::random_token(16)))
            }
            _ => return bad_request("return_to must be an http(s) URL without a fragment"),
        },
    };
    let id = keys::random_token(16);
    let base = counter.public_url.trim_end_matches('/');
    let request = Request {
        response_uri: format!("{base}/presentations/{id}/response"),
        nonce: keys::random_token(16),
        state: keys::random_token(16),
        vct,
        claims,
    };
    let request_uri = format!("{base}/presentations/{id}/request");
    let link = request.link(&request_uri);
    let now = wallet_verifier::dpop::now();
    let mut pending = counter.pending.lock().unwrap_or_else(|p| p.into_inner());
    pending.retain(|_, p| now - p.created_at < PENDING_SECS);
    if pending.len() >= MAX_PENDING {
        return error(
            actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "too many pending requests",
        );
    }
    pending.insert(
        id.clone(),
        Pending {
            request,
            created_at: now,
            outcome: None,
            return_to,
        },
    );
    let qr_svg = qrcode::QrCode::new(link.as_bytes())
        .map(|code| {
            code.render::<qrcode::render::svg::Color<'_>>()
                .min_dimensions(240, 240)
                .build()
        })
        .unwrap_or_default();
    HttpResponse::Created()
        .json(json!({ "id": id, "link": link, "request_uri": request_uri, "qr_svg": qr_svg }))
}

async fn request_object(counter: web::Data<Counter>, id: web::Path<String>) -> HttpResponse {
    let pending = counter.pending.lock().unwrap_or_else(|p| p.into_inner());
    match pending.get(id.as_str()) {
        Some(p) if p.outcome.is_none() => HttpResponse::Ok()
            .content_type("application/oauth-authz-req+jwt")
            .insert_header(("cache-control", "no-store"))
            .body(p.request.request_object()),
        Some(_) => bad_request("this request was answered already"),
        None => not_found(),
    }
}

#[derive(serde::Deserialize)]
struct Answer {
    vp_token: Option<String>,
    state: Option<String>,
}

async fn response(
    counter: web::Data<Counter>,
    id: web::Path<String>,
    form: web::Form<Answer>,
) -> HttpResponse {
    // Take the request out while verifying: a second answer finds it answered.
    let (request, presentation) = {
        let mut pending = counter.pending.lock().unwrap_or_else(|p| p.into_inner());
        let Some(p) = pending.get_mut(id.as_str()) else {
            return not_found();
        };
        if p.outcome.is_some() {
            return bad_request("this request was answered already");
        }
        if form.state.as_deref() != Some(p.request.state.as_str()) {
            return bad_request("state does not match the request");
        }
        let presentation = match form.vp_token.as_deref().map(Request::presentation_in) {
            Some(Ok(presentation)) => presentation,
            Some(Err(why)) => return bad_request(why),
            None => return bad_request("vp_token is required"),
        };
        p.outcome = Some(json!({ "status": "verifying" }));
        (p.request.clone(), presentation)
    };
    let client_id = request.client_id();
    let asked = Asked {
        nonce: &request.nonce,
        audience: &client_id,
        max_age_secs: PENDING_SECS,
        now: wallet_verifier::dpop::now(),
    };
    let outcome = match online::verify(&counter.verifier, &presentation, asked, &counter.online)
        .await
    {
        Ok(answer) if answer["vct"] != json!(request.vct) => {
            json!({ "status": "refused", "code": "wrong_type", "reason": "the wallet showed another kind of licence" })
        }
        Ok(answer) => {
            let missing: Vec<&String> = request
                .claims
                .iter()
                .filter(|c| answer["claims"].get(c.as_str()).is_none())
                .collect();
            if missing.is_empty() {
                json!({ "status": "verified", "answer": answer })
            } else {
                json!({ "status": "refused", "code": "claims_missing", "reason": format!("not shown: {missing:?}") })
            }
        }
        Err(refusal) => {
            json!({ "status": "refused", "code": refusal.code(), "reason": refusal.to_string() })
        }
    };
    let verified = outcome["status"] == "verified";
    let mut back = None;
    if let Some(p) = counter
        .pending
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get_mut(id.as_str())
    {
        p.outcome = Some(outcome.clone());
        back = p.return_to.clone();
    }
    if verified {
        // Same-device: the wallet sends the citizen back to the asking page with the code.
        match back {
            Some((url, code)) => {
                let joiner = if url.contains('?') { '&' } else { '?' };
                HttpResponse::Ok()
                    .json(json!({ "redirect_uri": format!("{url}{joiner}response_code={code}") }))
            }
            None => HttpResponse::Ok().json(json!({})),
        }
    } else {
        bad_request(outcome["reason"].as_str().unwrap_or("refused"))
    }
}

#[derive(serde::Deserialize)]
struct StatusQuery {
    response_code: Option<String>,
}

async fn status(
    req: actix_web::HttpRequest,
    counter: web::Data<Counter>,
    id: web::Path<String>,
    query: web::Query<StatusQuery>,
) -> HttpResponse {
    if !is_counter(&counter, &req) {
        return unauthorized();
    }
    let pending = counter.pending.lock().unwrap_or_else(|p| p.into_inner());
    let code_matches = |code: &str| {
        query
            .response_code
            .as_deref()
            .is_some_and(|c| keys::constant_time_eq(c.as_bytes(), code.as_bytes()))
    };
    match pending.get(id.as_str()) {
        Some(Pending {
            return_to: Some((_, code)),
            ..
        }) if !code_matches(code) => error(
            actix_web::http::StatusCode::FORBIDDEN,
            "access_denied",
            "a same-device result needs the response_code the wallet brought back",
        ),
        Some(p) => HttpResponse::Ok()
            .insert_header(("cache-control", "no-store"))
            .json(
                p.outcome
                    .clone()
                    .unwrap_or_else(|| json!({ "status": "pending" })),
            ),
        None => not_found(),
    }
}

/// Serves until stopped; prints `verifier listening on URL` once it accepts connections.
pub async fn serve(
    bind: &str,
    public_url: String,
    counter_token: String,
    verifier: Verifier,
    online: Online,
) -> std::io::Result<()> {
    let counter = web::Data::new(Counter {
        public_url,
        counter_token,
        verifier,
        online,
        pending: Mutex::new(HashMap::new()),
    });
    let server = HttpServer::new(move || {
        App::new()
            .app_data(counter.clone())
            .app_data(web::JsonConfig::default().limit(16 * 1024))
            .app_data(
                web::FormConfig::default()
                    .limit(wallet_verifier::sd_jwt::MAX_PRESENTATION_LEN + 4096),
            )
            .route("/presentations", web::post().to(create))
            .route("/presentations/{id}", web::get().to(status))
            .route("/presentations/{id}/request", web::get().to(request_object))
            .route("/presentations/{id}/response", web::post().to(response))
    })
    .workers(2)
    .bind(bind)?;
    let addr = server
        .addrs()
        .first()
        .map(ToString::to_string)
        .unwrap_or_default();
    println!("verifier listening on http://{addr}");
    server.run().await
}
