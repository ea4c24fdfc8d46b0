# EfficientMTNet-lite (one SE inverted residual per stage) trained with
# pixel-wise distillation from the DDRNet-23-slim, as
# efficient_mtnet_1xb8-boxaux-distill-pkd-45e_brain-tumor-320x320.py trains
# the full network. The trained network, its checkpoint and its inference are
# the lite's.
_base_ = ['./efficient_mtnet_1xb8-boxaux-distill-pkd-45e_brain-tumor-320x320.py']
model = dict(backbone=dict(num_blocks=(1, 1, 1)))
