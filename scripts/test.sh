#!/usr/bin/env bash
# The test command: the whole suite on SQLite, then the provider's suite again on PostgreSQL
# (each test creates and drops a database of its own on the server named below), then the
# browser tests in headless Chromium (installed by tests/browser/install.sh when missing).
# Needs node, npm and python3 with venv (a roaming test runs npm oidc-provider as a third-party
# province; the licence interop test runs the OpenWallet Foundation SD-JWT libraries).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_ADMIN_URL="${IDP_TEST_PG:-postgres://postgres@127.0.0.1:5432/postgres}"

# One roaming test runs a third-party province: npm oidc-provider, from conformance/.
CONFORMANCE_SKIP_APT=1 CONFORMANCE_SKIP_PIP=1 bash conformance/install.sh
# Licence interoperability (idp/tests/licence_interop.rs): npm @sd-jwt/sd-jwt-vc and PyPI
# sd-jwt (a venv in that folder). Idempotent, quick when installed.
bash tests/interop/sd-jwt/install.sh

echo "== tests on SQLite"
cargo test --workspace --quiet

echo "== tests on PostgreSQL ($PG_ADMIN_URL)"
IDP_TEST_DATABASE="$PG_ADMIN_URL" cargo test -p idp --quiet --tests

echo "== browser tests (Debian Chromium driven by playwright-core)"
tests/browser/install.sh
cargo build -p idp -p wallet-verifier --bins --quiet
node --test --test-concurrency=1 tests/browser/
