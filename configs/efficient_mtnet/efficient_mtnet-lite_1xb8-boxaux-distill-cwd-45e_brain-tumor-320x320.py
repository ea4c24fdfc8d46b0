# EfficientMTNet-lite distilled from the DDRNet-23-slim channel-wise instead
# of per pixel (ChannelWiseDivergence, tau 1, weight 3, as mmrazor's CWD
# recipes). Measured and dropped: behind the lite without it at every
# validation (-1.97 at epoch 12; docs/ablations.md). With a trained model's
# logits (tens of units), the spatial softmax at tau 1 is a few peak pixels
# per channel: it teaches where the teacher is most sure, not where the
# edges are.
_base_ = ['./efficient_mtnet-lite_1xb8-boxaux-distill-pkd-45e_brain-tumor-320x320.py']
model = dict(
    distill_loss=dict(
        _delete_=True, type='ChannelWiseDivergence', tau=1.0,
        loss_weight=3.0))
