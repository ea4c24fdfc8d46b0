"""Image-level classification head with Hamburger context."""
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpretrain.models.heads import StackedLinearClsHead
from mmseg.registry import MODELS

from ..utils import DeterministicHamburger


@MODELS.register_module()
class HamClsHead(StackedLinearClsHead):
    """Hamburger (NMF matrix decomposition) context on one feature map,
    global average pooling, then mmpretrain's stacked FC layers
    (default FC 128 -> 64 -> num_classes, dropout after the hidden FC).

    Losses and the loss-dict layout are mmpretrain's ``ClsHead``'s: targets
    are read from each data sample's ``gt_label`` (or ``gt_score``), so the
    head works with mmseg ``SegDataSample``s that carry ``gt_label``.

    Args:
        num_classes (int): Image classes.
        in_channels (int): Channels of the selected feature map.
        ham_channels (int): Channels of the Hamburger; a 1x1 conv maps
            ``in_channels`` to it when they differ. Default: 128.
        ham_kwargs (dict): NMF arguments (``MD_R`` ...).
        mid_channels (Sequence[int]): Hidden FC widths. Default: (64, ).
        dropout_rate (float): Dropout after each hidden FC. Default: 0.2.
        in_index (int): Which map of the feature tuple to classify.
            Default: -1.
        norm_cfg (dict): Norm of the Hamburger convs. Default: BN.
        ham_seed (int): Seed of the fixed eval NMF bases. Default: 1.
        loss (dict): Loss config, resolved in mmpretrain's registry (name
            it with its scope, e.g. ``'mmpretrain.CrossEntropyLoss'``).
        **kwargs: ``topk``, ``cal_acc``, ``init_cfg`` of ``ClsHead``.

    Shape:
        feats: tuple of maps, ``feats[in_index]`` of shape
        (B, in_channels, H, W) -> class logits (B, num_classes).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 ham_channels: int = 128,
                 ham_kwargs: dict = dict(),
                 mid_channels: Sequence[int] = (64, ),
                 dropout_rate: float = 0.2,
                 in_index: int = -1,
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 ham_seed: int = 1,
                 loss: dict = dict(
                     type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
                 **kwargs):
        super().__init__(
            num_classes=num_classes,
            in_channels=ham_channels,
            mid_channels=list(mid_channels),
            dropout_rate=dropout_rate,
            loss=loss,
            **kwargs)
        self.in_index = in_index
        self.squeeze = None
        if in_channels != ham_channels:
            self.squeeze = ConvModule(
                in_channels, ham_channels, 1, norm_cfg=norm_cfg)
        self.hamburger = DeterministicHamburger(
            ham_channels, ham_kwargs, norm_cfg=norm_cfg, seed=ham_seed)
        self.pool = nn.AdaptiveAvgPool2d(1)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """(B, C, H, W) map -> (B, mid_channels[-1]) hidden features."""
        x = feats[self.in_index]
        if self.squeeze is not None:
            x = self.squeeze(x)
        x = self.pool(self.hamburger(x)).flatten(1)
        # mmpretrain's hidden FC layers on the pooled vector.
        return super().pre_logits((x, ))
