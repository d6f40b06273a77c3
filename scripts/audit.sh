#!/usr/bin/env bash
# `make audit` (after `make demo`): serves the site as production does (DEBUG off, gunicorn,
# whitenoise's compressed hashed static files) on 127.0.0.1:8765 and audits the public pages:
#   - the Nu HTML checker (vnu) on the HTML of every kind of public page, the 404 page included;
#   - Lighthouse (performance, accessibility, best practices, SEO) on /, /issues/2/ and /papers/,
#     with the mobile default and the desktop preset.
# Fails when vnu reports an error or any Lighthouse score is below $MIN_SCORE (0.95).
# Reports go to var/audit/ (gitignored); the server is stopped on exit, whatever happens.
#
#   AUDIT_SKIP_LIGHTHOUSE=1 scripts/audit.sh    only the HTML checker
#   AUDIT_PRESETS=desktop scripts/audit.sh       one Lighthouse preset (mobile, desktop or both)
#   AUDIT_VERBOSE=1 scripts/audit.sh             also list the audits that cost points in passing
#                                                categories (Lighthouse's opportunities)
set -euo pipefail
cd "$(dirname "$0")/.."

HOST=127.0.0.1
AUDIT_PORT="${AUDIT_PORT:-8765}"
SITE="http://$HOST:$AUDIT_PORT"
MIN_SCORE="${MIN_SCORE:-0.95}"
PRESETS="${AUDIT_PRESETS:-mobile desktop}"
LIGHTHOUSE_PATHS=(/ /issues/2/ /papers/)
CHROMIUM=/usr/bin/chromium
PY=.venv/bin/python
REPORTS=var/audit
WORK="$(mktemp -d "${TMPDIR:-/tmp}/audit.XXXXXX")"
SERVER_PID=""

# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

need() { command -v "$1" >/dev/null 2>&1; }

# Lighthouse's scores vary from run to run on a busy machine (its own advice: take the median of
# several runs). lighthouse_summary PRESET PATH REPORT... prints the median score per category over
# the reports, then the audits that cost points in each category below the minimum (with
# AUDIT_VERBOSE=1, every audit under 0.9); it exits non-zero when a median is below the minimum.
# With LH_QUIET=1 it prints nothing and only answers through its exit code.
lighthouse_summary() {
  $PY - "$MIN_SCORE" "${AUDIT_VERBOSE:-0}" "${LH_QUIET:-0}" "$@" <<'PY'
import json, statistics, sys
minimum, verbose, quiet = float(sys.argv[1]), sys.argv[2] == "1", sys.argv[3] == "1"
preset, path, reports = sys.argv[4], sys.argv[5], [json.load(open(name)) for name in sys.argv[6:]]
categories = reports[-1]["categories"]
scores = {}
for key in categories:
    runs = [report["categories"][key]["score"] for report in reports]
    scores[key] = None if None in runs else statistics.median(runs)
low = [key for key, score in scores.items() if score is None or score < minimum]
if quiet:
    sys.exit(1 if low else 0)
line = "  ".join(f"{key} {score:.2f}" if score is not None else f"{key} n/a" for key, score in scores.items())
runs = f"  (median of {len(reports)} runs)" if len(reports) > 1 else ""
print(f"   {preset:<8} {path:<12} {line}{runs}" + ("   FAIL" if low else ""))
audits = reports[-1]["audits"]
for key in categories:
    for ref in categories[key]["auditRefs"]:
        audit = audits[ref["id"]]
        score = audit.get("score")
        # What cost the points of a low category; with verbose, every audit scoring under 0.9.
        costly = key in low and ref.get("weight", 0) > 0 and score is not None and score < 1
        if costly or (verbose and score is not None and score < 0.9):
            shown = audit.get("displayValue", "")
            print(f"      {key}: {ref['id']} ({score:.2f}) {audit['title']} {shown}".rstrip())
for report in reports:
    if report.get("runtimeError"):
        print(f"      runtime error: {report['runtimeError'].get('code')}: {report['runtimeError'].get('message')}")
sys.exit(1 if low else 0)
PY
}

