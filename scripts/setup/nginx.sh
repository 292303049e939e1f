#!/usr/bin/env bash
# The forward-auth tests put Debian's nginx (with its auth_request module) in front of the app.
set -euo pipefail
if [ -x /usr/sbin/nginx ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing nginx from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null
  # Only the binary is needed: the tests start their own instance with their own config.
  if command -v systemctl >/dev/null; then systemctl disable --now nginx >/dev/null 2>&1 || true; fi
else
  echo "forward-auth tests need /usr/sbin/nginx: apt-get install nginx" >&2
  exit 1
fi
