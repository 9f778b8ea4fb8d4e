#!/usr/bin/env bash
# Renders an HTML report (meanfield report) to PNG with headless Chromium, as a browser shows it.
#   scripts/render_report.sh FILE.html OUT.png [WIDTH,HEIGHT]   (default window 1280,2400)
# Needs the Debian package `chromium` (apt-get install -y chromium). Exit status 2 when it is missing.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 FILE.html OUT.png [WIDTH,HEIGHT]" >&2
  exit 64
fi
html="$1"
png="$2"
size="${3:-1280,2400}"
browser="$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)"
if [ -z "$browser" ]; then
  echo "render_report.sh: chromium not found; install it with: apt-get install -y chromium" >&2
  exit 2
fi
[ -f "$html" ] || { echo "render_report.sh: $html: no such file" >&2; exit 66; }
html_abs="$(cd "$(dirname "$html")" && pwd)/$(basename "$html")"
png_abs="$(cd "$(dirname "$png")" && pwd)/$(basename "$png")"
profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
rm -f "$png_abs"
# A private profile and no network: the page is self-contained and must render offline.
HOME="$profile" timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
  --no-first-run --no-default-browser-check --disable-extensions --user-data-dir="$profile" \
  --force-device-scale-factor=1 --window-size="$size" --screenshot="$png_abs" "file://$html_abs" >"$profile/log" 2>&1 || true
if [ ! -s "$png_abs" ]; then
  echo "render_report.sh: chromium wrote no screenshot; its log:" >&2
  tail -20 "$profile/log" >&2
  exit 1
fi
echo "$png_abs"
