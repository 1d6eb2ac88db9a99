#!/usr/bin/env bash
# Install Debian's Virtuoso (virtuoso-t, isql-vt) for tests/test_virtuoso.py, non-interactively.
# The tests start their own throwaway server (temporary folder, free loopback ports, random dba password),
# so the system service is not needed: it is stopped if the package started it.
set -euo pipefail
if command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null; then
  echo "virtuoso: $(virtuoso-t -? 2>&1 | head -n 2 | tail -n 1 || true) already installed"
  exit 0
fi
export DEBIAN_FRONTEND=noninteractive
# The package asks for the system database's dba password: preseed a random one nobody uses.
secret="$(tr -dc 'A-Za-z0-9' </dev/urandom | head -c 24 || true)"
debconf-set-selections <<SEL
virtuoso-opensource-7 virtuoso-opensource-7/dba-password password ${secret}
virtuoso-opensource-7 virtuoso-opensource-7/dba-password-again password ${secret}
SEL
apt-get update -q
apt-get install -y -q --no-install-recommends virtuoso-opensource
if command -v service >/dev/null; then service virtuoso-opensource-7 stop >/dev/null 2>&1 || true; fi
command -v virtuoso-t >/dev/null && command -v isql-vt >/dev/null
echo "virtuoso: installed"
