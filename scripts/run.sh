#!/usr/bin/env bash
# Serves the site in the foreground with a task worker and the send reaper beside it; Ctrl-C stops all.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python
SITE="http://127.0.0.1:$PORT"

$PY manage.py db_worker --no-reload &
WORKER=$!
# The reaper: a worker that dies mid-send has its claims released within a minute.
$PY manage.py send_issue --reap --every 10 >/dev/null &
REAPER=$!
$PY manage.py runserver "127.0.0.1:$PORT" --noreload &
SERVER=$!
stop() { kill "$SERVER" "$WORKER" "$REAPER" 2>/dev/null || true; wait 2>/dev/null || true; }
trap stop EXIT INT TERM

# Print the addresses once the site answers, so they are the last thing on the screen.
for _ in $(seq 1 100); do
  if $PY -c "import urllib.request; urllib.request.urlopen('$SITE/robots.txt', timeout=1)" 2>/dev/null; then
    break
  fi
  kill -0 "$SERVER" 2>/dev/null || exit 1
  sleep 0.3
done
cat <<MSG

  The newsletter is running. Open:
    $SITE/            the public site (issue #2 of the demo publication: $SITE/issues/2/)
    $SITE/admin/      the editors' admin (user: admin, password: admin)
    $SITE/outbox/     every email the site has sent, kept locally until an ESP or SMTP is set
  Ctrl-C stops the site, the task worker and the reaper.

MSG
wait "$SERVER"
