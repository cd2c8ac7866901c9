//! X.509 v3 certificates for ES256 (P-256) keys: the national root (self-signed) and the
//! issuer certificates it signs, whose chain travels in the `x5c` header of electronic
//! licences (SD-JWT VC) and status lists. Built with OpenSSL, which josekit already loads.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use openssl::asn1::{Asn1Integer, Asn1Time};
use openssl::bn::{BigNum, MsbOption};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::x509::extension::{
    AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectAlternativeName,
    SubjectKeyIdentifier,
};
use openssl::x509::{X509Builder, X509Name, X509NameBuilder, X509};

use crate::{b64_decode, Alg, KeyError, SigningKey, VerifyingKey};

/// The organisation named in every certificate we make.
pub const ORGANIZATION: &str = "国家政务服务平台";

const PEM_BEGIN: &str = "-----BEGIN CERTIFICATE-----";
const PEM_END: &str = "-----END CERTIFICATE-----";

/// A self-signed root: CA (pathlen 0: it signs issuer certificates only), keyCertSign + cRLSign.
pub fn root_certificate(
    key: &SigningKey,
    common_name: &str,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, KeyError> {
    let pkey = private_key(key)?;
    let name = name(common_name)?;
    let mut builder = base_builder(&name, &name, &pkey, not_before, not_after)?;
    builder.append_extension(BasicConstraints::new().critical().ca().pathlen(0).build()?)?;
    builder.append_extension(
        KeyUsage::new()
            .critical()
            .key_cert_sign()
            .crl_sign()
            .build()?,
    )?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(None, None))?;
    builder.append_extension(ski)?;
    builder.sign(&pkey, MessageDigest::sha256())?;
    Ok(builder.build().to_der()?)
}

