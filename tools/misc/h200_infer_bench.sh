#!/usr/bin/env bash
# GPU lease: the inference figures of README "GPU: CUDA graphs and half
# precision" (issue 11 goals: >= 1000 images/s at batch 1, >= 5000 at batch
# 32 with AMP, Fast-SCNN in the same run). Run after tools/misc/h200_setup.sh
# (the stack in /tmp/site), in one call, from the repository root.
set -euxo pipefail
export PYTHONPATH=/tmp/site:$(pwd)
B="python3 tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py checkpoints/efficient_mtnet_320_brain_tumor-1022bd89.pth --device cuda --compare configs/fast_scnn/fast_scnn_brain-tumor-640x640.py"
nvidia-smi --query-gpu=name,driver_version --format=csv
# batch 1: eager, CUDA graphs (compile reduce-overhead), each fp32 and fp16
$B --batch-size 1 --repeat 200 --warmup 30 --backend pytorch compile --compile-mode reduce-overhead
$B --batch-size 1 --repeat 200 --warmup 30 --backend pytorch compile --compile-mode reduce-overhead --fp16
# batch 32 with AMP
$B --batch-size 32 --repeat 50 --warmup 10 --backend pytorch compile --compile-mode reduce-overhead --fp16
$B --batch-size 32 --repeat 50 --warmup 10 --backend pytorch compile --compile-mode reduce-overhead --bf16
# what NMF steps cost where launches dominate
$B --batch-size 1 --repeat 100 --warmup 20 --backend pytorch --eval-steps 7 2 1
