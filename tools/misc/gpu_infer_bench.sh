#!/usr/bin/env bash
# Inference speed on any CUDA machine: EfficientMTNet (the shipped weights,
# the configs' 2 NMF steps) against mmseg's Fast-SCNN in the same run, at
# batch 1 and 32, fp32 / fp16 / bf16 autocast, eager and CUDA graphs
# (torch.compile reduce-overhead), and what the NMF steps cost where kernel
# launches dominate. Figures go to docs/benchmarks.md ("GPU").
#
#   bash tools/misc/gpu_infer_bench.sh            # from the repository root
#
# Environment: PYTHON (default: .venv/bin/python if present, else python3),
# SITE (an extra site folder put first on PYTHONPATH, e.g. the one
# tools/misc/offline_stack_setup.sh fills), CKPT (default: the shipped
# weights).
set -euo pipefail
PY=${PYTHON:-$( [[ -x .venv/bin/python ]] && echo .venv/bin/python || echo python3 )}
export PYTHONPATH=${SITE:+$SITE:}$(pwd)
CKPT=${CKPT:-$(ls checkpoints/efficient_mtnet_*.pth | head -n 1)}
echo "== device"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv || true
"$PY" -c "import torch; print('torch', torch.__version__, '| device:', torch.cuda.get_device_name(0))"
echo "== weights $CKPT"
B=("$PY" tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py "$CKPT" --device cuda
   --compare configs/fast_scnn/fast_scnn_brain-tumor-640x640.py)
set -x
# batch 1: eager and CUDA graphs, fp32 then fp16
"${B[@]}" --batch-size 1 --repeat 200 --warmup 30 --backend pytorch compile --compile-mode reduce-overhead
"${B[@]}" --batch-size 1 --repeat 200 --warmup 30 --backend pytorch compile --compile-mode reduce-overhead --fp16
# batch 32 with AMP
"${B[@]}" --batch-size 32 --repeat 50 --warmup 10 --backend pytorch compile --compile-mode reduce-overhead --fp16
"${B[@]}" --batch-size 32 --repeat 50 --warmup 10 --backend pytorch compile --compile-mode reduce-overhead --bf16
# what the NMF steps cost at batch 1
"${B[@]}" --batch-size 1 --repeat 100 --warmup 20 --backend pytorch --eval-steps 7 2 1
