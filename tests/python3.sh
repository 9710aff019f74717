# Sourced by the test suites' setup scripts: sets PY to a Python 3 that can make virtualenvs, installing Debian's
# python3 and python3-venv with apt-get when missing (Debian splits venv out of python3). Needs `say` defined.
PY=$(command -v python3 || true)
if [ -z "$PY" ] || ! "$PY" -c 'import venv, ensurepip' 2>/dev/null; then
  say "installing python3 and python3-venv (apt-get)"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3 python3-venv >/dev/null
  PY=$(command -v python3)
fi
