# The shipped recipe (with the training-only extent head) on a shallower
# trunk: one SE inverted residual per stage instead of three (stages still
# 64, 96, 128 channels at 1/16, 1/32, 1/32, expansion 6). The deeper blocks
# of each stage are the part of the trunk that EfficientMTNet shares with
# Fast-SCNN; without them the network runs in about 0.75x Fast-SCNN's time
# on onnxruntime at 320x320 and 640x640 (docs/benchmarks.md).
_base_ = ['./efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py']
model = dict(backbone=dict(num_blocks=(1, 1, 1)))
