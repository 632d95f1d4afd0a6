#!/usr/bin/env bash
# Installs Debian's chromium for ReportInBrowserTest (which is skipped, with a note, when it is absent).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
  echo "chromium is already installed: $(command -v chromium || command -v chromium-browser)"
  exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -q
$SUDO apt-get install -y -q chromium
