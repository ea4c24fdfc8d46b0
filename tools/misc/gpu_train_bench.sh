#!/usr/bin/env bash
# On any CUDA machine: training-independent speed figures (EfficientMTNet
# against Fast-SCNN, batch 1 and 32, fp32 and fp16), then the 640x640 recipe
# (configs/efficient_mtnet/efficient_mtnet_1xb16-50e_brain-tumor-640x640.py)
# trained on DATA and its best checkpoint tested on valid/. Everything lands
# in OUT, with the device named at the top of bench.txt.
#
#   DATA=/data/brain-tumor-coco OUT=/tmp/out bash tools/misc/gpu_train_bench.sh
#
# Environment: DATA (the export: train/, valid/), OUT (default /tmp/out),
# TRAIN_TIMEOUT (seconds, default 360), PYTHON and SITE as in
# gpu_infer_bench.sh.
set -uo pipefail
PY=${PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3 )}
export PYTHONPATH=${SITE:+$SITE:}$(pwd) PYTHONUNBUFFERED=1
DATA=${DATA:?the dataset root (train/, valid/)}
OUT=${OUT:-/tmp/out}
CFG=configs/efficient_mtnet/efficient_mtnet_1xb16-50e_brain-tumor-640x640.py
mkdir -p "$OUT"
echo "train images: $(ls "$DATA"/train/*.jpg | wc -l), valid: $(ls "$DATA"/valid/*.jpg | wc -l)"
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
  "$PY" -c "import torch; print('device:', torch.cuda.get_device_name(0))"; } | tee "$OUT/bench.txt"
B="$PY tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py --device cuda --compare configs/fast_scnn/fast_scnn_brain-tumor-640x640.py"
for args in "--batch-size 1 --repeat 100 --warmup 20" "--batch-size 1 --repeat 100 --warmup 20 --fp16" \
            "--batch-size 32 --repeat 30 --warmup 10" "--batch-size 32 --repeat 30 --warmup 10 --fp16"; do
  echo "== $B $args" >> "$OUT/bench.txt"
  timeout 60 $B $args 2>/dev/null | tail -4 >> "$OUT/bench.txt"
done
cat "$OUT/bench.txt"
D="train_dataloader.dataset.data_root=$DATA val_dataloader.dataset.data_root=$DATA test_dataloader.dataset.data_root=$DATA"
timeout "${TRAIN_TIMEOUT:-360}" "$PY" tools/train.py "$CFG" --work-dir /tmp/work --cfg-options $D > /tmp/train.log 2>&1
echo "train exit $?"
grep -E "Epoch\(val\)|Saving|best" /tmp/train.log | tail -40 > "$OUT/train_summary.log"
tail -5 /tmp/train.log
cp /tmp/work/*/vis_data/scalars.json "$OUT/scalars.json" 2>/dev/null || true
BEST=$(ls -t /tmp/work/best_*_epoch_*.pth | head -n 1)
"$PY" tools/model_converters/publish_model.py "$BEST" "$OUT/efficient_mtnet_640_brain_tumor" --config "$CFG"
"$PY" tools/test.py "$CFG" "$OUT"/efficient_mtnet_640_brain_tumor-*.pth --work-dir /tmp/test \
  --out "$OUT/valid_metrics.json" --cfg-options $D \
  test_dataloader.dataset.ann_file=valid/_annotations.coco.json test_dataloader.dataset.data_prefix.img_path=valid \
  2>&1 | sed -n '/per class results/,$p' | tee "$OUT/valid_test.log"
ls -la "$OUT"
