#!/usr/bin/env bash
# GPU lease, call 2 of 2: GPU speed figures, then train the shipped weights
# on the real data at 640x640 and test them on valid/. Needs call 1.
set -uxo pipefail
REPO=$(pwd)
export PYTHONPATH=/tmp/site:$REPO PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/out}
cp -r .devdata/dataB/* /tmp/data/
echo "train images: $(ls /tmp/data/train/*.jpg | wc -l), valid: $(ls /tmp/data/valid/*.jpg | wc -l)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv | tee "$OUT/bench.txt"
B="python3 tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py --device cuda --compare configs/fast_scnn/fast_scnn_brain-tumor-640x640.py"
for args in "--batch-size 1 --repeat 100 --warmup 20" "--batch-size 1 --repeat 100 --warmup 20 --fp16" \
            "--batch-size 32 --repeat 30 --warmup 10" "--batch-size 32 --repeat 30 --warmup 10 --fp16"; do
  echo "== $B $args" >> "$OUT/bench.txt"
  timeout 60 $B $args 2>/dev/null | tail -4 >> "$OUT/bench.txt"
done
cat "$OUT/bench.txt"
D="train_dataloader.dataset.data_root=/tmp/data val_dataloader.dataset.data_root=/tmp/data test_dataloader.dataset.data_root=/tmp/data"
timeout ${TRAIN_TIMEOUT:-360} python3 tools/train.py configs/efficient_mtnet/efficient_mtnet_1xb16-50e_brain-tumor-640x640.py \
  --work-dir /tmp/work --cfg-options $D > /tmp/train.log 2>&1
echo "train exit $?"
grep -E "Epoch\(val\)|Saving|best" /tmp/train.log | tail -40 > "$OUT/train_summary.log"
tail -5 /tmp/train.log
cp /tmp/work/*/vis_data/scalars.json "$OUT/scalars.json" 2>/dev/null || true
BEST=$(ls -t /tmp/work/best_tumor_Dice_epoch_*.pth | head -n 1)
python3 tools/model_converters/publish_model.py "$BEST" "$OUT/efficient_mtnet_640_brain_tumor"
python3 tools/test.py configs/efficient_mtnet/efficient_mtnet_1xb16-50e_brain-tumor-640x640.py "$OUT"/efficient_mtnet_640_brain_tumor-*.pth \
  --work-dir /tmp/test --out "$OUT/valid_metrics.json" --cfg-options $D 2>&1 | sed -n '/per class results/,$p' | tee "$OUT/valid_test.log"
ls -la "$OUT"