# --- tools: Java for vnu, Chromium for Lighthouse, node/npm for both (Debian's packages) ---------
missing=()
need java || missing+=(default-jre-headless)
need npm || missing+=(npm)
need curl || missing+=(curl)
[ -x "$CHROMIUM" ] || missing+=(chromium)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = "0" ] && need apt-get; then
    echo "Installing ${missing[*]} with apt-get..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "audit: missing ${missing[*]}; install them (Debian packages) and run again." >&2
    exit 1
  fi
fi

# Exact versions from package-lock.json. --ignore-scripts: vnu-jar's postinstall would download a
# Java runtime; we use the system's. npm ci starts from scratch every time, so a stamp skips it
# while package-lock.json is unchanged.
LOCK_SUM="$(sha256sum package-lock.json | cut -d' ' -f1)"
if [ "$(cat node_modules/.audit-lock-sha256 2>/dev/null)" != "$LOCK_SUM" ]; then
  echo "== npm ci (lighthouse, vnu-jar)"
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
  echo "$LOCK_SUM" > node_modules/.audit-lock-sha256
fi
VNU_JAR=node_modules/vnu-jar/build/dist/vnu.jar

# --- the site, as in production ---------------------------------------------------------------
export DEBUG=0
SECRET_KEY="$($PY -c 'import secrets; print(secrets.token_urlsafe(64))')"
export SECRET_KEY
export ALLOWED_HOSTS="$HOST,localhost"
export SECURE_SSL_REDIRECT=0 SECURE_COOKIES=0 SECURE_HSTS_SECONDS=0 USE_X_FORWARDED_PROTO=0
export SITE_URL="$SITE"
export PORT="$AUDIT_PORT"

echo "== collectstatic"
$PY manage.py collectstatic --noinput -v 0

if need ss && ss -ltn "sport = :$AUDIT_PORT" | grep -q LISTEN; then
  echo "audit: port $AUDIT_PORT is already in use; set AUDIT_PORT to another." >&2
  exit 1
fi
echo "== gunicorn on $SITE"
mkdir -p "$REPORTS"
rm -f "$REPORTS"/lighthouse-*.json "$REPORTS"/vnu.txt
SERVER_LOG="$REPORTS/server.log"
.venv/bin/gunicorn newsletter.wsgi:application --bind "$HOST:$AUDIT_PORT" --workers 2 \
  --access-logfile - > "$SERVER_LOG" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 60); do
  curl -fso /dev/null "$SITE/robots.txt" && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$SERVER_LOG"; echo "audit: gunicorn died" >&2; exit 1; }
  sleep 0.5
done
curl -fso /dev/null "$SITE/robots.txt" || { cat "$SERVER_LOG"; echo "audit: site never answered" >&2; exit 1; }

