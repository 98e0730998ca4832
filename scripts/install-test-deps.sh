#!/usr/bin/env bash
# Installs what the test suite talks to and is not on a fresh machine: Dovecot (IMAP peer) and
# Chromium (browser tests), and makes sure the local PostgreSQL is up. Idempotent and quiet.
set -euo pipefail
need=()
command -v dovecot >/dev/null 2>&1 || need+=(dovecot-core dovecot-imapd)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then echo "need root to install: ${need[*]}" >&2; exit 1; fi
  echo "installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
if command -v pg_ctlcluster >/dev/null 2>&1 && ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  ver=$(ls /etc/postgresql | head -n1)
  pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
fi
