#![allow(clippy::unwrap_used)]
//! Issue, present and verify SD-JWT VC licences; each refusal for its precise reason.

mod common;

use common::*;
use keys::SigningKey;
use serde_json::{json, Map, Value};
use wallet_verifier::sd_jwt::{
    self, disclosed_names, present, NonceBook, Refusal, StatusCheck, StatusList, StatusRef,
    Verified, INVALID, SUSPENDED,
};

fn verify(pki: &Pki, presentation: &str) -> Result<Verified, Refusal> {
    pki.verifier()
        .verify(presentation, &expect(StatusCheck::Skip))
}

/// The refusal code, for assertions that say what was expected.
fn code(r: Result<Verified, Refusal>) -> &'static str {
    match r {
        Ok(_) => "accepted",
        Err(e) => {
            // Every refusal explains itself, without claim values.
            let message = e.to_string();
            assert!(!message.is_empty());
            assert!(!message.contains("张三") && !message.contains("11010519491231002X"));
            e.code()
        }
    }
}

fn good_presentation(pki: &Pki, holder: &SigningKey) -> String {
    let issued = pki.issue(holder, None);
    present(&issued, &["姓名", "出生日期"], holder, AUD, NONCE, NOW).unwrap()
}

#[test]
fn happy_path_discloses_exactly_what_was_chosen() {
    let pki = Pki::new();
    let holder = holder();
    let issued = pki.issue(&holder, None);
    assert!(issued.ends_with('~'));
    let (jwt, disclosures) = split(&issued);
    assert_eq!(disclosures.len(), 5);
    let header = keys::peek_header(&jwt).unwrap();
    assert_eq!(header["alg"], "ES256");
    assert_eq!(header["typ"], "dc+sd-jwt");
    assert!(header.get("kid").is_none());
    let claims = payload(&jwt);
    assert_eq!(claims["_sd_alg"], "sha-256");
    let sd = claims["_sd"].as_array().unwrap();
    assert!(
        sd.len() > 5 && sd.len().is_multiple_of(8),
        "decoys pad _sd: {}",
        sd.len()
    );
    let mut sorted = sd.clone();
    sorted.sort_by(|a, b| a.as_str().cmp(&b.as_str()));
    assert_eq!(&sorted, sd, "digests are sorted");
    assert!(!jwt.contains("张三"), "no claim value is in the signed JWT");
    let mut names = disclosed_names(&issued);
    names.sort();
    let mut expected: Vec<String> = id_card().keys().cloned().collect();
    expected.sort();
    assert_eq!(names, expected);

    let presentation = present(&issued, &["姓名", "出生日期"], &holder, AUD, NONCE, NOW).unwrap();
    let verified = verify(&pki, &presentation).unwrap();
    assert_eq!(
        Value::Object(verified.claims.clone()),
        json!({"姓名": "张三", "出生日期": "1949-12-31"})
    );
    assert_eq!(verified.iss, ISS);
    assert_eq!(verified.vct, VCT);
    assert_eq!(verified.exp, NOW + YEAR);
    assert_eq!(verified.holder_thumbprint, holder.kid());
    assert_eq!(verified.status, None);
    let debug = format!("{verified:?}");
    assert!(debug.contains("姓名") && !debug.contains("张三"), "{debug}");

    // Disclosing nothing is allowed; disclosing a claim the licence lacks is not.
    let none = present(&issued, &[], &holder, AUD, NONCE, NOW).unwrap();
    assert!(verify(&pki, &none).unwrap().claims.is_empty());
    assert!(present(&issued, &["驾驶证号"], &holder, AUD, NONCE, NOW).is_err());
}

#[test]
fn nested_claims_are_disclosed_whole() {
    let pki = Pki::new();
    let holder = holder();
    let issued = pki.issue(&holder, None);
    let presentation = present(&issued, &["住址"], &holder, AUD, NONCE, NOW).unwrap();
    let verified = verify(&pki, &presentation).unwrap();
    assert_eq!(
        verified.claims["住址"],
        json!({"省": "浙江省", "市": "杭州市"})
    );
}

