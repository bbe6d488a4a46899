#!/usr/bin/env bash
# A PNG of a run's report.html as headless Chromium draws it (docs/img/report-copy.png is the
# default `seqgrad train`'s):
#   tools/report_screenshot.sh runs/copy docs/img/report-copy.png [WIDTH HEIGHT]
# The window is WIDTH x HEIGHT CSS pixels (default 1280 x 1640: the summary, the curves and the
# checkpoints of a one-run report); what is below is cut off.
set -euo pipefail
[ $# -ge 2 ] || { echo "usage: $0 RUN_DIR_OR_HTML OUT.png [WIDTH HEIGHT]" >&2; exit 2; }
page=$1
[ -d "$page" ] && page=$page/report.html
[ -f "$page" ] || { echo "$0: no such file: $page" >&2; exit 1; }
out=$(realpath -m "$2")
width=${3:-1280}
height=${4:-1640}
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
chromium=/usr/lib/chromium/chromium
[ -x "$chromium" ] || chromium=chromium
# --no-sandbox: Chromium's sandbox refuses to start as root (CI, containers).
"$chromium" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --hide-scrollbars \
  --user-data-dir="$profile" --window-size="$width,$height" --screenshot="$out" \
  "file://$(realpath "$page")" 2>/dev/null
echo "wrote $out"
