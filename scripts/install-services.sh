#!/usr/bin/env bash
# Installs the system services some tests need, pinned; each only when it is missing, so a second
# call costs a second. `npm test` runs without them (their tests skip with a notice); under CI=true
# they are mandatory, and .ci/run calls this with `all`.
#   usage: bash scripts/install-services.sh [all|moto|lifetimes|mpmath|chromium|trino]...
set -euo pipefail
cd "$(dirname "$0")/.."
python=${MOTO_PYTHON:-python3}

pip_install() { # the pinned requirement lines for the given packages
  local pattern=$1
  grep -E "^($pattern)" scripts/python-requirements.txt | xargs "$python" -m pip install -q --disable-pip-version-check
}

install_moto() {
  "$python" -c 'import moto.server' 2>/dev/null && return
  echo "installing moto (PyPI, pinned in scripts/python-requirements.txt)"
  pip_install 'moto'
}

install_lifetimes() {
  "$python" -c 'import lifetimes' 2>/dev/null && return
  echo "installing lifetimes and its pinned dependencies (PyPI)"
  pip_install 'Lifetimes|autograd|dill|numpy|pandas|python-dateutil|scipy'
}

install_mpmath() {
  "$python" -c 'import mpmath' 2>/dev/null && return
  echo "installing mpmath (PyPI, pinned in scripts/python-requirements.txt)"
  pip_install 'mpmath'
}

install_chromium() {
  [ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] && return
  echo "installing Chromium (Debian's package)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq chromium >/dev/null
}

install_trino() {
  bash scripts/install-trino.sh >/dev/null
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(all)
for target in "${targets[@]}"; do
  case $target in
    all) install_moto; install_lifetimes; install_mpmath; install_chromium; install_trino ;;
    moto|lifetimes|mpmath|chromium|trino) "install_$target" ;;
    *) echo "unknown service: $target (all, moto, lifetimes, mpmath, chromium, trino)" >&2; exit 2 ;;
  esac
done
