#!/usr/bin/env bash
# Installs Debian's Chromium, its driver and a CJK font for the browser tests when they are missing.
# Without root or a reachable package mirror it says why and leaves the browser tests to skip.
set -u
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium chromium-driver)
fc-list 2>/dev/null | grep -qi "wenquanyi\|wqy" || missing+=(fonts-wqy-microhei)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure_browser: cannot install ${missing[*]} (needs root and apt-get); browser tests will be skipped" >&2
  exit 0
fi
echo "ensure_browser: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null 2>&1
apt-get install -y -qq "${missing[@]}" >/dev/null 2>&1 \
  || echo "ensure_browser: apt-get install ${missing[*]} failed; browser tests will be skipped" >&2
exit 0
