#!/usr/bin/env bash
# Installs what novajoin and its tests need on a fresh Debian/Ubuntu machine:
# the MIT Kerberos tools (for the throwaway lab KDC), a venv in .venv and the
# package with its test extras.  Safe to re-run; fast when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(krb5-kdc krb5-admin-server krb5-user libkrb5-dev gcc python3-dev python3-venv curl shellcheck)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if ((${#missing[@]})); then
    if [[ $(id -u) -ne 0 ]]; then
        SUDO=sudo
    else
        SUDO=
    fi
    echo "setup: installing ${missing[*]}"
    $SUDO apt-get -o DPkg::Lock::Timeout=600 update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "setup: novajoin needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [[ ! -x .venv/bin/python ]]; then
    echo "setup: creating .venv with $($PYTHON --version)"
    "$PYTHON" -m venv .venv
    .venv/bin/pip install -q --upgrade pip wheel
fi
# Re-install only when the project's metadata or the pins changed since the last install.
# tools/constraints.txt pins every dependency to the versions the tests (and the
# generated config/policy samples) were made with; refresh it with pip freeze.
stamp=.venv/.novajoin-installed
if [[ ! -f $stamp || pyproject.toml -nt $stamp || tools/constraints.txt -nt $stamp ]]; then
    echo "setup: installing novajoin and its test extras into .venv (gssapi builds from source: ~1 min)"
    if ! .venv/bin/pip install -q --disable-pip-version-check -c tools/constraints.txt -e '.[test]' >.venv/pip.log 2>&1; then
        cat .venv/pip.log >&2
        echo "setup: pip install failed (log above, also in .venv/pip.log)" >&2
        exit 1
    fi
    .venv/bin/python -c 'import gssapi, httpx, novajoin' # fail here, not in the tests
    touch "$stamp"
fi
