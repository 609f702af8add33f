#!/usr/bin/env bash
# The project's Python environment: a virtual environment in .venv (git-ignored) with exactly requirements.txt,
# made with the machine's python3 (never installing into the system Python, which keeps Debian's python3-torch 1.13
# for the reference self-tests). Idempotent: it reinstalls only when requirements.txt changed.
#   scripts/venv.sh            # -> .venv/bin/python
#   VENV=/elsewhere scripts/venv.sh
# Exit status 1 with the reason when PyPI cannot be reached: the tests that need the environment then skip and
# say so (tests/export/export_test_support.h, py_env()).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PY=${PYTHON:-python3}
want=$(sha256sum requirements.txt | cut -d' ' -f1)
stamp=$VENV/.requirements.sha256
if [ -x "$VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
  exit 0
fi
if ! "$PY" -c "import ensurepip, venv" >/dev/null 2>&1; then
  echo "[venv] $PY has no venv module: installing python3-venv"
  SUDO=""
  if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq python3-venv >/dev/null
fi
echo "[venv] creating $VENV from requirements.txt with $("$PY" --version)"
rm -rf "$VENV"
"$PY" -m venv "$VENV"
if ! "$VENV/bin/python" -m pip install --quiet --no-input -r requirements.txt; then
  echo "[venv] pip could not install requirements.txt (is PyPI reachable?); the checks that need it will skip" >&2
  exit 1
fi
echo "$want" > "$stamp"
echo "[venv] ready: $VENV/bin/python"
