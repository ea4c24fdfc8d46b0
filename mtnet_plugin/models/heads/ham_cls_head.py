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

    Optionally, further maps (``extra_in_index``, e.g. the neck's fused 1/8
    map) join the pooled vector, each through attention pooling: a 1x1
    conv scores every position, a softmax over the positions weights the
    map's average, so that a small lesion's features are not averaged away
    by the surrounding slice. Each adds ``extra_in_channels[i] + 1``
    parameters and widens the first FC by ``extra_in_channels[i]``.

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
        extra_in_index (Sequence[int]): Further maps, attention-pooled and
            concatenated to the Hamburger's pooled vector. Default: ().
        extra_in_channels (Sequence[int]): Their channels, one each.
            Default: ().
        norm_cfg (dict): Norm of the Hamburger convs. Default: BN.
        ham_seed (int): Seed of the fixed eval NMF bases. Default: 1.
        loss (dict): Loss config, resolved in mmpretrain's registry (name
            it with its scope, e.g. ``'mmpretrain.CrossEntropyLoss'``).
        **kwargs: ``topk``, ``cal_acc``, ``init_cfg`` of ``ClsHead``.

    Shape:
        feats: tuple of maps, ``feats[in_index]`` of shape
        (B, in_channels, H, W), ``feats[extra_in_index[i]]`` of shape
        (B, extra_in_channels[i], H_i, W_i) -> class logits
        (B, num_classes).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 ham_channels: int = 128,
                 ham_kwargs: dict = dict(),
                 mid_channels: Sequence[int] = (64, ),
                 dropout_rate: float = 0.2,
                 in_index: int = -1,
                 extra_in_index: Sequence[int] = (),
                 extra_in_channels: Sequence[int] = (),
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 ham_seed: int = 1,
                 loss: dict = dict(
                     type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
                 **kwargs):
        assert len(extra_in_index) == len(extra_in_channels), (
            'extra_in_index and extra_in_channels must have one entry per '
            f'map, got {extra_in_index} and {extra_in_channels}')
        super().__init__(
            num_classes=num_classes,
            in_channels=ham_channels + sum(extra_in_channels),
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
        self.extra_in_index = list(extra_in_index)
        self.attn_scores = nn.ModuleList(
            nn.Conv2d(c, 1, 1) for c in extra_in_channels)

    def pre_logits(self, feats: Tuple[torch.Tensor]) -> torch.Tensor:
        """(B, C, H, W) map -> (B, mid_channels[-1]) hidden features."""
        x = feats[self.in_index]
        if self.squeeze is not None:
            x = self.squeeze(x)
        x = self.pool(self.hamburger(x)).flatten(1)
        pooled = [x]
        for index, score in zip(self.extra_in_index, self.attn_scores):
            y = feats[index]
            # (B, 1, H*W) weights summing to 1 over the positions
            weights = score(y).flatten(2).softmax(dim=-1)
            pooled.append((y.flatten(2) * weights).sum(dim=-1))
        # mmpretrain's hidden FC layers on the pooled vector.
        return super().pre_logits((torch.cat(pooled, dim=1), ))
