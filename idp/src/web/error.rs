//! The one place where failures become HTTP: OAuth JSON bodies (RFC 6749 5.2), Bearer
//! challenges (RFC 6750 3), and readable pages for people.
use super::i18n::Lang;
use super::pages::{self, Frame};
use crate::flows::Infra;
use crate::store::StoreError;
use actix_web::http::{header, StatusCode};
use actix_web::{HttpResponse, ResponseError};
use serde_json::json;

#[derive(Debug)]
pub enum WebError {
    OAuth {
        status: StatusCode,
        error: &'static str,
        description: String,
        basic_challenge: bool,
    },
    Bearer {
        status: StatusCode,
        error: Option<&'static str>,
        description: Option<String>,
        scope: Option<&'static str>,
    },
    /// An error for a token presented with the DPoP scheme (RFC 9449 7.1).
    Dpop {
        error: &'static str,
        description: String,
    },
    Page {
        status: StatusCode,
        frame: Box<Frame>,
        title: String,
        message: String,
    },
    /// The database (or audit log) cannot be reached: fail fast, say so, keep nothing half-done.
    Unavailable {
        json: bool,
        lang: Lang,
    },
    Internal {
        json: bool,
        lang: Lang,
    },
    /// Input the database refuses to store (a NUL byte in text, on PostgreSQL): the client's
    /// fault, answered 400 like any other malformed request.
    BadInput {
        json: bool,
        lang: Lang,
    },
}

impl std::fmt::Display for WebError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WebError::OAuth {
                error, description, ..
            } => write!(f, "{error}: {description}"),
            WebError::Bearer { error, .. } => write!(f, "bearer {}", error.unwrap_or("missing")),
            WebError::Dpop { error, .. } => write!(f, "dpop {error}"),
            WebError::Page { title, message, .. } => write!(f, "{title}: {message}"),
            WebError::Unavailable { .. } => f.write_str("service unavailable"),
            WebError::Internal { .. } => f.write_str("internal error"),
            WebError::BadInput { .. } => f.write_str("malformed input"),
        }
    }
}

impl WebError {
    pub fn oauth(error: &'static str, description: impl Into<String>) -> Self {
        WebError::OAuth {
            status: StatusCode::BAD_REQUEST,
            error,
            description: description.into(),
            basic_challenge: false,
        }
    }

    /// Maps infrastructure failures: unreachable database = 503, anything else = 500.
    pub fn infra(e: Infra, json: bool, lang: Lang) -> Self {
        match &e {
            Infra::Store(StoreError::Unavailable(_)) | Infra::Audit(_) => {
                tracing::warn!(error = %e, "dependency unavailable");
                WebError::Unavailable { json, lang }
            }
            Infra::Store(StoreError::Query(q)) if is_refused_text(q) => {
                WebError::BadInput { json, lang }
            }
            Infra::Store(StoreError::Query(q)) if is_connection_error(q) => {
                tracing::warn!(error = %e, "database connection lost");
                WebError::Unavailable { json, lang }
            }
            _ => {
                tracing::error!(error = %e, "internal error");
                WebError::Internal { json, lang }
            }
        }
    }
}

/// PostgreSQL refuses text with a NUL byte (SQLSTATE 22021); SQLite stores it.
fn is_refused_text(e: &diesel::result::Error) -> bool {
    e.to_string().contains("invalid byte sequence for encoding")
}

fn is_connection_error(e: &diesel::result::Error) -> bool {
    let text = e.to_string().to_ascii_lowercase();
    [
        "connection",
        "server closed",
        "terminating",
        "shutting down",
        "could not connect",
        "broken pipe",
        "database is locked",
    ]
    .iter()
    .any(|needle| text.contains(needle))
}

fn no_store(builder: &mut actix_web::HttpResponseBuilder) -> &mut actix_web::HttpResponseBuilder {
    builder
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .insert_header((header::PRAGMA, "no-cache"))
}

/// Quoted-string content for WWW-Authenticate: no quotes, backslashes or control characters.
fn quote_safe(s: &str) -> String {
    s.chars()
        .filter(|c| *c != '"' && *c != '\\' && !c.is_control())
        .collect()
}

impl ResponseError for WebError {
    fn status_code(&self) -> StatusCode {
        match self {
            WebError::OAuth { status, .. }
            | WebError::Bearer { status, .. }
            | WebError::Page { status, .. } => *status,
            WebError::Dpop { .. } => StatusCode::UNAUTHORIZED,
            WebError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            WebError::Internal { .. } => StatusCode::INTERNAL_SERVER_ERROR,
            WebError::BadInput { .. } => StatusCode::BAD_REQUEST,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        match self {
            WebError::OAuth {
                error,
                description,
                basic_challenge,
                ..
            } => {
                let mut b = HttpResponse::build(status);
                no_store(&mut b);
                if *basic_challenge {
                    b.insert_header((
                        header::WWW_AUTHENTICATE,
                        r#"Basic realm="idp", charset="UTF-8""#,
                    ));
                }
                b.json(json!({ "error": error, "error_description": description }))
            }
            WebError::Bearer {
                error,
                description,
                scope,
                ..
            } => {
                let mut challenge = String::from(r#"Bearer realm="idp""#);
                if let Some(e) = error {
                    challenge.push_str(&format!(r#", error="{e}""#));
                }
                if let Some(d) = description {
                    challenge.push_str(&format!(r#", error_description="{}""#, quote_safe(d)));
                }
                if let Some(s) = scope {
                    challenge.push_str(&format!(r#", scope="{s}""#));
                }
                let mut b = HttpResponse::build(status);
                no_store(&mut b).insert_header((header::WWW_AUTHENTICATE, challenge));
                match error {
                    Some(e) => b.json(json!({ "error": e, "error_description": description })),
                    None => b.finish(),
                }
            }
            WebError::Dpop { error, description } => {
                let challenge = format!(
                    r#"DPoP algs="ES256 RS256", error="{error}", error_description="{}""#,
                    quote_safe(description)
                );
                let mut b = HttpResponse::build(status);
                no_store(&mut b).insert_header((header::WWW_AUTHENTICATE, challenge));
                b.json(json!({ "error": error, "error_description": description }))
            }
            WebError::Page {
                frame,
                title,
                message,
                ..
            } => HttpResponse::build(status)
                .content_type("text/html; charset=utf-8")
                .insert_header((header::CACHE_CONTROL, "no-store"))
                .body(pages::message(frame, title, message)),
            WebError::Unavailable { json, lang }
            | WebError::Internal { json, lang }
            | WebError::BadInput { json, lang } => {
                let t = lang.t();
                let (code, text) = match status {
                    StatusCode::SERVICE_UNAVAILABLE => ("temporarily_unavailable", t.unavailable),
                    StatusCode::BAD_REQUEST => ("invalid_request", t.malformed),
                    _ => ("server_error", t.internal),
                };
                let mut b = HttpResponse::build(status);
                no_store(&mut b);
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    b.insert_header((header::RETRY_AFTER, "5"));
                }
                if *json {
                    b.json(json!({ "error": code, "error_description": text }))
                } else {
                    let frame = Frame {
                        lang: *lang,
                        elder: false,
                        csrf: String::new(),
                        path: "/".into(),
                    };
                    b.content_type("text/html; charset=utf-8")
                        .body(pages::message(&frame, t.error_title, text))
                }
            }
        }
    }
}
