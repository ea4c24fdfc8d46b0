#!/usr/bin/env bash
# `make demo`: the main job on the embedded synthetic dataset.
set -euo pipefail
echo "make demo will: generate the synthetic MRI dataset (tools/dataset_converters/make_synthetic_mri.py),"
echo "train configs/efficient_mtnet_demo_synthetic.py with tools/train.py, test the best checkpoint with"
echo "tools/test.py on the synthetic test split and print the metrics and the overlay folder."
echo "Not implemented yet: it is completed by the train/test issue." >&2
exit 1
