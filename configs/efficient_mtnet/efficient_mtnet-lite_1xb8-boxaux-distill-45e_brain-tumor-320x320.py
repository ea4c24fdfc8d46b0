# EfficientMTNet-lite trained with the shipped recipe plus knowledge
# distillation from the DDRNet-23-slim trained on the same data (valid tumor
# Dice 80.66 against the lite's 75.58): the lite's decode head also matches
# the teacher's segmentation logits, channel-wise (ChannelWiseDivergence,
# tau 1, weight 3 against the decode losses' 0.6, as mmrazor's CWD recipes
# weigh it against a cross-entropy of 1). The teacher runs in training only
# (about a quarter more time per step on a CPU); the trained network, its
# checkpoint and its inference are the lite's. Run from the repository root
# (the teacher's paths are relative to it).
_base_ = ['./efficient_mtnet-lite_1xb8-boxaux-45e_brain-tumor-320x320.py']
model = dict(
    type='DistillMultiTaskEncoderDecoder',
    teacher=dict(
        config='configs/ddrnet/ddrnet_23-slim_1xb8-45e_brain-tumor-320x320.py',
        checkpoint='checkpoints/ddrnet_23-slim_320_brain_tumor-112b47a8.pth'),
    distill_loss=dict(
        type='ChannelWiseDivergence', tau=1.0, loss_weight=3.0))
