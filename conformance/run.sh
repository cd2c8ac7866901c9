#!/usr/bin/env bash
# One command: install what is missing (idempotent), then run the conformance checks.
# All arguments go to run.mjs (see `conformance/run.sh --help`).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
if [ ! -d "$here/node_modules/oidc-provider" ]; then bash "$here/install.sh"; fi
exec node "$here/run.mjs" "$@"
