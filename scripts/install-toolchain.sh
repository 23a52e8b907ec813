#!/usr/bin/env bash
# Installs the Arm cross toolchain, QEMU and a headless browser (Debian packages) when they are missing.
# chromium renders the --html reports in tests/test_html.py.
# --no-install-recommends: without it apt pulls ~3 GB of GUI packages.
set -euo pipefail
if command -v arm-none-eabi-gcc >/dev/null && command -v qemu-system-arm >/dev/null \
   && [ -f /usr/lib/arm-none-eabi/newlib/libc.a ] && command -v chromium >/dev/null; then
  exit 0
fi
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends \
  gcc-arm-none-eabi libnewlib-arm-none-eabi qemu-system-arm chromium
