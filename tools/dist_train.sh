#!/usr/bin/env bash
# usage: tools/dist_train.sh CONFIG NPROC [train.py args...]
# Works on GPUs (nccl) and on CPU-only machines (gloo, one process per core).
CONFIG=$1
NPROC=$2
PORT=${PORT:-29500}
PYTHON=${PYTHON:-python}
$PYTHON -m torch.distributed.run --nproc_per_node="$NPROC" \
  --master_port="$PORT" "$(dirname "$0")/train.py" "$CONFIG" \
  --launcher pytorch "${@:3}"
