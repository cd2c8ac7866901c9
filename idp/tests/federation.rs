//! Federation configuration: upstream identity providers and finding a citizen's home.
#![allow(clippy::unwrap_used)]
mod common;

use common::{id_number, TestServer};
use idp::domain::id_number::IdNumber;
use idp::flows::upstreams::{self, AddError, NewUpstream};

const SECRET: &str = "a-secret-of-this-node-at-that-one";

#[actix_web::test]
async fn a_citizen_is_sent_to_the_most_specific_enabled_home() {
    let server = TestServer::start().await;
    let homes = server
        .with(|svc| {
            for (code, name) in [
                ("00", "国家枢纽"),
                ("33", "浙江"),
                ("3301", "杭州"),
                ("51", "四川"),
            ] {
                let new = NewUpstream {
                    code,
                    name,
                    issuer: &format!("https://idp-{code}.example"),
                    client_id: "node",
                    client_secret: SECRET,
                };
                upstreams::add(svc, &new, "test").unwrap().unwrap();
            }
            let home = |n: &str| {
                upstreams::home_of(svc, &IdNumber::parse(n).unwrap())
                    .unwrap()
                    .map(|u| u.code)
            };
            let hangzhou = id_number(33, 7).replacen("330105", "330106", 1);
            let hangzhou = fix_check(&hangzhou);
            let before = (
                home(&id_number(33, 7)),
                home(&hangzhou),
                home(&id_number(44, 7)),
            );
            upstreams::set_enabled(svc, "3301", false, "test").unwrap();
            let after = home(&hangzhou);
            let taken = upstreams::add(
                svc,
                &NewUpstream {
                    code: "33",
                    name: "浙江",
                    issuer: "https://again.example",
                    client_id: "node",
                    client_secret: SECRET,
                },
                "test",
            )
            .unwrap();
            let row = svc.store.upstream("51").unwrap().unwrap();
            let secret = upstreams::client_secret(svc, &row).unwrap();
            (before, after, taken, secret.to_string())
        })
        .await;
    let (before, after, taken, secret) = homes;
    // 330105… lives under 3301 (Hangzhou), which is more specific than 33.
    assert_eq!(
        before,
        (Some("3301".into()), Some("3301".into()), None),
        "county codes fall back to their city, then their province; the hub is never a home"
    );
    assert_eq!(after, Some("33".into()), "a disabled upstream sends no one");
    assert_eq!(taken, Err(AddError::Taken));
    assert_eq!(
        secret, SECRET,
        "the sealed secret opens with this node's KEK"
    );
}

/// `first17` plus its right check character.
fn fix_check(number: &str) -> String {
    let first17 = &number[..17];
    let check = idp::domain::id_number::check_char(first17.as_bytes()) as char;
    format!("{first17}{check}")
}
