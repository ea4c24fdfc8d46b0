# EfficientMTNet-lite (one SE inverted residual per stage) trained as
# efficient_mtnet_1xb8-boxaux-distill-pkd-ls-45e_brain-tumor-320x320.py trains
# the full network: pixel-wise distillation from the DDRNet-23-slim, label
# smoothing 0.1 on the classification loss. Inference is the lite's.
_base_ = [
    './efficient_mtnet_1xb8-boxaux-distill-pkd-ls-45e_brain-tumor-320x320.py'
]
model = dict(backbone=dict(num_blocks=(1, 1, 1)))
