//! Our private signing keys. Each is parsed once: the josekit signer and the
//! matching verifier live in the struct, so signing costs one ECDSA/RSA
//! operation and no key parsing.

use std::fmt;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use josekit::jwk::KeyPair as _;
use josekit::jws::{JwsSigner, ES256, RS256};
use serde_json::{Map, Value};
use zeroize::Zeroizing;

use crate::{b64, jwk_thumbprint, Alg, Kek, KeyError, VerifyingKey};

/// A private signing key with its cached signer and verifier.
pub struct SigningKey {
    alg: Alg,
    kid: String,
    signer: Box<dyn JwsSigner>,
    verifier: VerifyingKey,
    /// PKCS#8 DER, kept only so the key can be sealed; wiped on drop.
    pkcs8: Zeroizing<Vec<u8>>,
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

/// A signing key as stored in the database: the private half sealed under the KEK.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct SealedKey {
    pub kid: String,
    pub alg: Alg,
    /// The public JWK as JSON text (publishable without the KEK).
    pub public_jwk: String,
    /// `Kek::seal(pkcs8_der, aad = kid)`.
    pub sealed_private: Vec<u8>,
    /// `Kek::id()` of the KEK that sealed it.
    pub kek_id: String,
}

impl fmt::Debug for SealedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SealedKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("public_jwk", &self.public_jwk)
            .field(
                "sealed_private",
                &format_args!("<{} bytes>", self.sealed_private.len()),
            )
            .field("kek_id", &self.kek_id)
            .finish()
    }
}

impl SealedKey {
    /// The public half, without the KEK (e.g. to keep publishing a retired key).
    /// Fails if the stored JWK does not hash to the stored kid.
    pub fn verifying_key(&self) -> Result<VerifyingKey, KeyError> {
        let jwk: Map<String, Value> = serde_json::from_str(&self.public_jwk)
            .map_err(|_| KeyError::InvalidKey("stored public_jwk is not a JSON object".into()))?;
        let key = VerifyingKey::from_jwk(&jwk)?;
        if key.thumbprint() != self.kid || key.alg() != self.alg {
            return Err(KeyError::InvalidKey(
                "stored public_jwk does not match its kid/alg".into(),
            ));
        }
        Ok(key)
    }
}

impl SigningKey {
    /// A new key: ES256 on P-256, RS256 with a 2048-bit modulus.
    pub fn generate(alg: Alg) -> Result<SigningKey, KeyError> {
        let pem = Zeroizing::new(match alg {
            Alg::ES256 => ES256.generate_key_pair()?.to_pem_private_key(),
            Alg::RS256 => RS256.generate_key_pair(2048)?.to_pem_private_key(),
        });
        Self::from_pkcs8_der(alg, &pem_to_der(&pem)?)
    }

    /// Imports a private key (PKCS#8 DER; the curve or modulus size is checked).
    pub fn from_pkcs8_der(alg: Alg, der: &[u8]) -> Result<SigningKey, KeyError> {
        let (signer, public): (Box<dyn JwsSigner>, _) = match alg {
            Alg::ES256 => (
                Box::new(ES256.signer_from_der(der)?),
                ES256.key_pair_from_der(der)?.to_jwk_public_key(),
            ),
            Alg::RS256 => (
                Box::new(RS256.signer_from_der(der)?),
                RS256.key_pair_from_der(der)?.to_jwk_public_key(),
            ),
        };
        // Our kid is always the RFC 7638 thumbprint: stable, collision-free,
        // and checkable by anyone holding the public key.
        let mut jwk: Map<String, Value> = public.as_ref().clone();
        jwk.retain(|k, _| matches!(k.as_str(), "kty" | "crv" | "x" | "y" | "n" | "e"));
        let kid = jwk_thumbprint(&jwk)?;
        jwk.insert("kid".into(), kid.as_str().into());
        jwk.insert("alg".into(), alg.as_str().into());
        let verifier = VerifyingKey::from_jwk(&jwk)?;
        Ok(SigningKey {
            alg,
            kid,
            signer,
            verifier,
            pkcs8: Zeroizing::new(der.to_vec()),
        })
    }

    /// RFC 7638 thumbprint of the public key.
    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn alg(&self) -> Alg {
        self.alg
    }

    /// The public JWK (kty, crv/x/y or n/e, kid, alg, use = "sig"); no private members.
    pub fn public_jwk(&self) -> Map<String, Value> {
        self.verifier.public_jwk()
    }

