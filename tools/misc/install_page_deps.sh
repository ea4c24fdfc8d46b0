#!/usr/bin/env bash
# onnxruntime-web for the browser page, from the pinned
# mtnet_plugin/webdemo/browser/package-lock.json (`npm ci`). Called by
# `make test`. Without Node.js it installs Debian's nodejs and npm (root or
# sudo); where it cannot, it says so and the page's tests skip.
set -uo pipefail
cd "$(dirname "$0")/../../mtnet_plugin/webdemo/browser"
if [[ -f node_modules/onnxruntime-web/dist/ort.wasm.min.js && \
      node_modules/.package-lock.json -nt package-lock.json ]]; then
  exit 0
fi
if ! command -v npm >/dev/null; then
  SUDO=""
  if [[ $(id -u) -ne 0 ]]; then
    if sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "[page] no npm, not root and no sudo: the browser page's tests will be skipped" >&2
      exit 0
    fi
  fi
  if ! command -v apt-get >/dev/null; then
    echo "[page] no npm and no apt-get: the browser page's tests will be skipped" >&2
    exit 0
  fi
  echo "[page] installing Debian's nodejs and npm"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null \
    || { echo "[page] apt-get failed: the browser page's tests will be skipped" >&2; exit 0; }
fi
echo "[page] npm ci (onnxruntime-web, pinned in package-lock.json)"
npm ci --no-audit --no-fund --loglevel=error \
  || echo "[page] npm ci failed: the browser page's tests will be skipped" >&2
exit 0