#[test]
fn tampered_disclosure_is_unknown() {
    let pki = Pki::new();
    let holder = holder();
    let (jwt, disclosures) = split(&pki.issue(&holder, None));
    let original = disclosure_of(&disclosures, "出生日期");
    let json = String::from_utf8(b64url_decode(&original)).unwrap();
    let edited = json.replace("1949", "1959");
    assert_ne!(json, edited);
    let tampered = b64url(edited.as_bytes());
    let presentation = bind(&join(&jwt, &[tampered]), &holder);
    assert_eq!(code(verify(&pki, &presentation)), "unknown_disclosure");
}

#[test]
fn disclosure_from_another_credential_is_unknown() {
    let pki = Pki::new();
    let holder = holder();
    let (jwt, disclosures) = split(&pki.issue(&holder, None));
    let licence = obj(json!({"准驾车型": "C1"}));
    let (_, other) = split(&pki.issue_custom(&holder, None, &licence, NOW - 10, NOW + YEAR));
    let mixed = vec![disclosure_of(&disclosures, "姓名"), other[0].clone()];
    let presentation = bind(&join(&jwt, &mixed), &holder);
    assert_eq!(code(verify(&pki, &presentation)), "unknown_disclosure");
}

#[test]
fn duplicate_disclosure_is_refused() {
    let pki = Pki::new();
    let holder = holder();
    let (jwt, disclosures) = split(&pki.issue(&holder, None));
    let name = disclosure_of(&disclosures, "姓名");
    let presentation = bind(&join(&jwt, &[name.clone(), name]), &holder);
    assert_eq!(code(verify(&pki, &presentation)), "duplicate_disclosure");
}

#[test]
fn key_binding_by_another_key_is_refused() {
    let pki = Pki::new();
    let holder = holder();
    let thief = common::holder();
    let issued = pki.issue(&holder, None);
    let presentation = present(&issued, &["姓名"], &thief, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &presentation)), "wrong_holder_key");
}

#[test]
fn nonce_must_be_present_and_the_one_issued() {
    let pki = Pki::new();
    let holder = holder();
    let issued = pki.issue(&holder, None);
    let (jwt, disclosures) = split(&issued);
    let sd = join(&jwt, &disclosures[..1]);
    let mut claims = Map::new();
    claims.insert("iat".into(), NOW.into());
    claims.insert("aud".into(), AUD.into());
    claims.insert("sd_hash".into(), b64url(&sha256(sd.as_bytes())).into());
    let kb = holder
        .sign_jwt_with_header("kb+jwt", &Map::new(), &claims)
        .unwrap();
    assert_eq!(code(verify(&pki, &format!("{sd}{kb}"))), "missing_nonce");

    let other = present(&issued, &["姓名"], &holder, AUD, "another-nonce", NOW).unwrap();
    assert_eq!(code(verify(&pki, &other)), "wrong_nonce");
}

#[test]
fn replayed_nonce_is_refused_by_the_nonce_book() {
    let pki = Pki::new();
    let holder = holder();
    let verifier = pki.verifier();
    let mut book = NonceBook::new(300, 1000);
    let nonce = book.issue(NOW).unwrap();
    let issued = pki.issue(&holder, None);
    let presentation = present(&issued, &["姓名"], &holder, AUD, &nonce, NOW).unwrap();
    let mut e = expect(StatusCheck::Skip);
    e.nonce = &nonce;
    // The verifier service: verify, then spend the nonce the KB-JWT carried.
    assert!(verifier.verify(&presentation, &e).is_ok());
    assert!(book.spend_or_refuse(&nonce, NOW + 5).is_ok());
    // The same presentation again: still well-formed, but its nonce is spent.
    assert!(verifier.verify(&presentation, &e).is_ok());
    let replay = book.spend_or_refuse(&nonce, NOW + 6).unwrap_err();
    assert_eq!(replay.code(), "replayed_nonce");
    assert_eq!(replay, Refusal::ReplayedNonce);
}

