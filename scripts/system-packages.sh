#!/usr/bin/env bash
# Debian packages the tests need (services the tests start themselves as throw-away instances).
# As root on Debian they are installed; elsewhere this names them and stops if one is missing.
set -euo pipefail
# mariadb-server: legacy migration tests; chromium: the help page's browser test;
# dovecot-imapd: the mail tests (tests/mail/services.py); cyrus-imapd, cyrus-caldav (its httpd
# serves JMAP) and sasl2-bin: the JMAP mailbox tests (tests/mail/cyrus.py)
packages=(mariadb-server chromium dovecot-imapd cyrus-imapd cyrus-caldav sasl2-bin)
[ ${#packages[@]} -eq 0 ] && exit 0
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  # The tests start their own throw-away instances: the packages' system services are not
  # started meanwhile (Dovecot's and Cyrus's would both want port 143).
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 3
fi
