"""A relying party written with PyPI authlib (requests client), driven step by step by the harness.

Protocol: JSON lines. Arguments: issuer client_id client_secret redirect_uri post_logout_uri.
It prints {"step": "authorize", "url": ...}; the harness logs the user in and answers with the callback URL
on one line. It then exchanges the code, validates the ID token, calls userinfo, refreshes, and prints
{"step": "logout", "url": ..., "state": ...}; the harness follows it and answers "done". Last line:
{"result": "ok", ...} or {"error": "..."}.
"""
import json
import sys
import warnings
from urllib.parse import urlencode, urlparse, parse_qs

warnings.simplefilter("ignore")

import requests  # noqa: E402
from authlib.common.security import generate_token  # noqa: E402
from authlib.integrations.requests_client import OAuth2Session  # noqa: E402
from authlib.jose import JsonWebKey, jwt  # noqa: E402
from authlib.oidc.core import CodeIDToken  # noqa: E402


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def main():
    issuer, client_id, client_secret, redirect_uri, post_logout_uri = sys.argv[1:6]
    meta = requests.get(issuer + "/.well-known/openid-configuration", timeout=10).json()
    if meta.get("issuer") != issuer:
        raise RuntimeError("discovery issuer mismatch")
    sess = OAuth2Session(
        client_id, client_secret,
        scope="openid profile email offline_access",
        redirect_uri=redirect_uri,
        code_challenge_method="S256",
        token_endpoint_auth_method="client_secret_basic",
    )
    code_verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = sess.create_authorization_url(
        meta["authorization_endpoint"], code_verifier=code_verifier, nonce=nonce, prompt="consent")
    emit({"step": "authorize", "url": url})
    callback = sys.stdin.readline().strip()
    query = parse_qs(urlparse(callback).query)
    if meta.get("authorization_response_iss_parameter_supported") and query.get("iss") != [issuer]:
        raise RuntimeError("authorization response iss missing or wrong (RFC 9207)")
    token = sess.fetch_token(meta["token_endpoint"], authorization_response=callback,
                             code_verifier=code_verifier, state=state)
    keys = JsonWebKey.import_key_set(requests.get(meta["jwks_uri"], timeout=10).json())
    claims = jwt.decode(
        token["id_token"], keys, claims_cls=CodeIDToken,
        claims_options={"iss": {"essential": True, "value": issuer}},
        claims_params={"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]})
    claims.validate(leeway=120)
    info = sess.get(meta["userinfo_endpoint"], timeout=10)
    info.raise_for_status()
    info = info.json()
    if info.get("sub") != claims["sub"]:
        raise RuntimeError("userinfo sub differs from the id_token sub")
    if not info.get("name"):
        raise RuntimeError("userinfo has no name for scope profile")
    if "refresh_token" not in token:
        raise RuntimeError("no refresh_token")
    refreshed = sess.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
    if not refreshed.get("access_token"):
        raise RuntimeError("refresh gave no access_token")
    again = sess.get(meta["userinfo_endpoint"], timeout=10)
    again.raise_for_status()
    end_state = generate_token(16)
    end = meta["end_session_endpoint"] + "?" + urlencode({
        "id_token_hint": token["id_token"], "post_logout_redirect_uri": post_logout_uri,
        "state": end_state, "client_id": client_id})
    emit({"step": "logout", "url": end, "state": end_state})
    sys.stdin.readline()
    emit({"result": "ok", "alg": claims.header.get("alg") if hasattr(claims, "header") else None})


if __name__ == "__main__":
    try:
        main()
    except Exception as e:  # noqa: BLE001 - every failure is reported to the harness as one line
        emit({"error": f"{type(e).__name__}: {e}"})