#[test]
fn wrong_audience_is_refused() {
    let pki = Pki::new();
    let holder = holder();
    let issued = pki.issue(&holder, None);
    let presentation = present(
        &issued,
        &["姓名"],
        &holder,
        "https://evil.example",
        NONCE,
        NOW,
    )
    .unwrap();
    assert_eq!(code(verify(&pki, &presentation)), "wrong_audience");
}

#[test]
fn expired_and_not_yet_valid_credentials_are_refused() {
    let pki = Pki::new();
    let holder = holder();
    let old = pki.issue_custom(&holder, None, &id_card(), NOW - YEAR, NOW - 1);
    let p = present(&old, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "expired");
    // exp == now is already expired.
    let edge = pki.issue_custom(&holder, None, &id_card(), NOW - YEAR, NOW);
    let p = present(&edge, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "expired");
    let future = pki.issue_custom(&holder, None, &id_card(), NOW + 3600, NOW + YEAR);
    let p = present(&future, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "not_yet_valid");
}

#[test]
fn revoked_suspended_and_valid_by_status_list() {
    let pki = Pki::new();
    let holder = holder();
    let verifier = pki.verifier();
    let mut list = StatusList::new(2, 1000).unwrap();
    list.set(7, INVALID).unwrap();
    list.set(8, SUSPENDED).unwrap();
    let token = verifier
        .verify_status_list_token(&pki.status_token(&list), STATUS_URI, NOW)
        .unwrap();
    let at = |idx: u64| {
        let issued = pki.issue(
            &holder,
            Some(StatusRef {
                uri: STATUS_URI.into(),
                idx,
            }),
        );
        let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
        code(verifier.verify(&p, &expect_list(&token)))
    };
    assert_eq!(at(7), "revoked");
    assert_eq!(at(8), "suspended");
    assert_eq!(at(9), "accepted");
    assert_eq!(at(5000), "status_index_out_of_range");

    let issued = pki.issue(
        &holder,
        Some(StatusRef {
            uri: STATUS_URI.into(),
            idx: 7,
        }),
    );
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    // Offline: the caller chose to skip the status check.
    let ok = verifier.verify(&p, &expect(StatusCheck::Skip)).unwrap();
    assert_eq!(ok.status.unwrap().idx, 7);
    // A list that expired since it was fetched is not used.
    let mut late = expect_list(&token);
    late.now = NOW + 3601;
    late.max_age_secs = 4000;
    assert_eq!(code(verifier.verify(&p, &late)), "status_list_expired");
}

#[test]
fn status_list_for_another_uri_is_refused() {
    let pki = Pki::new();
    let holder = holder();
    let verifier = pki.verifier();
    let list = StatusList::new(2, 100).unwrap();
    let token = verifier
        .verify_status_list_token(&pki.status_token(&list), STATUS_URI, NOW)
        .unwrap();
    let issued = pki.issue(
        &holder,
        Some(StatusRef {
            uri: "https://hub.gov.cn.example/status/2".into(),
            idx: 1,
        }),
    );
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(
        code(verifier.verify(&p, &expect_list(&token))),
        "status_list_mismatch"
    );
}

#[test]
fn chain_to_another_root_is_untrusted() {
    let pki = Pki::new();
    let stranger = Pki::new();
    let holder = holder();
    let p = good_presentation(&stranger, &holder);
    assert_eq!(code(verify(&pki, &p)), "untrusted_root");
}

#[test]
fn self_signed_leaf_is_refused() {
    let pki = Pki::new();
    let holder = holder();
    // The issuer key certifies itself and signs the credential.
    let self_signed = keys::root_certificate(
        &pki.issuer_key,
        "浙江省电子证照签发",
        NOW - YEAR,
        NOW + YEAR,
    )
    .unwrap();
    let issued = pki.issue_with_chain(&holder, &[self_signed]);
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "self_signed_certificate");
    // Sent after a genuine leaf, the trusted root itself is refused in the chain.
    let issued = pki.issue_with_chain(&holder, &[pki.leaf.clone(), pki.root.clone()]);
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "self_signed_certificate");
}

