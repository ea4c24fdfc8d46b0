#!/usr/bin/env bash
# Build the mmcv 2.1.0 wheel (with its compiled ops) once per machine, for the
# torch of the given environment, into a cache outside the repository, so
# that every later clone or CI run installs it in seconds.
#
# usage: tools/build_mmcv_wheel.sh PYTHON WHEEL_DIR
#   PYTHON     python of the environment whose torch the wheel must fit; it
#              must already hold torch, setuptools (with pkg_resources, i.e.
#              <81), wheel, ninja and numpy
#   WHEEL_DIR  where the wheel goes (keyed by python and torch version)
#
# Why --no-build-isolation: mmcv's setup.py imports torch (and
# pkg_resources); an isolated build would fetch a different torch.
# Why the compile flags: mmseg imports mmcv.ops at module level but this
# plugin never calls an op, so the ops only need to exist; appending
# -g0 -O1 to the default -g -O3 cut the 2-core build from ~32 min to ~5 min.
set -euo pipefail
PY=${1:?python of the target environment}
WHEEL_DIR=${2:?wheel cache directory}
MMCV_VERSION=${MMCV_VERSION:-2.1.0}
# What pip builds: the PyPI release, or a local sdist (machines without
# network): MMCV_SOURCE=/path/mmcv-2.1.0.tar.gz
MMCV_SOURCE=${MMCV_SOURCE:-mmcv==$MMCV_VERSION}

if ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  echo "[mmcv] cached wheel found in $WHEEL_DIR"
  exit 0
fi
echo "[mmcv] building mmcv==$MMCV_VERSION with ops against" \
  "$("$PY" -c 'import torch; print(torch.__version__)') (once per machine)"
TMP_DIR=$(mktemp -d "${TMPDIR:-/tmp}/mmcv-wheel.XXXXXX")
trap 'rm -rf "$TMP_DIR"' EXIT
# mmcv 2.1.0 compiles with -std=c++17, but torch>=2.10 headers require C++20
# ("C++20 or later compatible compiler is required to use ATen"). mmcv's
# flags come last on the command line, so a compiler wrapper appends the
# standard the installed torch asks for (its sources compile as C++20).
TORCH_INC=$("$PY" -c 'import os, torch; print(os.path.join(os.path.dirname(torch.__file__), "include"))')
if grep -q "C++20 or later" "$TORCH_INC/ATen/ATen.h" 2>/dev/null; then
  REAL_CXX=${CXX:-c++}
  printf '#!/bin/sh\nexec %s "$@" -std=c++20\n' "$REAL_CXX" > "$TMP_DIR/cxx20"
  chmod +x "$TMP_DIR/cxx20"
  export CXX="$TMP_DIR/cxx20"
  echo "[mmcv] torch needs C++20: compiling through $CXX"
fi
start=$(date +%s)
CFLAGS="${MMCV_CFLAGS:--g0 -O1}" CXXFLAGS="${MMCV_CFLAGS:--g0 -O1}" \
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
  "$PY" -m pip wheel --disable-pip-version-check --no-deps \
  --no-build-isolation --no-cache-dir "$MMCV_SOURCE" -w "$TMP_DIR"
mkdir -p "$WHEEL_DIR"
# Move into place only when complete: a killed build leaves no half wheel.
mv "$TMP_DIR"/mmcv-*.whl "$WHEEL_DIR"/
echo "[mmcv] built in $(( $(date +%s) - start )) s -> $WHEEL_DIR"
