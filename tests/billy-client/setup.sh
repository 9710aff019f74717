#!/usr/bin/env bash
# Prepares Billy's published Python client, billy-client 0.0.8 (PyPI), for the compatibility suite:
#   tests/.tmp/billy-client/venv            a Python 3 virtualenv with requests
#   tests/.tmp/billy-client/billy_client/   the client's own source, ported to Python 3 mechanically
# Idempotent: each step is skipped when its result is already there.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=tests/.tmp/billy-client
VERSION=0.0.8
SDIST_URL=https://files.pythonhosted.org/packages/f4/bc/b6ca0e864eb09bebc5ffb4090360fada385cf4fd73bd81d2342347aa6fdb/billy-client-$VERSION.tar.gz
SDIST_SHA256=ef466dc3c025cd886aa753641322597f6454ede2f10fc3ff3906fb0e1b2b0ec8
REQUESTS=requests==2.34.2
say() { printf '\033[1m[billy-client]\033[0m %s\n' "$*" >&2; }
mkdir -p "$OUT"

# 1. Python 3 with venv (Debian splits venv into python3-venv).
# shellcheck source=../python3.sh
. tests/python3.sh

# 2. The virtualenv with requests (the client's only dependency).
if ! "$OUT/venv/bin/python" -c 'import requests' 2>/dev/null; then
  say "creating the virtualenv and installing $REQUESTS"
  rm -rf "$OUT/venv"
  "$PY" -m venv "$OUT/venv"
  "$OUT/venv/bin/python" -m pip install --quiet "$REQUESTS"
fi

# 3. The client's source distribution, checked against PyPI's published hash, ported to Python 3.
if [ ! -f "$OUT/billy_client/.ported-$VERSION" ]; then
  say "downloading billy-client $VERSION from PyPI"
  curl -fsSL --retry 3 -o "$OUT/sdist.tar.gz" "$SDIST_URL"
  echo "$SDIST_SHA256  $OUT/sdist.tar.gz" | sha256sum -c --quiet -
  rm -rf "$OUT/src" "$OUT/billy_client" && mkdir -p "$OUT/src"
  tar -xzf "$OUT/sdist.tar.gz" -C "$OUT/src"
  cp -r "$OUT/src/billy-client-$VERSION/billy_client" "$OUT/billy_client"
  rm -rf "$OUT/billy_client/tests"
  "$OUT/venv/bin/python" tests/billy-client/port.py "$OUT/billy_client/api.py"
  touch "$OUT/billy_client/.ported-$VERSION"
fi
say "ready"
