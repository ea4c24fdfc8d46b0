#!/usr/bin/env bash
# Build the mmcv 2.1.0 wheel (with its compiled ops) once per machine, for the
# torch that the project's virtual environment holds, into a cache outside the
# repository, so that every later clone or CI run installs it in seconds.
#
# usage: tools/build_mmcv_wheel.sh PYTHON WHEEL_DIR
#   PYTHON     the python of the environment whose torch the wheel must fit
#   WHEEL_DIR  where the wheel is written (keyed by python and torch version)
#
# Why a separate build environment: mmcv 2.1.0's setup.py imports
# pkg_resources, which setuptools>=70 no longer ships in a usable form, while
# torch 2.13 asks for setuptools>=77. The wheel is therefore built in a
# throw-away venv with setuptools<70 and the *same* torch wheel, and the
# project environment keeps the setuptools that torch wants.
#
# Why the compile flags: mmseg imports mmcv.ops at module level but this
# plugin never calls an op, so the ops only need to exist. -g0 -O1 cut the
# 2-core build from ~32 min (default -g -O3) to the time in the README.
set -euo pipefail
PY=${1:?python of the target environment}
WHEEL_DIR=${2:?wheel cache directory}
MMCV_VERSION=${MMCV_VERSION:-2.1.0}

if ls "$WHEEL_DIR"/mmcv-"$MMCV_VERSION"-*.whl >/dev/null 2>&1; then
  echo "[mmcv] cached wheel found in $WHEEL_DIR"
  exit 0
fi

TORCH_REQ=$("$PY" -c "import torch, sys; v = torch.__version__; print('torch==' + v)")
BUILD_VENV=$(mktemp -d "${TMPDIR:-/tmp}/mmcv-build-venv.XXXXXX")
trap 'rm -rf "$BUILD_VENV"' EXIT
echo "[mmcv] building mmcv==$MMCV_VERSION against $TORCH_REQ (once per machine; see README)"
"$PY" -m venv "$BUILD_VENV"
"$BUILD_VENV/bin/pip" install -q --upgrade pip
# torch first (its own resolver pins setuptools>=77), then the old setuptools.
"$BUILD_VENV/bin/pip" install -q "$TORCH_REQ" ${TORCH_INDEX_ARGS:-}
"$BUILD_VENV/bin/pip" install -q "setuptools<70" wheel ninja numpy packaging 2>&1 \
  | grep -v "dependency conflicts\|requires setuptools\|^$" || true
mkdir -p "$WHEEL_DIR"
start=$(date +%s)
CFLAGS="${MMCV_CFLAGS:--g0 -O1}" CXXFLAGS="${MMCV_CFLAGS:--g0 -O1}" \
  MMCV_WITH_OPS=1 MAX_JOBS="${MAX_JOBS:-$(nproc)}" \
  "$BUILD_VENV/bin/pip" wheel --no-deps --no-build-isolation --no-cache-dir \
  "mmcv==$MMCV_VERSION" -w "$WHEEL_DIR.partial"
mv "$WHEEL_DIR.partial"/mmcv-*.whl "$WHEEL_DIR"/
rmdir "$WHEEL_DIR.partial" 2>/dev/null || true
echo "[mmcv] built in $(( $(date +%s) - start )) s -> $WHEEL_DIR"
