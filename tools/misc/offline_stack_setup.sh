#!/usr/bin/env bash
# For a machine without package registries (e.g. a rented GPU reached only
# through a copy of the working tree): install the OpenMMLab stack from
# wheels carried in .devdata/wheels into /tmp/site, build mmcv's CPU ops
# (the model calls none; CUDA ops are skipped by hiding the GPU during the
# build), and stage .devdata/dataA and dataB (the real export, in two
# parts) in /tmp/data. Then: SITE=/tmp/site bash tools/misc/gpu_infer_bench.sh, or
# SITE=/tmp/site DATA=/tmp/data bash tools/misc/gpu_train_bench.sh.
set -euxo pipefail
REPO=$(pwd)
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .devdata/wheels/*.whl
export PYTHONPATH=/tmp/site:$REPO
# The image's transformers 5.x breaks mmpretrain's BLIP imports; this
# throw-away install does not need the multimodal models.
echo "WITH_MULTIMODAL = False" >> /tmp/site/mmpretrain/utils/dependency.py
python3 -c "import pkg_resources, setuptools; print('setuptools', setuptools.__version__)"
export CUDA_VISIBLE_DEVICES=
mkdir -p /tmp/mmcv_whl
MMCV_SOURCE=$REPO/.devdata/mmcv-2.1.0.tar.gz MAX_JOBS=16 bash tools/build_mmcv_wheel.sh python3 /tmp/mmcv_whl 2>&1 | tail -3 \
  || { echo "mmcv build failed"; exit 1; }
unset CUDA_VISIBLE_DEVICES
python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site /tmp/mmcv_whl/mmcv-*.whl
python3 -c "import mmcv, mmcv.ops, mmseg, mmpretrain, mtnet_plugin, torch; print('stack ok', mmcv.__version__, torch.__version__, torch.cuda.get_device_name())"
mkdir -p /tmp/data && cp -r .devdata/dataA/* /tmp/data/
cp -r .devdata/dataB/* /tmp/data/ 2>/dev/null || true  # the rest, if carried
ls /tmp/data/train | wc -l
