//! Side by side in one run: the scenarios oidc-provider also supports, driven by the same load
//! generator against idp and against it (`reference.rs`), with the ratio; idp's further token
//! scenarios; and every scenario's throughput as a share of the physical limit (`limits.rs`).
use crate::flows::{client_credentials, code_flow, http, log_in, Session};
use crate::limits::{Crypto, Limits};
use crate::load::{measure, Outcome};
use crate::server::{memory_kib, Fixture, Server};
use crate::wire::Wire;
use crate::{reference, tokens};
use std::sync::Arc;
use std::time::Duration;

pub struct Settings {
    pub duration: Duration,
    pub concurrency: usize,
}

/// One scenario's figures at idp, at the reference (when it supports it), and the crypto it
/// cannot avoid.
pub struct Row {
    pub ours: Outcome,
    pub theirs: Option<Outcome>,
    pub crypto: Crypto,
}

async fn sessions(
    http: &reqwest::Client,
    server: &Server,
    f: &Fixture,
    n: usize,
) -> Vec<Arc<Session>> {
    let mut out = Vec::new();
    for _ in 0..n {
        out.push(Arc::new(
            log_in(http, &server.base, f).await.expect("log in"),
        ));
    }
    out
}

/// idp's side: client_credentials, code flow, password login, refresh, introspection.
pub async fn ours(server: &Server, f: &Arc<Fixture>, s: &Settings) -> Vec<Outcome> {
    let http = http();
    let pid = server.child.id();
    let (n, d, base) = (s.concurrency, s.duration, server.base.clone());
    let mut out = Vec::new();
    let states: Vec<_> = (0..n).map(|_| (Wire::new(&base), f.clone())).collect();
    out.push(
        measure(
            "client_credentials token",
            states,
            d,
            pid,
            |mut st| async move {
                let ok = client_credentials(&mut st.0, &st.1).await;
                (st, ok)
            },
        )
        .await,
    );
    let logged_in = sessions(&http, server, f, n).await;
    let states: Vec<_> = logged_in
        .iter()
        .map(|sess| (Wire::new(&base), f.clone(), sess.clone()))
        .collect();
    out.push(
        measure(
            "code flow (existing session)",
            states,
            d,
            pid,
            |mut st| async move {
                let ok = code_flow(&mut st.0, &st.1, &st.2).await;
                (st, ok)
            },
        )
        .await,
    );
    // One citizen per virtual client: concurrent logins to one account would (rightly) lock it,
    // as every attempt counts as a failure until its password is found right.
    let mut states = Vec::new();
    for id in crate::server::more_citizens(server, f, n) {
        // Their first login consents to the app, so each measured login is the password alone.
        crate::flows::log_in_as(&http, &base, f, &id)
            .await
            .expect("a first login");
        states.push((Wire::new(&base), f.clone(), id));
    }
    out.push(
        measure(
            "password login (page, form, session)",
            states,
            d,
            pid,
            |mut st| async move {
                let ok = crate::flows::password_login(&mut st.0, &st.1, &st.2).await;
                (st, ok)
            },
        )
        .await,
    );
    let mut refresh_tokens = Vec::new();
    for sess in &logged_in {
        refresh_tokens.push(
            tokens::refresh_token(&http, &base, f, sess)
                .await
                .expect("an offline_access authorization"),
        );
    }
    let states: Vec<_> = refresh_tokens
        .iter()
        .map(|t| (Wire::new(&base), f.clone(), t.clone()))
        .collect();
    out.push(
        measure("refresh (rotating)", states, d, pid, |mut st| async move {
            let ok = tokens::refresh_at(
                &mut st.0,
                "/token",
                &st.1.client_id,
                &st.1.secret,
                &mut st.2,
            )
            .await;
            (st, ok)
        })
        .await,
    );
    // The tokens rotated: introspect fresh ones.
    let mut live = Vec::new();
    for sess in &logged_in {
        live.push(
            tokens::refresh_token(&http, &base, f, sess)
                .await
                .expect("a refresh token"),
        );
    }
    let states: Vec<_> = live
        .iter()
        .map(|t| (Wire::new(&base), f.clone(), t.clone()))
        .collect();
    out.push(
        measure(
            "introspection (refresh token)",
            states,
            d,
            pid,
            |mut st| async move {
                let ok = tokens::introspect_at(
                    &mut st.0,
                    "/introspect",
                    &st.1.client_id,
                    &st.1.secret,
                    &st.2,
                )
                .await;
                (st, ok)
            },
        )
        .await,
    );
    out
}

