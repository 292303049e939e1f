#!/usr/bin/env bash
# Browser tests drive Debian's Chromium (a test tool's own browser download is not used). The
# https tests make Chromium trust a test CA through an NSS database, written with certutil.
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
command -v certutil >/dev/null || missing+=(libnss3-tools)
if [ ${#missing[@]} = 0 ]; then exit 0; fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing ${missing[*]} from Debian"
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
else
  echo "browser tests need /usr/bin/chromium and certutil: apt-get install ${missing[*]}" >&2
  exit 1
fi
