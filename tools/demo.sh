#!/usr/bin/env bash
# `make demo`: generate the synthetic MRI dataset (if absent), train the demo
# config, test the best checkpoint on the synthetic test split, print the
# metrics and where the overlays are.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
CONFIG=configs/efficient_mtnet/efficient_mtnet_1xb8-12e_synthetic-256x256.py
DATA=data/synthetic_mri
WORK=${WORK:-work_dirs/demo}
start=$(date +%s)
if [[ ! -f "$DATA/test/_annotations.coco.json" ]]; then
  "$PY" tools/dataset_converters/make_synthetic_mri.py "$DATA" \
    --train 400 --valid 100 --test 200 --size 256 --seed 0
fi
rm -rf "$WORK"  # a fresh run, not a resume of an older one
"$PY" tools/train.py "$CONFIG" --work-dir "$WORK"
BEST=$(ls -t "$WORK"/best_tumor_Dice_epoch_*.pth | head -n 1)
"$PY" tools/test.py "$CONFIG" "$BEST" --work-dir "$WORK/test" \
  --show-dir "$WORK/overlays" --out "$WORK/test_metrics.json" 2>&1 \
  | sed -n '/per class results/,$p'
echo "best checkpoint: $BEST"
echo "metrics (JSON):  $WORK/test_metrics.json"
echo "demo finished in $(( $(date +%s) - start )) s"