/// The reference's side, in the same order (no password login: it has no password store).
async fn theirs(s: &Settings) -> Result<(Vec<Option<Outcome>>, u64), String> {
    let http = http();
    let (n, d) = (s.concurrency, s.duration);
    let mut out = Vec::new();
    // Without refresh tokens first, as idp's code flow issues none for `openid profile`.
    let node = reference::start(false)?;
    let pid = node.child.id();
    let base = node.base.clone();
    let states: Vec<_> = (0..n).map(|_| Wire::new(&base)).collect();
    out.push(Some(
        measure(
            "client_credentials token",
            states,
            d,
            pid,
            |mut wire| async move {
                let ok = reference::client_credentials(&mut wire).await;
                (wire, ok)
            },
        )
        .await,
    ));
    let mut states = Vec::new();
    for _ in 0..n {
        let sess = reference::log_in(&http, &base)
            .await
            .ok_or("log in at oidc-provider")?;
        states.push((Wire::new(&base), Arc::new(sess)));
    }
    out.push(Some(
        measure(
            "code flow (existing session)",
            states,
            d,
            pid,
            |mut st| async move {
                let ok = reference::code_flow(&mut st.0, &st.1).await;
                (st, ok)
            },
        )
        .await,
    ));
    let (_, peak_kib) = memory_kib(pid);
    drop(node);
    out.push(None);
    let node = reference::start(true)?;
    let pid = node.child.id();
    let base = node.base.clone();
    let mut tokens = Vec::new();
    for _ in 0..n {
        let sess = reference::log_in(&http, &base)
            .await
            .ok_or("log in at oidc-provider")?;
        tokens.push(
            sess.refresh_token
                .ok_or("no refresh token from oidc-provider")?,
        );
    }
    let states: Vec<_> = tokens
        .iter()
        .map(|t| (Wire::new(&base), t.clone()))
        .collect();
    out.push(Some(
        measure("refresh (rotating)", states, d, pid, |mut st| async move {
            let ok = reference::refresh(&mut st.0, &mut st.1).await;
            (st, ok)
        })
        .await,
    ));
    let mut live = Vec::new();
    for _ in 0..n {
        let sess = reference::log_in(&http, &base)
            .await
            .ok_or("log in at oidc-provider")?;
        live.push(
            sess.refresh_token
                .ok_or("no refresh token from oidc-provider")?,
        );
    }
    let states: Vec<_> = live.iter().map(|t| (Wire::new(&base), t.clone())).collect();
    out.push(Some(
        measure(
            "introspection (refresh token)",
            states,
            d,
            pid,
            |mut st| async move {
                let ok = reference::introspect(&mut st.0, &st.1).await;
                (st, ok)
            },
        )
        .await,
    ));
    let peak_kib = peak_kib.max(memory_kib(pid).1);
    Ok((out, peak_kib))
}

/// The crypto each scenario cannot avoid, on the server (same order as `ours`).
const CRYPTO: [Crypto; 5] = [
    // A signed JWT access token.
    Crypto {
        signs: 1,
        verifies: 0,
        hashes: 0,
    },
    // ID token and access token.
    Crypto {
        signs: 2,
        verifies: 0,
        hashes: 0,
    },
    // One Argon2id hash (the login page issues no token).
    Crypto {
        signs: 0,
        verifies: 0,
        hashes: 1,
    },
    // A new access token and ID token.
    Crypto {
        signs: 2,
        verifies: 0,
        hashes: 0,
    },
    // None: a keyed lookup.
    Crypto {
        signs: 0,
        verifies: 0,
        hashes: 0,
    },
];

fn ratio(a: f64, b: f64) -> String {
    if b > 0.0 {
        format!("{:.2}x", a / b)
    } else {
        "-".into()
    }
}

