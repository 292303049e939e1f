#!/usr/bin/env bash
# The OpenID Provider's tests drive an independent relying party: panva's openid-client on Node.
set -euo pipefail
cd "$(dirname "$0")/../.."
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing nodejs and npm from Debian"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "the OIDC tests need node and npm: apt-get install nodejs npm" >&2
    exit 1
  fi
fi
if [ ! -d tests/oidc/rp/node_modules/openid-client ]; then
  (cd tests/oidc/rp && npm ci --no-audit --no-fund --loglevel=error)
fi
