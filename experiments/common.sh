# Shared by the experiment scripts: the release binary (built on first use) and the three steps
# every experiment ends with. Source it; do not run it.
set -euo pipefail
binary=${MEANFIELD:-.build/release/meanfield}
[ -x "$binary" ] || swift build -c release --product meanfield
parallel=${PARALLEL:-2}

# finish DIR: the HTML report (DIR/report.html); `meanfield sweep` has already written
# DIR/summary.csv and the limit diagnostics DIR/diagnostics.json (`meanfield diagnose DIR` redoes them).
finish() {
    "$binary" report "$1"
}
