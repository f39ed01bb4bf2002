#!/usr/bin/env bash
# Bootstrap a fresh machine: Debian packages the project needs, a virtual environment,
# CPU PyTorch first (so nothing pulls a CUDA build), then altermag with all its extras.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3.11}
command -v "$PYTHON" >/dev/null || PYTHON=python3

# Debian packages (root only; skipped when already present).
APT_PKGS=$(cat scripts/apt-packages.txt | sed 's/#.*//' | xargs)
missing=""
for p in $APT_PKGS; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = "0" ]; then
    echo ">> apt-get install$missing"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
  else
    echo "!! missing Debian packages:$missing (run as root to install them)" >&2
  fi
fi

if [ ! -x "$VENV/bin/python" ]; then
  echo ">> creating $VENV"
  "$PYTHON" -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --upgrade pip
fi
PIP="$VENV/bin/python -m pip"
# torch before anything that depends on it (chgnet, in the bench extra): the CPU build is on
# this machine's disk.
if grep -q '"chgnet\|"torch' pyproject.toml; then
  $VENV/bin/python -c "import torch" 2>/dev/null || $PIP install -q "torch==2.13.0"
fi
EXTRAS=$(cat scripts/extras.txt | xargs | tr ' ' ',')
echo ">> pip install -e .[$EXTRAS]"
$PIP install -q -e ".[$EXTRAS]"
# An editable install leaves the project's own modules without bytecode, and where
# PYTHONDONTWRITEBYTECODE is set (as on this machine) Python never caches it: every command,
# the screening's fork server and the API would compile the modules they import from source
# each time (about 0.05-0.1 s of CPU a process). Compile them once, as pip does for the
# packages it installs.
"$VENV/bin/python" -m compileall -q altermag api flows