#[test]
fn alg_none_and_other_algs_are_refused() {
    let pki = Pki::new();
    let holder = holder();
    let (jwt, disclosures) = split(&pki.issue(&holder, None));
    let payload_part = jwt.split('.').nth(1).unwrap();
    for alg in ["none", "None", "NONE", "HS256", "RS256", "ES384", "es256"] {
        let mut header = x5c(&pki.chain());
        header.insert("alg".into(), alg.into());
        header.insert("typ".into(), "dc+sd-jwt".into());
        let header = b64url(Value::Object(header).to_string().as_bytes());
        for signature in ["", "c2lnbmF0dXJl"] {
            let forged = format!("{header}.{payload_part}.{signature}");
            let p = bind(&join(&forged, &disclosures[..1]), &holder);
            assert_eq!(code(verify(&pki, &p)), "unsupported_alg", "alg {alg}");
        }
    }
}

#[test]
fn modified_issuer_payload_fails_the_signature() {
    let pki = Pki::new();
    let holder = holder();
    let (jwt, disclosures) = split(&pki.issue(&holder, None));
    let mut parts: Vec<&str> = jwt.split('.').collect();
    let mut claims = payload(&jwt);
    claims.insert("exp".into(), (NOW + 50 * YEAR).into());
    let edited = b64url(Value::Object(claims).to_string().as_bytes());
    parts[1] = &edited;
    let forged = parts.join(".");
    let p = bind(&join(&forged, &disclosures[..1]), &holder);
    assert_eq!(code(verify(&pki, &p)), "bad_issuer_signature");
}

#[test]
fn removing_a_disclosure_after_binding_breaks_sd_hash() {
    let pki = Pki::new();
    let holder = holder();
    let p = good_presentation(&pki, &holder);
    let (jwt, disclosures) = split(&p);
    let kb = p.rsplit('~').next().unwrap();
    let cut = format!("{}{kb}", join(&jwt, &disclosures[..1]));
    assert_eq!(code(verify(&pki, &cut)), "sd_hash_mismatch");
}

#[test]
fn stale_or_future_key_binding_is_refused() {
    let pki = Pki::new();
    let holder = holder();
    let issued = pki.issue(&holder, None);
    let old = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW - 301).unwrap();
    assert_eq!(code(verify(&pki, &old)), "stale_key_binding");
    let edge = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW - 300).unwrap();
    assert_eq!(code(verify(&pki, &edge)), "accepted");
    let future = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW + 61).unwrap();
    assert_eq!(code(verify(&pki, &future)), "key_binding_in_future");
}

#[test]
fn presentation_without_key_binding_is_refused() {
    let pki = Pki::new();
    let holder = holder();
    let issued = pki.issue(&holder, None);
    assert_eq!(code(verify(&pki, &issued)), "missing_key_binding");
    assert_eq!(
        code(verify(&pki, issued.trim_end_matches('~'))),
        "missing_key_binding"
    );
    let (jwt, _) = split(&issued);
    assert_eq!(
        code(verify(&pki, &format!("{jwt}~"))),
        "missing_key_binding"
    );
    assert_eq!(code(verify(&pki, &jwt)), "malformed");
}

#[test]
fn oversized_and_malformed_presentations_are_refused() {
    let pki = Pki::new();
    let holder = holder();
    let p = good_presentation(&pki, &holder);
    let big = format!("{}{}", "A".repeat(64 * 1024), p);
    assert_eq!(code(verify(&pki, &big)), "too_large");
    let (jwt, disclosures) = split(&p);
    let kb = p.rsplit('~').next().unwrap();
    let double_tilde = format!("{jwt}~~{}~{kb}", disclosures[0]);
    assert_eq!(code(verify(&pki, &double_tilde)), "malformed");
    let garbage = bind(&join(&jwt, &["!!notbase64".into()]), &holder);
    assert_eq!(code(verify(&pki, &garbage)), "bad_disclosure");
}

