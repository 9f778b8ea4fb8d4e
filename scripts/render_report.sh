#!/usr/bin/env bash
# Renders an HTML report (meanfield report) to PNG with headless Chromium, as a browser shows it.
#   scripts/render_report.sh FILE.html OUT.png [WIDTH[,HEIGHT]]   (default width 1280)
# Without HEIGHT the PNG holds the whole page: a first pass measures the page's height at WIDTH
# (on a copy of the page with one line of script; the report itself has none), the second
# renders a window that tall. With HEIGHT the window is WIDTH × HEIGHT and the page is cut there.
# Needs the Debian package `chromium` (apt-get install -y chromium). Exit status 2 when it is missing.
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 FILE.html OUT.png [WIDTH[,HEIGHT]]" >&2
  exit 64
fi
html="$1"
png="$2"
size="${3:-1280}"
width="${size%%,*}"
height=""
if [ "$size" != "$width" ]; then height="${size#*,}"; fi
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
chrome() {
  HOME="$profile" timeout 120 "$browser" --headless --no-sandbox --disable-gpu --hide-scrollbars \
    --no-first-run --no-default-browser-check --disable-extensions --user-data-dir="$profile" \
    --force-device-scale-factor=1 "$@"
}
if [ -z "$height" ]; then
  measure="$profile/measure.html"
  script='<script>document.body.setAttribute("data-page-height", Math.ceil(Math.max(document.documentElement.scrollHeight, document.body.scrollHeight)))</script>'
  awk -v script="$script" '{ sub(/<\/body>/, script "</body>") } 1' "$html_abs" >"$measure"
  height="$(chrome --window-size="$width,800" --dump-dom "file://$measure" 2>"$profile/log" | grep -o 'data-page-height="[0-9]*"' | grep -o '[0-9]*' || true)"
  if [ -z "$height" ]; then
    echo "render_report.sh: could not measure the page height; its log:" >&2
    tail -20 "$profile/log" >&2
    exit 1
  fi
fi
chrome --window-size="$width,$height" --screenshot="$png_abs" "file://$html_abs" >"$profile/log" 2>&1 || true
if [ ! -s "$png_abs" ]; then
  echo "render_report.sh: chromium wrote no screenshot; its log:" >&2
  tail -20 "$profile/log" >&2
  exit 1
fi
echo "$png_abs"
