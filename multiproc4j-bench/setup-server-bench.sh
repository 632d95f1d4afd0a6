#!/usr/bin/env bash
# Installs what ServerBench compares against: gunicorn (sync workers) from Debian's packages (PyPI is
# not reachable from these machines), and wrk for checking figures by hand. Needs root (or sudo).
set -euo pipefail
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq gunicorn wrk
gunicorn --version
