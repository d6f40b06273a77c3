#!/usr/bin/env bash
# Serves the site in the foreground with a task worker beside it; Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
PORT="${PORT:-8000}"
PY=.venv/bin/python

$PY manage.py db_worker --no-reload &
WORKER=$!
trap 'kill $WORKER 2>/dev/null; wait $WORKER 2>/dev/null' EXIT INT TERM

SITE="http://127.0.0.1:$PORT"
cat <<MSG

  The newsletter is running. Open:
    $SITE/            the public site (issue #2 of the demo publication)
    $SITE/admin/      the editors' admin (login printed above)
    $SITE/outbox/     emails the site has "sent" (kept locally until an ESP or SMTP is set)
  Ctrl-C stops the site and the task worker.

MSG
$PY manage.py runserver "127.0.0.1:$PORT" --noreload
