#!/usr/bin/env bash
# Installs the OpenWallet Foundation SD-JWT implementations that idp/tests/licence_interop.rs
# checks our licences against. Idempotent, and quick when nothing changed:
#   - npm @sd-jwt/sd-jwt-vc + @sd-jwt/crypto-nodejs, from package-lock.json, into node_modules/
#   - PyPI sd-jwt, from requirements.txt, into a virtual environment in .venv/
# Needs node (>= 20), npm and python3 with its venv module.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here"

if [ ! -d node_modules/@sd-jwt/sd-jwt-vc ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

stamp=.venv/.requirements.txt
if [ ! -x .venv/bin/python ] || ! .venv/bin/python -c 'import sys' >/dev/null 2>&1 \
  || ! cmp -s requirements.txt "$stamp"; then
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements.txt
  cp requirements.txt "$stamp"
fi
echo "sd-jwt interop: @sd-jwt/sd-jwt-vc $(node -p 'require("./node_modules/@sd-jwt/sd-jwt-vc/package.json").version'), sd-jwt $(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("sd-jwt"))')"
