#!/usr/bin/env bash
# The browser suites drive Debian's Chromium with playwright-core (npm). Installs Chromium when it is missing
# (as root, apt-get update first); nothing downloads a browser at run time. Idempotent.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  printf '\033[1m[browser]\033[0m %s\n' "installing Debian's chromium (apt-get, once)" >&2
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
