//! The issuer's certificate chain (`x5c`, RFC 7515 4.1.6) checked against the configured
//! national root(s). Deliberately narrow, as our PKI is: P-256 keys, ecdsa-with-SHA256
//! signatures, v3 certificates, the root never sent, every certificate valid at `now`.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde_json::{Map, Value};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::oid_registry::{
    OID_EC_P256, OID_KEY_TYPE_EC_PUBLIC_KEY, OID_SIG_ECDSA_WITH_SHA256,
};
use x509_parser::prelude::FromDer;
use x509_parser::x509::X509Version;

use super::es256::P256Key;
use super::json::b64;
use super::Refusal;

/// Leaf plus intermediates; national chains are one or two long.
pub(crate) const MAX_CHAIN_LEN: usize = 4;

/// What a verified chain gives the verifier: the leaf's key and how long the verdict holds.
#[derive(Debug)]
pub(crate) struct ValidatedChain {
    pub leaf_key: P256Key,
    /// The latest not_before of the chain and its root.
    pub valid_from: i64,
    /// The earliest not_after of the chain and its root (inclusive, as in X.509).
    pub valid_until: i64,
    /// The leaf's uniformResourceIdentifier and dNSName SANs, to bind `iss`.
    pub san_uris: Vec<String>,
    pub san_dns: Vec<String>,
}

/// The `x5c` header: 1..=MAX_CHAIN_LEN standard-base64 DER strings.
pub(crate) fn header_chain(header: &Map<String, Value>) -> Result<Vec<&str>, Refusal> {
    let Some(value) = header.get("x5c") else {
        return Err(Refusal::BadCertificate("the header has no x5c chain"));
    };
    let items = value
        .as_array()
        .filter(|a| !a.is_empty() && a.len() <= MAX_CHAIN_LEN)
        .ok_or(Refusal::BadCertificate(
            "x5c must be an array of 1 to 4 certificates",
        ))?;
    items
        .iter()
        .map(|v| {
            v.as_str()
                .ok_or(Refusal::BadCertificate("an x5c entry is not a string"))
        })
        .collect()
}

/// Decodes the standard-base64 DER entries of `x5c`.
pub(crate) fn decode_chain(entries: &[&str]) -> Result<Vec<Vec<u8>>, Refusal> {
    entries
        .iter()
        .map(|e| {
            STANDARD
                .decode(e)
                .map_err(|_| Refusal::BadCertificate("an x5c entry is not standard base64"))
        })
        .collect()
}

/// Checks a self-signed P-256 CA certificate that the operator configured as trusted.
pub(crate) fn check_trusted_root(der: &[u8]) -> Result<(), &'static str> {
    let cert = parse(der).map_err(|_| "not a DER X.509 certificate")?;
    if cert.subject().as_raw() != cert.issuer().as_raw() || cert.verify_signature(None).is_err() {
        return Err("not self-signed");
    }
    check_algorithms(&cert).map_err(|_| "not a P-256 / ecdsa-with-SHA256 certificate")?;
    check_issuing(&cert, 0, 0).map_err(|_| "not a CA allowed to sign certificates")?;
    Ok(())
}

/// Validates `chain` (leaf first, root excluded) up to one of `roots` at `now`.
pub(crate) fn validate(
    chain: &[Vec<u8>],
    roots: &[Vec<u8>],
    now: i64,
) -> Result<ValidatedChain, Refusal> {
    let certs = chain
        .iter()
        .map(|der| parse(der))
        .collect::<Result<Vec<_>, _>>()?;
    let mut valid_from = i64::MIN;
    let mut valid_until = i64::MAX;
    for (i, cert) in certs.iter().enumerate() {
        check_algorithms(cert)?;
        // Self-issued or verifying under its own key: either way not below the root.
        if cert.subject().as_raw() == cert.issuer().as_raw() || cert.verify_signature(None).is_ok()
        {
            return Err(Refusal::SelfSignedCertificate(i));
        }
        let (from, until) = validity(cert);
        if now < from || now > until {
            return Err(Refusal::CertificateNotValidNow(i));
        }
        valid_from = valid_from.max(from);
        valid_until = valid_until.min(until);
        if i == 0 {
            check_leaf(cert)?;
        } else {
            check_issuing(cert, i, i - 1)?;
        }
        if let Some(issuer) = certs.get(i + 1) {
            if cert.issuer().as_raw() != issuer.subject().as_raw()
                || cert.verify_signature(Some(issuer.public_key())).is_err()
            {
                return Err(Refusal::BrokenChain(i));
            }
        }
    }
    let last = certs
        .last()
        .ok_or(Refusal::BadCertificate("the x5c chain is empty"))?;
    let root_index = certs.len();
    let root = roots
        .iter()
        .filter_map(|der| parse(der).ok())
        .find(|root| {
            last.issuer().as_raw() == root.subject().as_raw()
                && last.verify_signature(Some(root.public_key())).is_ok()
        })
        .ok_or(Refusal::UntrustedRoot)?;
    let (from, until) = validity(&root);
    if now < from || now > until {
        return Err(Refusal::CertificateNotValidNow(root_index));
    }
    // The root's pathlen must allow the intermediates that were sent.
    check_issuing(&root, root_index, root_index - 1)?;
    let leaf = &certs[0];
    let (san_uris, san_dns) = subject_alt_names(leaf)?;
    Ok(ValidatedChain {
        leaf_key: leaf_key(leaf)?,
        valid_from: valid_from.max(from),
        valid_until: valid_until.min(until),
        san_uris,
        san_dns,
    })
}

