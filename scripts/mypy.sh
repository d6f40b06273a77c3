#!/usr/bin/env bash
# mypy (strict, configured in pyproject.toml) through the committed baseline, mypy-baseline.txt.
#   scripts/mypy.sh          fails on any error the baseline does not list, and on any listed error
#                            that is gone, so the baseline only shrinks: fix an error, drop its line.
#   scripts/mypy.sh --sync   rewrites the baseline to today's errors (`make mypy-baseline`).
# Baseline lines carry no line numbers, so unrelated edits above an old error do not break it.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin

out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
"$BIN/mypy" >"$out" 2>&1 || status=$?
# 1 means "found type errors", which the baseline judges; anything above is mypy itself failing
# (a bad config, a crash), which must not pass as "every baseline error is fixed".
if [ "$status" -gt 1 ]; then
  cat "$out"
  exit "$status"
fi

if [ "${1:-}" = "--sync" ]; then
  "$BIN/mypy-baseline" sync <"$out" >/dev/null
  echo "mypy-baseline.txt: $(grep -c . mypy-baseline.txt || true) errors"
else
  # mypy's own "Found N errors" line would read as a failure; the filter's summary replaces it.
  { grep -v '^Found [0-9]* errors\? in ' "$out" || true; } | "$BIN/mypy-baseline" filter || {
    echo "mypy: fix the new errors above; if you fixed listed ones, run 'make mypy-baseline' and commit"
    echo "mypy-baseline.txt (it may only shrink)."
    exit 1
  }
fi