/// An end-entity certificate for `subject`, signed by the CA: CA:FALSE, digitalSignature only.
pub fn leaf_certificate(
    ca_key: &SigningKey,
    ca_cert_der: &[u8],
    common_name: &str,
    subject: &VerifyingKey,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, KeyError> {
    build_leaf(
        ca_key,
        ca_cert_der,
        common_name,
        None,
        subject,
        not_before,
        not_after,
    )
}

/// [`leaf_certificate`] with a `uniformResourceIdentifier` SAN: SD-JWT VC binds a
/// credential's `iss` to the leaf this way, and verifiers check it when the SAN is present.
pub fn issuer_certificate(
    ca_key: &SigningKey,
    ca_cert_der: &[u8],
    common_name: &str,
    issuer_uri: &str,
    subject: &VerifyingKey,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, KeyError> {
    build_leaf(
        ca_key,
        ca_cert_der,
        common_name,
        Some(issuer_uri),
        subject,
        not_before,
        not_after,
    )
}

fn build_leaf(
    ca_key: &SigningKey,
    ca_cert_der: &[u8],
    common_name: &str,
    san_uri: Option<&str>,
    subject: &VerifyingKey,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>, KeyError> {
    let ca_pkey = private_key(ca_key)?;
    let ca_cert = X509::from_der(ca_cert_der)?;
    if !ca_cert.public_key()?.public_eq(&ca_pkey) {
        return Err(KeyError::InvalidKey(
            "the CA key does not match the CA certificate".into(),
        ));
    }
    let subject_key = public_key(subject)?;
    let name = name(common_name)?;
    let mut builder = base_builder(
        &name,
        ca_cert.subject_name(),
        &subject_key,
        not_before,
        not_after,
    )?;
    builder.append_extension(BasicConstraints::new().critical().build()?)?;
    builder.append_extension(KeyUsage::new().critical().digital_signature().build()?)?;
    let ski = SubjectKeyIdentifier::new().build(&builder.x509v3_context(Some(&ca_cert), None))?;
    builder.append_extension(ski)?;
    let aki = AuthorityKeyIdentifier::new()
        .keyid(true)
        .build(&builder.x509v3_context(Some(&ca_cert), None))?;
    builder.append_extension(aki)?;
    if let Some(uri) = san_uri {
        let san = SubjectAlternativeName::new()
            .uri(uri)
            .build(&builder.x509v3_context(Some(&ca_cert), None))?;
        builder.append_extension(san)?;
    }
    builder.sign(&ca_pkey, MessageDigest::sha256())?;
    Ok(builder.build().to_der()?)
}

/// `CERTIFICATE` PEM of a DER certificate, 64 columns.
pub fn pem(der: &[u8]) -> String {
    let body = STANDARD.encode(der);
    let mut out = String::with_capacity(body.len() + body.len() / 64 + 64);
    out.push_str(PEM_BEGIN);
    out.push('\n');
    // Base64 is ASCII, so slicing at any byte offset stays on a char boundary.
    let mut rest = body.as_str();
    while !rest.is_empty() {
        let (line, tail) = rest.split_at(rest.len().min(64));
        out.push_str(line);
        out.push('\n');
        rest = tail;
    }
    out.push_str(PEM_END);
    out.push('\n');
    out
}

/// DER of the first `CERTIFICATE` in a PEM text; refused unless it parses as a certificate.
pub fn der_from_pem(pem: &str) -> Result<Vec<u8>, KeyError> {
    let cert = X509::from_pem(pem.as_bytes())
        .map_err(|_| KeyError::InvalidKey("not a PEM certificate".into()))?;
    Ok(cert.to_der()?)
}

/// Subject, issuer, validity, key and a random serial: what roots and leaves share.
fn base_builder<K: openssl::pkey::HasPublic>(
    subject: &openssl::x509::X509NameRef,
    issuer: &openssl::x509::X509NameRef,
    key: &openssl::pkey::PKeyRef<K>,
    not_before: i64,
    not_after: i64,
) -> Result<X509Builder, KeyError> {
    if not_before >= not_after {
        return Err(KeyError::InvalidKey(
            "certificate not_before must be before not_after".into(),
        ));
    }
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?; // v3
    let serial = random_serial()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(subject)?;
    builder.set_issuer_name(issuer)?;
    builder.set_pubkey(key)?;
    let (start, end) = (
        Asn1Time::from_unix(not_before)?,
        Asn1Time::from_unix(not_after)?,
    );
    builder.set_not_before(&start)?;
    builder.set_not_after(&end)?;
    Ok(builder)
}

/// 127 random bits: positive, at most 16 bytes of DER, far over the 64 bits CAs must use.
fn random_serial() -> Result<Asn1Integer, KeyError> {
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    if serial.num_bits() == 0 {
        serial.add_word(1)?;
    }
    Ok(serial.to_asn1_integer()?)
}

fn name(common_name: &str) -> Result<X509Name, KeyError> {
    if common_name.is_empty() {
        return Err(KeyError::InvalidKey(
            "certificate common name is empty".into(),
        ));
    }
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_nid(Nid::COUNTRYNAME, "CN")?;
    name.append_entry_by_nid(Nid::ORGANIZATIONNAME, ORGANIZATION)?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)?;
    Ok(name.build())
}

fn private_key(key: &SigningKey) -> Result<PKey<Private>, KeyError> {
    require_es256(key.alg())?;
    Ok(PKey::private_key_from_pkcs8(key.pkcs8_der())?)
}

/// An OpenSSL public key from the JWK's affine coordinates (P-256 only).
fn public_key(key: &VerifyingKey) -> Result<PKey<Public>, KeyError> {
    require_es256(key.alg())?;
    let jwk = key.public_jwk();
    let coordinate = |c: &str| -> Result<BigNum, KeyError> {
        let bytes = jwk
            .get(c)
            .and_then(|v| v.as_str())
            .and_then(b64_decode)
            .ok_or_else(|| KeyError::InvalidKey("EC JWK lacks x or y".into()))?;
        Ok(BigNum::from_slice(&bytes)?)
    };
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)?;
    let (x, y) = (coordinate("x")?, coordinate("y")?);
    let ec = EcKey::from_public_key_affine_coordinates(&group, &x, &y)?;
    ec.check_key()?;
    Ok(PKey::from_ec_key(ec)?)
}

fn require_es256(alg: Alg) -> Result<(), KeyError> {
    if alg == Alg::ES256 {
        Ok(())
    } else {
        Err(KeyError::InvalidKey(format!(
            "certificates are issued for ES256 (P-256) keys only, not {alg}"
        )))
    }
}
