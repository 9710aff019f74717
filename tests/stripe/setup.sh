#!/usr/bin/env bash
# Prepares localstripe (PyPI: a fake, stateful Stripe server) for the Stripe adapter's suite:
#   tests/.tmp/localstripe/venv    a Python 3 virtualenv with localstripe and its dependencies
# Idempotent: skipped when the virtualenv already has the pinned version.
set -euo pipefail
cd "$(dirname "$0")/../.."
OUT=tests/.tmp/localstripe
VERSION=1.15.10
say() { printf '\033[1m[localstripe]\033[0m %s\n' "$*" >&2; }
mkdir -p "$OUT"

# shellcheck source=../python3.sh
. tests/python3.sh

if ! "$OUT/venv/bin/python" -c "import importlib.metadata as m, sys; sys.exit(m.version('localstripe') != '$VERSION')" 2>/dev/null; then
  say "creating the virtualenv and installing localstripe==$VERSION"
  rm -rf "$OUT/venv"
  "$PY" -m venv "$OUT/venv"
  "$OUT/venv/bin/python" -m pip install --quiet "localstripe==$VERSION"
fi
