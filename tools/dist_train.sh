#!/usr/bin/env bash
# usage: tools/dist_train.sh CONFIG NPROC_PER_NODE [train.py args...]
#
# One node (GPUs with nccl, or CPU-only with gloo, one process per core):
#   bash tools/dist_train.sh configs/efficient_mtnet_640.py 8
# Several nodes, as mmseg's script: run on every node with its NODE_RANK
#   NNODES=2 NODE_RANK=0 MASTER_ADDR=10.0.0.1 PORT=29500 \
#     bash tools/dist_train.sh configs/efficient_mtnet_640.py 8
#   NNODES=2 NODE_RANK=1 MASTER_ADDR=10.0.0.1 PORT=29500 \
#     bash tools/dist_train.sh configs/efficient_mtnet_640.py 8
set -euo pipefail
CONFIG=$1
NPROC=$2
NNODES=${NNODES:-1}
NODE_RANK=${NODE_RANK:-0}
MASTER_ADDR=${MASTER_ADDR:-127.0.0.1}
PORT=${PORT:-29500}
PYTHON=${PYTHON:-python}
PYTHONPATH="$(dirname "$0")/..${PYTHONPATH:+:$PYTHONPATH}" \
exec "$PYTHON" -m torch.distributed.run \
  --nnodes="$NNODES" \
  --node_rank="$NODE_RANK" \
  --master_addr="$MASTER_ADDR" \
  --nproc_per_node="$NPROC" \
  --master_port="$PORT" \
  "$(dirname "$0")/train.py" "$CONFIG" --launcher pytorch "${@:3}"
