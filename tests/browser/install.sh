#!/usr/bin/env bash
# Installs what the browser tests need, when missing: Debian's Chromium and a Chinese font,
# playwright-core and axe-core (npm, from package-lock.json; playwright-core uses the system
# Chromium and downloads no browser; axe-core is the accessibility engine a11y.test.mjs injects).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# Pages are in Chinese: without a CJK font Chromium draws boxes, which would make screenshots
# useless and text widths (layout, overflow) wrong. Noto Sans CJK SC is in the pages' font list.
if [ ! -x /usr/bin/chromium ] || ! fc-list :lang=zh | grep -q .; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium fonts-noto-cjk >/dev/null
fi
if [ ! -d "$here/node_modules/playwright-core" ] || [ ! -d "$here/node_modules/axe-core" ] || [ "$here/package-lock.json" -nt "$here/node_modules/.package-lock.json" ]; then
  (cd "$here" && npm ci --no-audit --no-fund --silent)
fi
