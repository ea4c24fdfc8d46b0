# EfficientMTNet-lite (one SE inverted residual per stage) trained as
# efficient_mtnet_1xb8-boxaux-distill-pkd-masked-45e_brain-tumor-320x320.py
# trains the full network: pixel-wise distillation from the DDRNet-23-slim on
# the pixels where the teacher's prediction is the label only. The trained
# network, its checkpoint and its inference are the lite's.
_base_ = [
    './efficient_mtnet_1xb8-boxaux-distill-pkd-masked-45e_brain-tumor-320x320.py'
]
model = dict(backbone=dict(num_blocks=(1, 1, 1)))