/// A key for the cache: SHA-256 over the x5c entries as sent.
pub(crate) fn chain_id(entries: &[&str]) -> [u8; 32] {
    use sha2::{Digest as _, Sha256};
    let mut h = Sha256::new();
    for e in entries {
        // ',' is not in the base64 alphabet, so the joining is unambiguous.
        h.update(e.as_bytes());
        h.update(b",");
    }
    h.finalize().into()
}

fn parse(der: &[u8]) -> Result<X509Certificate<'_>, Refusal> {
    match X509Certificate::from_der(der) {
        Ok(([], cert)) => Ok(cert),
        _ => Err(Refusal::BadCertificate(
            "an x5c entry is not a DER X.509 certificate",
        )),
    }
}

fn validity(cert: &X509Certificate<'_>) -> (i64, i64) {
    let v = cert.validity();
    (v.not_before.timestamp(), v.not_after.timestamp())
}

/// v3, a P-256 key, signed with ecdsa-with-SHA256, and no critical extension we do not know.
fn check_algorithms(cert: &X509Certificate<'_>) -> Result<(), Refusal> {
    if cert.version() != X509Version::V3 {
        return Err(Refusal::BadCertificate(
            "only X.509 v3 certificates are accepted",
        ));
    }
    if cert.signature_algorithm.algorithm != OID_SIG_ECDSA_WITH_SHA256 {
        return Err(Refusal::BadCertificate(
            "only ecdsa-with-SHA256 certificate signatures are accepted",
        ));
    }
    let spki = cert.public_key();
    let curve = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok());
    if spki.algorithm.algorithm != OID_KEY_TYPE_EC_PUBLIC_KEY || curve != Some(OID_EC_P256) {
        return Err(Refusal::BadCertificate(
            "only P-256 certificate keys are accepted",
        ));
    }
    let unknown_critical = cert.extensions().iter().any(|e| {
        e.critical
            && matches!(
                e.parsed_extension(),
                ParsedExtension::UnsupportedExtension { .. } | ParsedExtension::ParseError { .. }
            )
    });
    if unknown_critical {
        return Err(Refusal::BadCertificate(
            "a certificate has an unknown critical extension",
        ));
    }
    Ok(())
}

/// An end-entity certificate: not a CA, allowed to make digital signatures.
fn check_leaf(cert: &X509Certificate<'_>) -> Result<(), Refusal> {
    let misuse = |reason| Refusal::CertificateMisuse { index: 0, reason };
    let bc = cert
        .basic_constraints()
        .map_err(|_| Refusal::BadCertificate("duplicate basicConstraints"))?;
    if bc.is_some_and(|bc| bc.value.ca) {
        return Err(misuse("the leaf is a CA certificate"));
    }
    let ku = cert
        .key_usage()
        .map_err(|_| Refusal::BadCertificate("bad keyUsage"))?;
    if !ku.is_some_and(|ku| ku.value.digital_signature()) {
        return Err(misuse("the leaf's keyUsage lacks digitalSignature"));
    }
    Ok(())
}

/// A CA allowed to sign certificates, with `below` CA certificates under it in the path.
fn check_issuing(cert: &X509Certificate<'_>, index: usize, below: usize) -> Result<(), Refusal> {
    let misuse = |reason| Refusal::CertificateMisuse { index, reason };
    let bc = cert
        .basic_constraints()
        .map_err(|_| Refusal::BadCertificate("duplicate basicConstraints"))?
        .ok_or(misuse("an issuing certificate lacks basicConstraints"))?;
    if !bc.value.ca {
        return Err(misuse("an issuing certificate is not a CA"));
    }
    if bc
        .value
        .path_len_constraint
        .is_some_and(|max| (max as usize) < below)
    {
        return Err(misuse(
            "the path is longer than a CA's pathLenConstraint allows",
        ));
    }
    let ku = cert
        .key_usage()
        .map_err(|_| Refusal::BadCertificate("bad keyUsage"))?;
    if !ku.is_some_and(|ku| ku.value.key_cert_sign()) {
        return Err(misuse(
            "an issuing certificate's keyUsage lacks keyCertSign",
        ));
    }
    Ok(())
}

/// URI and DNS subject alternative names of the leaf.
fn subject_alt_names(cert: &X509Certificate<'_>) -> Result<(Vec<String>, Vec<String>), Refusal> {
    let mut uris = Vec::new();
    let mut dns = Vec::new();
    let san = cert
        .subject_alternative_name()
        .map_err(|_| Refusal::BadCertificate("bad subjectAltName"))?;
    for name in san.iter().flat_map(|s| s.value.general_names.iter()) {
        match name {
            GeneralName::URI(u) => uris.push((*u).to_string()),
            GeneralName::DNSName(d) => dns.push(d.to_ascii_lowercase()),
            _ => {}
        }
    }
    Ok((uris, dns))
}

/// The leaf's P-256 key, fully checked once here (OpenSSL's key check) since the hot path
/// only verifies with it.
fn leaf_key(cert: &X509Certificate<'_>) -> Result<P256Key, Refusal> {
    let bad = Refusal::BadCertificate("the leaf key is not a valid uncompressed P-256 point");
    let point = &cert.public_key().subject_public_key.data;
    let key = P256Key::from_sec1(point).ok_or(bad.clone())?;
    let mut jwk = Map::new();
    jwk.insert("kty".into(), "EC".into());
    jwk.insert("crv".into(), "P-256".into());
    jwk.insert("x".into(), b64(&point[1..33]).into());
    jwk.insert("y".into(), b64(&point[33..]).into());
    keys::VerifyingKey::from_jwk(&jwk).map_err(|_| bad)?;
    Ok(key)
}
