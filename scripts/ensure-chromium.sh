#!/usr/bin/env bash
# The browser tests drive Debian's Chromium. Install it when missing and we may (root with apt);
# otherwise say why the browser tests will be skipped.
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's chromium for the browser tests..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
    && exit 0
  echo "NOTE: apt-get could not install chromium: the browser tests will be skipped."
else
  echo "NOTE: /usr/bin/chromium is missing and this user cannot apt-get install it:" \
       "the browser tests will be skipped (install Debian's chromium to run them)."
fi
exit 0
