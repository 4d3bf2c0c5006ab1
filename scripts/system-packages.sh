#!/usr/bin/env bash
# Debian packages the tests need (services the tests start themselves as throw-away instances).
# As root on Debian they are installed; elsewhere this names them and stops if one is missing.
set -euo pipefail
# mariadb-server: legacy migration tests; chromium: the help page's browser test;
# dovecot-imapd: the mail tests (tests/mail/services.py)
packages=(mariadb-server chromium dovecot-imapd)
[ ${#packages[@]} -eq 0 ] && exit 0
missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "The tests need these Debian packages: ${missing[*]}" >&2
  echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  exit 3
fi
