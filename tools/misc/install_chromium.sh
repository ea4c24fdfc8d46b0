#!/usr/bin/env bash
# Install Debian's Chromium and ChromeDriver for the web page's browser test
# (tests/test_tools/test_webdemo.py), when they are absent. Called by
# `make test`; needs root (or sudo) and Debian's package mirrors. Where it
# cannot install, it says so and the browser test skips with that reason.
set -uo pipefail
if command -v chromium >/dev/null && command -v chromedriver >/dev/null; then
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "[chromium] no apt-get: the browser test will be skipped" >&2
  exit 0
fi
SUDO=""
if [[ $(id -u) -ne 0 ]]; then
  if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "[chromium] not root and no sudo: the browser test will be skipped" >&2
    exit 0
  fi
fi
echo "[chromium] installing Debian's chromium and chromium-driver"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && \
       $SUDO apt-get install -y -qq --no-install-recommends chromium chromium-driver >/dev/null; }; then
  echo "[chromium] apt-get failed: the browser test will be skipped" >&2
fi
exit 0
