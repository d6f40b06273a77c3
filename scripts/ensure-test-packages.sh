#!/usr/bin/env bash
# The tests drive Debian's Chromium (the browser tests) and score every email with Debian's
# SpamAssassin (tests/test_spamassassin.py, local rules only). Install what is missing, in one
# apt-get run, when we may (root with apt); otherwise say which tests will be skipped and why.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v spamassassin >/dev/null 2>&1 || missing+=(spamassassin)
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing Debian's ${missing[*]} for the tests..."
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    && exit 0
  echo "NOTE: apt-get could not install ${missing[*]}: the tests that need them will be skipped."
else
  echo "NOTE: ${missing[*]} missing and this user cannot apt-get install them: the browser tests" \
       "(chromium) and the SpamAssassin scores (spamassassin) will be skipped, each saying why."
fi
exit 0
