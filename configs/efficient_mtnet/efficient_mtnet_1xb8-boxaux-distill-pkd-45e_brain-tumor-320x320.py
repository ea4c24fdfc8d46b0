# The shipped recipe (with the training-only extent head) plus pixel-wise
# knowledge distillation from the DDRNet-23-slim trained on the same data
# (valid tumor Dice 80.66): at every pixel of the decode head's map, the
# class probabilities also match the teacher's (PixelKLDivergence, tau 1,
# weight 3, so that late in training, when the two mostly agree, it weighs
# about as much as the Dice term). The teacher runs in training only; the
# trained network, its checkpoint and its inference are the shipped
# network's. Run from the repository root (the teacher's paths are relative
# to it).
_base_ = ['./efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py']
model = dict(
    type='DistillMultiTaskEncoderDecoder',
    teacher=dict(
        config='configs/ddrnet/ddrnet_23-slim_1xb8-45e_brain-tumor-320x320.py',
        checkpoint='checkpoints/ddrnet_23-slim_320_brain_tumor-112b47a8.pth'),
    distill_loss=dict(type='PixelKLDivergence', tau=1.0, loss_weight=3.0))