#[test]
fn issuer_header_rules() {
    let pki = Pki::new();
    let holder = holder();
    let issued = pki.issue(&holder, None);
    let (jwt, disclosures) = split(&issued);
    let claims = payload(&jwt);
    let sign = |typ: &str, extra: Map<String, Value>, claims: &Map<String, Value>| {
        let jwt = pki
            .issuer_key
            .sign_jwt_with_header(typ, &extra, claims)
            .unwrap();
        bind(&join(&jwt, &disclosures[..1]), &holder)
    };
    assert_eq!(
        code(verify(&pki, &sign("dc+sd-jwt", x5c(&pki.chain()), &claims))),
        "accepted"
    );
    assert_eq!(
        code(verify(&pki, &sign("vc+sd-jwt", x5c(&pki.chain()), &claims))),
        "wrong_typ"
    );
    assert_eq!(
        code(verify(&pki, &sign("JWT", x5c(&pki.chain()), &claims))),
        "wrong_typ"
    );
    for forbidden in ["jwk", "jku", "x5u", "crit"] {
        let mut extra = x5c(&pki.chain());
        extra.insert(forbidden.into(), json!("x"));
        assert_eq!(
            code(verify(&pki, &sign("dc+sd-jwt", extra, &claims))),
            "forbidden_header",
            "{forbidden}"
        );
    }
    assert_eq!(
        code(verify(&pki, &sign("dc+sd-jwt", Map::new(), &claims))),
        "bad_certificate"
    );

    let mut sha512 = claims.clone();
    sha512.insert("_sd_alg".into(), "sha-512".into());
    assert_eq!(
        code(verify(&pki, &sign("dc+sd-jwt", x5c(&pki.chain()), &sha512))),
        "unsupported_sd_alg"
    );
    let mut other_iss = claims.clone();
    other_iss.insert("iss".into(), "https://evil.example".into());
    assert_eq!(
        code(verify(
            &pki,
            &sign("dc+sd-jwt", x5c(&pki.chain()), &other_iss)
        )),
        "issuer_not_in_certificate"
    );
    let mut no_exp = claims.clone();
    no_exp.remove("exp");
    assert_eq!(
        code(verify(&pki, &sign("dc+sd-jwt", x5c(&pki.chain()), &no_exp))),
        "missing_claim"
    );
    let mut future_iat = claims.clone();
    future_iat.insert("iat".into(), (NOW + 61).into());
    future_iat.insert("nbf".into(), NOW.into());
    assert_eq!(
        code(verify(
            &pki,
            &sign("dc+sd-jwt", x5c(&pki.chain()), &future_iat)
        )),
        "issued_in_future"
    );
    let mut plain_name = claims.clone();
    plain_name.insert("姓名".into(), "李四".into());
    assert_eq!(
        code(verify(
            &pki,
            &sign("dc+sd-jwt", x5c(&pki.chain()), &plain_name)
        )),
        "claim_collision"
    );
}

#[test]
fn certificates_outside_their_validity_are_refused() {
    let pki = Pki::new();
    let holder = holder();
    let p = good_presentation(&pki, &holder);
    let verifier = pki.verifier();
    let mut e = expect(StatusCheck::Skip);
    // The cache holds the chain now; later, past the leaf's not_after, it must not help.
    assert!(verifier.verify(&p, &e).is_ok());
    e.now = NOW + 3 * YEAR;
    assert_eq!(code(verifier.verify(&p, &e)), "certificate_not_valid_now");
}

