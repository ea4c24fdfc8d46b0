#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment and install the pinned
# stack into it. Called by `make env` / `make test` / `make demo`.
#
# Environment variables (all optional; the Makefile passes its own):
#   PYTHON      interpreter used to create the venv          (python3.11 or python3)
#   VENV        venv directory                               (.venv)
#   TORCH       pip requirements for torch and torchvision   (torch==2.14.1 torchvision==0.29.1)
#   TORCH_INDEX_ARGS extra pip args for torch, e.g. "--index-url https://download.pytorch.org/whl/cu121"
#   MMCV_CACHE  root of the per-machine mmcv wheel cache      (~/.cache/efficient-mtnet/wheels)
#
# A stamp file in the venv records what was installed (a hash of the
# requirement files, setup.py and the torch spec); when it matches, nothing is
# re-installed and this script returns in well under a second.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-$(command -v python3.11 || command -v python3)}
VENV=${VENV:-.venv}
TORCH=${TORCH:-torch==2.14.1 torchvision==0.29.1}
TORCH_INDEX_ARGS=${TORCH_INDEX_ARGS:-}
MMCV_CACHE=${MMCV_CACHE:-$HOME/.cache/efficient-mtnet/wheels}

STAMP_SRC=$(cat requirements/*.txt setup.py tools/setup_env.sh tools/build_mmcv_wheel.sh; echo "$TORCH $TORCH_INDEX_ARGS")
STAMP=$(printf '%s' "$STAMP_SRC" | sha256sum | cut -c1-16)
STAMP_FILE="$VENV/.efficient-mtnet-env"

if [[ -f "$STAMP_FILE" && "$(cat "$STAMP_FILE")" == "$STAMP" && -x "$VENV/bin/python" ]]; then
  echo "[env] $VENV is up to date (stamp $STAMP); nothing to install"
  exit 0
fi

t0=$(date +%s)
if [[ ! -x "$VENV/bin/python" ]]; then
  echo "[env] creating $VENV with $PYTHON"
  "$PYTHON" -m venv "$VENV"
fi
PIP=("$VENV/bin/python" -m pip --disable-pip-version-check)
"${PIP[@]}" install -q --upgrade pip

echo "[env] installing $TORCH"
# shellcheck disable=SC2086
"${PIP[@]}" install -q $TORCH $TORCH_INDEX_ARGS
# Build tools for mmcv: setuptools<81 still ships pkg_resources (mmcv's
# setup.py and mmengine's `pkg::` config bases import it), >=77.0.3 is what
# torch asks for.
"${PIP[@]}" install -q "setuptools>=77.0.3,<81" wheel ninja numpy

KEY=$("$VENV/bin/python" -c "import sys, torch; print(f'cp{sys.version_info[0]}{sys.version_info[1]}-torch{torch.__version__}')" 2>/dev/null)
WHEEL_DIR="$MMCV_CACHE/$KEY"
bash tools/build_mmcv_wheel.sh "$VENV/bin/python" "$WHEEL_DIR"

echo "[env] installing mmcv from $WHEEL_DIR and the rest of the stack"
"${PIP[@]}" install -q --find-links "$WHEEL_DIR" \
  -r requirements/mminstall.txt -r requirements/runtime.txt -r requirements/tests.txt
# The package itself, editable, without touching the pinned dependencies.
"${PIP[@]}" install -q --no-deps --no-build-isolation -e .

"$VENV/bin/python" -c "import mtnet_plugin, mmseg, mmpretrain, mmcv.ops" \
  || { echo "[env] import check failed" >&2; exit 1; }
echo "$STAMP" > "$STAMP_FILE"
echo "[env] ready in $(( $(date +%s) - t0 )) s"
