#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (a test tool's own browser download is not used).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing chromium from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >/dev/null
else
  echo "browser tests need /usr/bin/chromium: apt-get install chromium chromium-driver" >&2
  exit 1
fi
