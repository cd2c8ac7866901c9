#!/usr/bin/env bash
# Installs everything the conformance runner needs. Idempotent: safe to run again.
#   - npm packages from package-lock.json (oidc-provider, openid-client, oauth4webapi, jose)
#   - Apache with mod_auth_openidc (Debian packages) for the mod_auth_openidc relying party
#   - Python authlib + requests for the authlib relying party
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

if [ ! -d "$here/node_modules/oidc-provider" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund)
fi

if [ "${CONFORMANCE_SKIP_APT:-}" != "1" ]; then
  if ! dpkg -s apache2 libapache2-mod-auth-openidc >/dev/null 2>&1; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends apache2 libapache2-mod-auth-openidc >/dev/null
  fi
  # The harness starts its own Apache with its own config; keep the system one stopped.
  if command -v apache2ctl >/dev/null 2>&1 && pgrep -x apache2 >/dev/null 2>&1; then
    apache2ctl stop >/dev/null 2>&1 || true
  fi
fi

if [ "${CONFORMANCE_SKIP_PIP:-}" != "1" ]; then
  if ! python3 -c 'import authlib, requests' >/dev/null 2>&1; then
    python3 -m pip install --quiet authlib requests 2>/dev/null \
      || python3 -m pip install --quiet --break-system-packages authlib requests
  fi
fi
echo "conformance: dependencies installed"