    /// Compact JWS with header `{"alg","kid","typ"}` (typ omitted if empty)
    /// over the JSON serialisation of `payload`.
    pub fn sign_jwt(&self, typ: &str, payload: &Map<String, Value>) -> Result<String, KeyError> {
        #[derive(serde::Serialize)]
        struct Header<'a> {
            alg: &'a str,
            kid: &'a str,
            #[serde(skip_serializing_if = "str::is_empty")]
            typ: &'a str,
        }
        let header = serde_json::to_vec(&Header {
            alg: self.alg.as_str(),
            kid: &self.kid,
            typ,
        })
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
        self.sign_with_header(&header, payload)
    }

    /// Signs with the public key carried in the header's `jwk` and no `kid`: how a client signs
    /// a DPoP proof (RFC 9449 4.2).
    pub fn sign_self_contained(
        &self,
        typ: &str,
        payload: &Map<String, Value>,
    ) -> Result<String, KeyError> {
        let jwk: Map<String, Value> = self
            .public_jwk()
            .into_iter()
            .filter(|(k, _)| ["kty", "crv", "x", "y", "n", "e"].contains(&k.as_str()))
            .collect();
        let header = serde_json::to_vec(&serde_json::json!({
            "typ": typ,
            "alg": self.alg.as_str(),
            "jwk": jwk,
        }))
        .map_err(|e| KeyError::Crypto(e.to_string()))?;
        self.sign_with_header(&header, payload)
    }

    /// Compact JWS with header `{"alg","typ", ...extra}` and no `kid` unless `extra` has one:
    /// e.g. `x5c` for an SD-JWT VC, or nothing more for a KB-JWT, whose key the verifier
    /// already knows. `extra` may not set `alg` or `typ`.
    pub fn sign_jwt_with_header(
        &self,
        typ: &str,
        extra: &Map<String, Value>,
        payload: &Map<String, Value>,
    ) -> Result<String, KeyError> {
        if extra.contains_key("alg") || extra.contains_key("typ") {
            return Err(KeyError::InvalidKey(
                "extra header members may not set alg or typ".into(),
            ));
        }
        let mut header = Map::with_capacity(extra.len() + 2);
        header.insert("alg".into(), self.alg.as_str().into());
        header.insert("typ".into(), typ.into());
        header.extend(extra.iter().map(|(k, v)| (k.clone(), v.clone())));
        let header = serde_json::to_vec(&header).map_err(|e| KeyError::Crypto(e.to_string()))?;
        self.sign_with_header(&header, payload)
    }

    /// PKCS#8 DER of the private key, for building certificates (see `ca`).
    pub(crate) fn pkcs8_der(&self) -> &[u8] {
        &self.pkcs8
    }

    fn sign_with_header(
        &self,
        header: &[u8],
        payload: &Map<String, Value>,
    ) -> Result<String, KeyError> {
        let payload = serde_json::to_vec(payload).map_err(|e| KeyError::Crypto(e.to_string()))?;
        let mut token = String::with_capacity((header.len() + payload.len()) * 4 / 3 + 360);
        token.push_str(&b64(header));
        token.push('.');
        token.push_str(&b64(&payload));
        let signature = self.signer.sign(token.as_bytes())?;
        token.push('.');
        token.push_str(&b64(&signature));
        Ok(token)
    }

    /// Seals the private key (PKCS#8 DER) under `kek`, bound to this kid.
    pub fn seal(&self, kek: &Kek) -> SealedKey {
        SealedKey {
            kid: self.kid.clone(),
            alg: self.alg,
            public_jwk: Value::Object(self.public_jwk()).to_string(),
            sealed_private: kek.seal(&self.pkcs8, self.kid.as_bytes()),
            kek_id: kek.id(),
        }
    }

    /// Opens a [`SealedKey`]; checks the KEK id, the AEAD tag, and that the
    /// private key really has the stored kid and public JWK.
    pub fn unseal(sealed: &SealedKey, kek: &Kek) -> Result<SigningKey, KeyError> {
        if sealed.kek_id != kek.id() {
            return Err(KeyError::Kek(format!(
                "key {} was sealed by KEK {}, but the loaded KEK is {}",
                sealed.kid,
                sealed.kek_id,
                kek.id()
            )));
        }
        let der = kek.open(&sealed.sealed_private, sealed.kid.as_bytes())?;
        let key = Self::from_pkcs8_der(sealed.alg, &der)?;
        if key.kid != sealed.kid {
            return Err(KeyError::Kek(
                "sealed private key does not match its kid".into(),
            ));
        }
        sealed.verifying_key()?;
        Ok(key)
    }

    /// The public half (cheap: shares the cached verifier).
    pub fn verifier(&self) -> VerifyingKey {
        self.verifier.clone()
    }
}

/// PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----") to DER. josekit's
/// `to_der_private_key` gives SEC1 for EC keys; PEM is always PKCS#8.
fn pem_to_der(pem: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError> {
    let text = std::str::from_utf8(pem).map_err(|_| KeyError::Crypto("bad PEM".into()))?;
    // Sized up front: growing would leave copies of the key in freed memory.
    let mut body = Zeroizing::new(String::with_capacity(text.len()));
    for line in text.lines().filter(|l| !l.starts_with("-----")) {
        body.push_str(line.trim());
    }
    STANDARD
        .decode(body.as_bytes())
        .map(Zeroizing::new)
        .map_err(|_| KeyError::Crypto("bad PEM".into()))
}
