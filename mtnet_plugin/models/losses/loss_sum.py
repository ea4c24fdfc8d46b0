"""Several losses on the same logits, summed, as one loss module."""
from typing import List

import torch.nn as nn
from mmseg.registry import MODELS


@MODELS.register_module()
class LossSum(nn.Module):
    """The sum of several segmentation losses, as one loss module.

    mmseg's ``BaseDecodeHead`` sums a list of losses itself, but heads with
    their own ``loss_by_feat`` that take one loss per output (DDRNet's
    ``DDRHead``: ``loss_decode[0]`` on the context logits, ``[1]`` on the
    spatial logits) cannot; wrapping the list gives one output several
    losses, e.g. the recipe's focal + tumor Dice on the main logits.

    Args:
        losses (list[dict]): Loss configs, each built in mmseg's registry and
            called with the same arguments.
        loss_name (str): Key of the summed loss in the loss dict.
            Default: 'loss_sum'.

    Shape:
        (cls_score (N, C, H, W), label (N, H, W), **kwargs) -> scalar
    """

    def __init__(self, losses: List[dict], loss_name: str = 'loss_sum'):
        super().__init__()
        if not losses:
            raise ValueError('LossSum needs at least one loss config')
        self.losses = nn.ModuleList(MODELS.build(cfg) for cfg in losses)
        self._loss_name = loss_name

    def forward(self, cls_score, label, **kwargs):
        return sum(loss(cls_score, label, **kwargs) for loss in self.losses)

    @property
    def loss_name(self) -> str:
        return self._loss_name
