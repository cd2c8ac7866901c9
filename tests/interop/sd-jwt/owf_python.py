"""The OpenWallet Foundation SD-JWT implementation (PyPI sd-jwt, the IETF draft's reference code)
as a wallet and a verifier, driven by idp/tests/licence_interop.rs: one JSON request on stdin,
one JSON answer on stdout; a refusal exits 1 with the library's message on stderr.

  {"mode": "keygen"}
      -> {"public_jwk": {..}, "private_jwk": {..}}                    a wallet's ES256 key
  {"mode": "verify", "sd_jwt": "..", "issuer_jwk": {..}, "nonce"?: "..", "aud"?: ".."}
      -> {"header": {..}, "claims": {..}, "disclosed": [..], "kb"?: {..}, "x5c_san": ".."}
  {"mode": "present", "credential": "..", "holder_jwk": {private}, "disclose": ["name", ..],
   "nonce": "..", "aud": ".."}
      -> {"presentation": ".."}

Chain validation of x5c is the caller's business (the library verifies with the key it is
given); this script only checks that the leaf certificate in x5c holds that key.
"""

import base64
import hashlib
import json
import sys

from cryptography import x509
from jwcrypto.jwk import JWK
from sd_jwt.holder import SDJWTHolder
from sd_jwt.verifier import SDJWTVerifier


def b64u_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64u_hash(text):
    digest = hashlib.sha256(text.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def ec_public(jwk):
    return {k: jwk[k] for k in ("kty", "crv", "x", "y")}


def keygen(_req):
    key = JWK.generate(kty="EC", crv="P-256")
    return {
        "public_jwk": ec_public(key.export_public(as_dict=True)),
        "private_jwk": key.export_private(as_dict=True),
    }


def x5c_leaf(header):
    """The key and the URI SAN of the first x5c certificate (standard base64 DER)."""
    chain = header.get("x5c")
    if not isinstance(chain, list) or not chain:
        raise ValueError("no x5c in the issuer-signed JWT header")
    cert = x509.load_der_x509_certificate(base64.b64decode(chain[0], validate=True))
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        uris = san.get_values_for_type(x509.UniformResourceIdentifier)
    except x509.ExtensionNotFound:
        uris = []
    return JWK.from_pyca(cert.public_key()), uris


def unreferenced_disclosures(sd_jwt):
    """RFC 9901 7.1: every disclosure must be referenced from the issuer-signed payload,
    directly or through another referenced disclosure. The library only skips unreferenced
    ones."""
    jwt, *rest = sd_jwt.split("~")
    by_digest = {b64u_hash(d): d for d in rest[:-1]}
    referenced = set()

    def collect(value):
        if isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict):
            for digest in value.get("_sd", []) if isinstance(value.get("_sd"), list) else []:
                referenced.add(digest)
            if len(value) == 1 and isinstance(value.get("..."), str):
                referenced.add(value["..."])
            for item in value.values():
                collect(item)

    collect(json.loads(b64u_decode(jwt.split(".")[1])))
    opened = set()
    grew = True
    while grew:
        grew = False
        for digest, disclosure in by_digest.items():
            if digest in referenced and digest not in opened:
                opened.add(digest)
                grew = True
                collect(json.loads(b64u_decode(disclosure))[-1])
    return [d for d in by_digest if d not in referenced]


def verify(req):
    sd_jwt = req["sd_jwt"]
    jwt = sd_jwt.split("~")[0]
    header = json.loads(b64u_decode(jwt.split(".")[0]))
    payload = json.loads(b64u_decode(jwt.split(".")[1]))
    leaf, uris = x5c_leaf(header)
    given = JWK(**ec_public(req["issuer_jwk"]))
    if leaf.thumbprint() != given.thumbprint():
        raise ValueError("the x5c leaf certificate does not hold the issuer key given")
    nonce, aud = req.get("nonce"), req.get("aud")
    if not nonce and not sd_jwt.endswith("~"):
        raise ValueError("a key binding JWT is present but no nonce was given to check it")
    # The library checks the issuer signature, the disclosures it finds referenced, and (with
    # aud and nonce) the KB-JWT's signature, typ, aud, nonce and sd_hash. It checks no
    # exp/nbf/iat (a TODO in its source).
    verifier = SDJWTVerifier(
        sd_jwt,
        lambda _iss, _header: given,
        expected_aud=aud if nonce else None,
        expected_nonce=nonce,
    )
    claims = verifier.get_verified_payload()
    unreferenced = unreferenced_disclosures(sd_jwt)
    if unreferenced:
        raise ValueError(
            f"{len(unreferenced)} disclosure(s) not referenced by the issuer-signed JWT"
            " (RFC 9901 7.1)"
        )
    answer = {
        "header": header,
        "claims": claims,
        # The selectively disclosed claims: those not in the issuer-signed payload itself.
        "disclosed": sorted(k for k in claims if k not in payload),
        "x5c_san": ", ".join(f"URI:{u}" for u in uris),
    }
    if nonce:
        answer["kb"] = json.loads(b64u_decode(sd_jwt.split("~")[-1].split(".")[1]))
    return answer


def present(req):
    holder = SDJWTHolder(req["credential"])
    holder.create_presentation(
        {name: True for name in req["disclose"]},
        nonce=req["nonce"],
        aud=req["aud"],
        holder_key=JWK(**req["holder_jwk"]),
        sign_alg="ES256",
    )
    return {"presentation": holder.sd_jwt_presentation}


MODES = {"keygen": keygen, "verify": verify, "present": present}


def main():
    try:
        req = json.load(sys.stdin)
        mode = MODES.get(req.get("mode"))
        if mode is None:
            raise ValueError(f"unknown mode {req.get('mode')}")
        answer = mode(req)
    except Exception as e:  # every refusal, whatever the library raised
        print(f"{type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    print(json.dumps(answer, ensure_ascii=False))


if __name__ == "__main__":
    main()