/// Runs and prints both tables; false when a scenario failed.
/// `earlier`: scenarios measured before (name, ops/s, crypto), for the limits table.
pub async fn run(
    server: &Server,
    f: &Arc<Fixture>,
    s: &Settings,
    limits: &Limits,
    earlier: &[(String, f64, Crypto)],
) -> bool {
    // Each side twice for half the time, in the order idp, oidc-provider, oidc-provider, idp:
    // this host's speed drifts by a fifth within minutes, and a drift that is steady over the
    // four runs then weighs on both sides alike instead of on the one measured later.
    let half = Settings {
        duration: s.duration / 2,
        concurrency: s.concurrency,
    };
    let first = ours(server, f, &half).await;
    let theirs_twice = match theirs(&half).await {
        Ok(a) => theirs(&half).await.map(|b| (a, b)),
        Err(why) => Err(why),
    };
    let second = ours(server, f, &half).await;
    let ours: Vec<Outcome> = first
        .into_iter()
        .zip(second)
        .map(|(a, b)| a.merged(b))
        .collect();
    let (theirs, their_peak): (Vec<Option<Outcome>>, _) = match theirs_twice {
        Ok(((a, peak_a), (b, peak_b))) => (
            a.into_iter()
                .zip(b)
                .map(|(a, b)| a.zip(b).map(|(a, b)| a.merged(b)))
                .collect(),
            Some(peak_a.max(peak_b)),
        ),
        Err(why) => {
            println!("oidc-provider side by side: skipped ({why})");
            ((0..ours.len()).map(|_| None).collect(), None)
        }
    };
    let rows: Vec<Row> = ours
        .into_iter()
        .zip(theirs)
        .zip(CRYPTO)
        .map(|((ours, theirs), crypto)| Row {
            ours,
            theirs,
            crypto,
        })
        .collect();
    println!();
    println!("side by side, same generator, same {} clients (oidc-provider 9.13.3: in-memory store, one Node.js process):", s.concurrency);
    println!("| scenario | idp ops/s | p50 / p99 ms | errors | oidc-provider ops/s | p50 / p99 ms | errors | idp / oidc-provider | server CPU ms/op idp | oidc-provider | CPU ratio |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut ok = true;
    for r in &rows {
        let o = &r.ours;
        ok &= o.errors == 0 && o.ops > 0;
        let (t_ops, t_lat, t_err, t_cpu) = match &r.theirs {
            Some(t) => {
                ok &= t.errors == 0 && t.ops > 0;
                (
                    format!("{:.0}", t.per_second()),
                    format!("{:.2} / {:.2}", t.percentile(0.5), t.percentile(0.99)),
                    t.errors.to_string(),
                    format!("{:.3}", t.cpu_ms_per_op()),
                )
            }
            None => ("-".into(), "-".into(), "-".into(), "-".into()),
        };
        let theirs = r.theirs.as_ref();
        println!(
            "| {} | {:.0} | {:.2} / {:.2} | {} | {t_ops} | {t_lat} | {t_err} | {} | {:.3} | {t_cpu} | {} |",
            o.name,
            o.per_second(),
            o.percentile(0.5),
            o.percentile(0.99),
            o.errors,
            ratio(o.per_second(), theirs.map_or(0.0, Outcome::per_second)),
            o.cpu_ms_per_op(),
            match theirs {
                Some(t) => ratio(t.cpu_ms_per_op(), o.cpu_ms_per_op()),
                None => "-".into(),
            },
        );
    }
    if let Some(peak) = their_peak {
        println!("oidc-provider peak memory: {:.1} MB", peak as f64 / 1024.0);
    }
    println!();
    println!(
        "physical limit on {} cores: ES256 sign {:.1} us, verify {:.1} us, Argon2id (19 MiB, t=2, p=1) {:.1} ms per hash with every core hashing at once ({:.1} ms alone)",
        limits.cores, limits.sign_us, limits.verify_us, limits.argon2_ms, limits.argon2_alone_ms
    );
    println!("| scenario | unavoidable crypto per op | ceiling ops/s | idp ops/s | share of the ceiling |");
    println!("|---|---|---:|---:|---:|");
    let all = rows
        .iter()
        .map(|r| (r.ours.name.clone(), r.ours.per_second(), r.crypto))
        .chain(earlier.iter().cloned());
    for (name, per_second, c) in all {
        let what = format!(
            "{} sign, {} verify, {} Argon2id",
            c.signs, c.verifies, c.hashes
        );
        match limits.ceiling(c) {
            Some(ceiling) => println!(
                "| {name} | {what} | {ceiling:.0} | {per_second:.0} | {:.0}% |",
                per_second / ceiling * 100.0
            ),
            None => println!("| {name} | none | - | {per_second:.0} | - |"),
        }
    }
    // The same question asked of the server alone, immune to how the host's memory bandwidth
    // moves between the ceiling's measurement and the run: how much of its CPU is the hash.
    for r in rows.iter().filter(|r| r.crypto.hashes > 0) {
        if let Some((share, rest_ms)) = r.ours.hashing() {
            println!(
                "{}: Argon2id is {:.1} % of the server's CPU ({:.2} ms per login besides the hash)",
                r.ours.name,
                share * 100.0,
                rest_ms
            );
        }
    }
    ok
}