# One page of each kind, picked from the demo content in the database.
mapfile -t PICKED < <($PY manage.py shell -v 0 -c '
from django.db.models import Count
from taggit.models import Tag
from newsletter.models import Author, Issue, Paper, Section
published = Issue.objects.published()
section = Section.objects.filter(summaries__issue__in=published).order_by("position").first()
author = (Author.objects.filter(summaries__issue__in=published).order_by("name").first()
          or Author.objects.filter(issues__in=published).order_by("name").first())
tag = Tag.objects.annotate(n=Count("taggit_taggeditem_items")).filter(n__gt=0).order_by("-n", "slug").first()
paper = Paper.objects.filter(summaries__issue__in=published).order_by("pk").first()
for obj in (section, author, paper):
    print(obj.get_absolute_url() if obj else "")
print(f"/tags/{tag.slug}/" if tag else "")
')
if [ "${#PICKED[@]}" != 4 ]; then
  echo "audit: could not pick a section, author, paper and tag page from the database" >&2
  exit 1
fi
PAGES=(/ /issues/ /issues/2/ /papers/ "/search/?q=adversarial" "${PICKED[@]}")

status=0

# --- Nu HTML checker ----------------------------------------------------------------------------
echo "== Nu HTML checker (vnu --errors-only)"
mkdir -p "$WORK/html"
fetch_failed=0
for path in "${PAGES[@]}"; do
  [ -n "$path" ] || { echo "   (no content for one kind of page: is the demo loaded?)"; fetch_failed=1; continue; }
  name="${path//[^A-Za-z0-9]/_}"
  code="$(curl -s -o "$WORK/html/page$name.html" -w '%{http_code}' "$SITE$path")"
  echo "   $code $path"
  [ "$code" = 200 ] || fetch_failed=1
done
code="$(curl -s -o "$WORK/html/page_not_found.html" -w '%{http_code}' "$SITE/no-such-page/")"
echo "   $code /no-such-page/ (expects 404)"
[ "$code" = 404 ] || fetch_failed=1
if [ "$fetch_failed" != 0 ]; then
  echo "FAIL: a page did not answer with the expected status"
  status=1
fi
if java -jar "$VNU_JAR" --errors-only --format gnu --asciiquotes "$WORK/html"/*.html \
     > "$REPORTS/vnu.txt" 2>&1; then
  echo "   vnu: no errors in $(find "$WORK/html" -name '*.html' | wc -l) pages"
else
  sed "s|$WORK/html/||" "$REPORTS/vnu.txt"
  echo "FAIL: vnu found $(wc -l < "$REPORTS/vnu.txt") error(s) (var/audit/vnu.txt)"
  status=1
fi

# --- Lighthouse ---------------------------------------------------------------------------------
if [ "${AUDIT_SKIP_LIGHTHOUSE:-0}" != 1 ]; then
  echo "== Lighthouse (minimum $MIN_SCORE in every category)"
  export CHROME_PATH="$CHROMIUM"
  flags="--headless=new --no-sandbox --disable-gpu --disable-background-networking"
  flags="$flags --disable-component-update --disable-sync --no-first-run"
  for preset in $PRESETS; do
    for path in "${LIGHTHOUSE_PATHS[@]}"; do
      name="${path//[^A-Za-z0-9]/_}"
      preset_flag=()
      [ "$preset" = desktop ] && preset_flag=(--preset=desktop)
      reports=()
      # One run when it passes; otherwise three, and the median decides. A run that Lighthouse
      # itself gives up on (NO_NAVSTART and such, on a busy machine) is tried again.
      for run in 1 2 3; do
        report="$REPORTS/lighthouse-$preset$name-$run.json"
        if ! npx --no-install lighthouse "$SITE$path" "${preset_flag[@]}" --quiet \
            --chrome-flags="$flags" --only-categories=performance,accessibility,best-practices,seo \
            --output=json --output-path="$report" > "$WORK/lighthouse.log" 2>&1; then
          echo "   (lighthouse run $run on $path ($preset) failed: $(grep -m1 -i error "$WORK/lighthouse.log"))"
          rm -f "$report"
          continue
        fi
        reports+=("$report")
        if [ "${#reports[@]}" = 1 ] && LH_QUIET=1 lighthouse_summary "$preset" "$path" "${reports[@]}"; then
          break
        fi
      done
      if [ "${#reports[@]}" = 0 ]; then
        cat "$WORK/lighthouse.log"
        echo "FAIL: lighthouse could not audit $path ($preset) in 3 tries"
        status=1
        continue
      fi
      lighthouse_summary "$preset" "$path" "${reports[@]}" || status=1
    done
  done
fi

if grep -q "Internal Server Error" "$SERVER_LOG"; then
  echo "FAIL: the server logged errors (500s): see $SERVER_LOG"
  status=1
fi
if [ "$status" = 0 ]; then echo "audit: ok"; else echo "audit: FAIL (reports in $REPORTS/)"; fi
exit "$status"
