#!/usr/bin/env bash
# The page audit (tests/e2e/test_page_audit.py) checks every page with axe-core, from npm.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing nodejs and npm from Debian"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "the page audit needs node and npm: apt-get install nodejs npm" >&2
    exit 1
  fi
fi
if [ ! -f tests/e2e/axe/node_modules/axe-core/axe.min.js ]; then
  (cd tests/e2e/axe && npm ci --no-audit --no-fund --loglevel=error)
fi
