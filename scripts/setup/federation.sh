#!/usr/bin/env bash
# The single sign-on tests run a local OpenID Provider (node-oidc-provider) shaped like an Entra
# ID tenant: install its locked npm packages once.
set -euo pipefail
cd "$(dirname "$0")/../../tests/federation/tenant"
if ! command -v node >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "installing node.js from Debian"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "the federation tests need node.js and npm: apt-get install nodejs npm" >&2
    exit 1
  fi
fi
if [ ! -d node_modules/oidc-provider ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
