"""Image-level classification head with Hamburger context."""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmpretrain.models.heads import StackedLinearClsHead
from mmseg.models.utils import resize
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

    Optionally, maps named by ``lesion_in_index`` are pooled under the
    segmentation's lesion probability (lesion pooling): the segmentor passes
    ``lesion_prob`` (B, 1, h, w), the probability that a pixel is not
    background, resized to each map, and the head takes the features'
    average weighted by it, smoothed towards the map's global average by one
    pixel's weight::

        pooled = (sum(p * y) + mean(y)) / (sum(p) + 1)

    so a slice with no lesion predicted gives the global average and a
    lesion of a few pixels still mostly its own features. The class is then
    read from the lesion itself (the image classes of a tumor dataset are
    often tumor types). Each widens the first FC by
    ``lesion_in_channels[i]``; no parameter is added. The segmentor detaches
    the probability, so the class loss does not train the mask.

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
        lesion_in_index (Sequence[int]): Maps pooled under the lesion
            probability, concatenated after the others. Default: ().
        lesion_in_channels (Sequence[int]): Their channels, one each.
            Default: ().
        norm_cfg (dict): Norm of the Hamburger convs. Default: BN.
        ham_seed (int): Seed of the fixed eval NMF bases. Default: 1.
        loss (dict): Loss config, resolved in mmpretrain's registry (name
            it with its scope, e.g. ``'mmpretrain.CrossEntropyLoss'``).
        **kwargs: ``topk``, ``cal_acc``, ``init_cfg`` of ``ClsHead``.

    Shape:
        feats: tuple of maps, ``feats[in_index]`` of shape
        (B, in_channels, H, W), ``feats[extra_in_index[i]]`` of shape
        (B, extra_in_channels[i], H_i, W_i), ``feats[lesion_in_index[j]]``
        of shape (B, lesion_in_channels[j], H_j, W_j), ``lesion_prob`` of
        shape (B, 1, h, w) in [0, 1] (any h, w) -> class logits
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
                 lesion_in_index: Sequence[int] = (),
                 lesion_in_channels: Sequence[int] = (),
                 norm_cfg: dict = dict(type='BN', requires_grad=True),
                 ham_seed: int = 1,
                 loss: dict = dict(
                     type='mmpretrain.CrossEntropyLoss', loss_weight=1.0),
                 **kwargs):
        assert len(extra_in_index) == len(extra_in_channels), (
            'extra_in_index and extra_in_channels must have one entry per '
            f'map, got {extra_in_index} and {extra_in_channels}')
        assert len(lesion_in_index) == len(lesion_in_channels), (
            'lesion_in_index and lesion_in_channels must have one entry per '
            f'map, got {lesion_in_index} and {lesion_in_channels}')
        super().__init__(
            num_classes=num_classes,
            in_channels=ham_channels + sum(extra_in_channels) +
            sum(lesion_in_channels),
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
        self.lesion_in_index = list(lesion_in_index)

    @property
    def pools_lesion(self) -> bool:
        """Whether the head needs ``lesion_prob`` (``lesion_in_index``)."""
        return len(self.lesion_in_index) > 0

    @staticmethod
    def lesion_pool(y: torch.Tensor, prob: torch.Tensor) -> torch.Tensor:
        """(B, C, H, W) features, (B, 1, h, w) lesion probability -> (B, C)
        their average under the probability, smoothed towards the global
        average by one pixel's weight (class docstring)."""
        prob = resize(prob, size=y.shape[2:], mode='bilinear',
                      align_corners=False).flatten(2)
        y = y.flatten(2)
        return ((y * prob).sum(dim=-1) + y.mean(dim=-1)) / (
            prob.sum(dim=-1) + 1.0)

    def forward(self,
                feats: Tuple[torch.Tensor],
                lesion_prob: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Class logits (B, num_classes) of the feature tuple (class
        docstring); ``lesion_prob`` is required when ``pools_lesion``."""
        return self.fc(self.pre_logits(feats, lesion_prob))

    def loss(self,
             feats: Tuple[torch.Tensor],
             data_samples: List,
             lesion_prob: Optional[torch.Tensor] = None,
             **kwargs) -> dict:
        """mmpretrain's ``ClsHead.loss`` with the lesion probability passed
        to :meth:`forward`."""
        return self._get_loss(self(feats, lesion_prob), data_samples,
                              **kwargs)

    def pre_logits(self,
                   feats: Tuple[torch.Tensor],
                   lesion_prob: Optional[torch.Tensor] = None
                   ) -> torch.Tensor:
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
        if self.pools_lesion:
            if lesion_prob is None:
                raise ValueError(
                    f'HamClsHead(lesion_in_index={self.lesion_in_index}) '
                    'pools under the lesion probability: pass lesion_prob '
                    '(B, 1, h, w), as MultiTaskEncoderDecoder does')
            for index in self.lesion_in_index:
                pooled.append(self.lesion_pool(feats[index], lesion_prob))
        # mmpretrain's hidden FC layers on the pooled vector.
        return super().pre_logits((torch.cat(pooled, dim=1), ))
