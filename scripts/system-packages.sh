#!/usr/bin/env bash
# Debian packages the tests need (services the tests start themselves as throw-away instances).
# As root on Debian they are installed; elsewhere this names them and stops if one is missing.
set -euo pipefail
# mariadb-server: legacy migration tests; chromium: the help page's browser test;
# dovecot-imapd: the mail tests (tests/mail/services.py); cyrus-common, cyrus-caldav (its httpd
# serves JMAP) and sasl2-bin: the JMAP mailbox tests (tests/mail/cyrus.py), which also need
# Cyrus's imapd: its package cyrus-imapd conflicts with dovecot-imapd (both provide
# imap-server), so its one binary is unpacked into /usr/local/lib/cyrus/bin instead.
packages=(mariadb-server chromium dovecot-imapd cyrus-common cyrus-caldav sasl2-bin)
imapd=/usr/local/lib/cyrus/bin/imapd

unpack_cyrus_imapd() {
  local tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && apt-get download -qq -o APT::Sandbox::User=root cyrus-imapd) &&
    dpkg-deb -x "$tmp"/cyrus-imapd_*.deb "$tmp/unpacked" &&
    install -D -m 755 "$tmp/unpacked/usr/lib/cyrus/bin/imapd" "$imapd"
  local status=$?
  rm -rf "$tmp"
  return $status
}

[ ${#packages[@]} -eq 0 ] && exit 0
missing=()
for p in "${packages[@]}"; do
  # "install ok installed": a removed package keeps its configuration and a dpkg -s status
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
    missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && [ -x "$imapd" ] && exit 0
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
  if [ ${#missing[@]} -gt 0 ]; then
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  [ -x "$imapd" ] || unpack_cyrus_imapd
else
  if [ ${#missing[@]} -gt 0 ]; then
    echo "The tests need these Debian packages: ${missing[*]}" >&2
    echo "Install them with: sudo apt-get install ${missing[*]}" >&2
  fi
  if [ ! -x "$imapd" ]; then
    echo "and Cyrus's imapd in $imapd (cyrus-imapd conflicts with dovecot-imapd):" >&2
    echo "  apt-get download cyrus-imapd && dpkg-deb -x cyrus-imapd_*.deb x &&" >&2
    echo "  sudo install -D -m 755 x/usr/lib/cyrus/bin/imapd $imapd" >&2
  fi
  exit 3
fi
