//! Liveness, readiness (the database answers) and Prometheus metrics.
use super::blocking;
use crate::services::Services;
use actix_web::{web, HttpResponse};
use std::fmt::Write;

pub async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok\n")
}

pub async fn readyz(svc: web::Data<Services>) -> HttpResponse {
    match blocking(&svc, |s| s.store.ping()).await {
        Ok(Ok(())) => HttpResponse::Ok()
            .content_type("text/plain")
            .body("ready\n"),
        _ => HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable\n"),
    }
}

/// Prometheus text format 0.0.4. Counters are flushed to the database first, so every
/// replica's `/metrics` shows the cluster-wide totals per client.
pub async fn metrics(svc: web::Data<Services>) -> HttpResponse {
    let gathered = blocking(&svc, |s| {
        s.counters.flush(&s.store, &s.clock)?;
        Ok::<_, crate::store::StoreError>((s.store.counts()?, s.store.audit_head()?.0))
    })
    .await;
    let Ok(Ok((counts, audit_entries))) = gathered else {
        return HttpResponse::ServiceUnavailable()
            .content_type("text/plain")
            .body("database unavailable\n");
    };
    let mut out = String::new();
    for (name, help, pick) in [
        (
            "idp_client_logins_total",
            "Authorizations completed (codes issued) per client.",
            0,
        ),
        (
            "idp_client_tokens_total",
            "Token responses issued per client.",
            1,
        ),
        (
            "idp_client_errors_total",
            "OAuth errors returned to each client.",
            2,
        ),
    ] {
        let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter");
        for (client, c) in &counts {
            let v = [c.logins, c.tokens, c.errors][pick];
            let _ = writeln!(
                out,
                "{name}{{client_id=\"{}\"}} {v}",
                client.replace(['"', '\\', '\n'], "_")
            );
        }
    }
    let _ = writeln!(out, "# HELP idp_audit_entries Entries in the audit log.\n# TYPE idp_audit_entries gauge\nidp_audit_entries {audit_entries}");
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(out)
}