#[test]
fn certificate_roles_are_enforced() {
    let pki = Pki::new();
    let holder = holder();
    // A leaf (CA:FALSE) used as an intermediate to certify the issuer.
    let mid_key = SigningKey::generate(keys::Alg::ES256).unwrap();
    let mid = keys::leaf_certificate(
        &pki.root_key,
        &pki.root,
        "not a CA",
        &mid_key.verifier(),
        NOW - YEAR,
        NOW + YEAR,
    )
    .unwrap();
    let under_mid = keys::leaf_certificate(
        &mid_key,
        &mid,
        "issuer",
        &pki.issuer_key.verifier(),
        NOW - YEAR,
        NOW + YEAR,
    )
    .unwrap();
    let issued = pki.issue_with_chain(&holder, &[under_mid, mid]);
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "certificate_misuse");
    // A leaf whose key is not the one that signed the credential.
    let other = Pki::new();
    let wrong_leaf = keys::leaf_certificate(
        &pki.root_key,
        &pki.root,
        "someone else",
        &other.issuer_key.verifier(),
        NOW - YEAR,
        NOW + YEAR,
    )
    .unwrap();
    let issued = pki.issue_with_chain(&holder, &[wrong_leaf]);
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "bad_issuer_signature");
    // A leaf for the right key that names no issuer (no SAN) vouches for none.
    let nameless = keys::leaf_certificate(
        &pki.root_key,
        &pki.root,
        "an issuer without a name",
        &pki.issuer_key.verifier(),
        NOW - YEAR,
        NOW + YEAR,
    )
    .unwrap();
    let issued = pki.issue_with_chain(&holder, &[nameless]);
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "issuer_not_in_certificate");
    // Out of order: the intermediate first.
    let issued = pki.issue_with_chain(&holder, &[pki.root.clone(), pki.leaf.clone()]);
    let p = present(&issued, &["姓名"], &holder, AUD, NONCE, NOW).unwrap();
    assert_eq!(code(verify(&pki, &p)), "self_signed_certificate");
}

#[test]
fn issuing_refuses_bad_input() {
    let pki = Pki::new();
    let holder = holder();
    let chain = pki.chain();
    let jwk = holder.public_jwk();
    let base = |claims: &Map<String, Value>| {
        // Each call builds and issues with borrowed claims; only the result escapes.
        sd_jwt::issue(&request(&pki, &chain, &jwk, claims))
    };
    for reserved in ["iss", "exp", "cnf", "status", "_sd", "..."] {
        let mut claims = id_card();
        claims.insert(reserved.into(), json!(1));
        assert!(matches!(
            base(&claims),
            Err(sd_jwt::SdJwtError::ReservedClaim(_))
        ));
    }
    // A holder JWK with its private part would publish the private key: refused.
    let claims = id_card();
    let mut leaky = holder.public_jwk();
    leaky.insert("d".into(), "AAAA".into());
    assert!(sd_jwt::issue(&request(&pki, &chain, &leaky, &claims)).is_err());
    let mut req = request(&pki, &chain, &jwk, &claims);
    req.exp = NOW;
    assert!(sd_jwt::issue(&req).is_err());
    assert!(sd_jwt::issue(&request(&pki, &[], &jwk, &claims)).is_err());
    // cnf.jwk holds the public members only.
    let issued = base(&claims).unwrap();
    let cnf = payload(&split(&issued).0)["cnf"]["jwk"].clone();
    let mut members: Vec<&str> = cnf
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    members.sort();
    assert_eq!(members, ["crv", "kty", "x", "y"]);
    // The issuer's Debug shows claim names, not values.
    let debug = format!("{:?}", request(&pki, &chain, &jwk, &claims));
    assert!(debug.contains("姓名") && !debug.contains("张三"));
}

fn request<'a>(
    pki: &'a Pki,
    chain: &'a [Vec<u8>],
    holder_jwk: &'a Map<String, Value>,
    claims: &'a Map<String, Value>,
) -> sd_jwt::Issue<'a> {
    sd_jwt::Issue {
        signer: &pki.issuer_key,
        x5c: chain,
        iss: ISS,
        vct: VCT,
        iat: NOW,
        nbf: None,
        exp: NOW + YEAR,
        holder_jwk,
        status: None,
        claims,
    }
}

fn sha256(data: &[u8]) -> Vec<u8> {
    use sha2::Digest as _;
    sha2::Sha256::digest(data).to_vec()
}
