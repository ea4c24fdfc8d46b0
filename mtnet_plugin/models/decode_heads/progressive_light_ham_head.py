"""LightHam decode head with depthwise-separable progressive upsampling."""
from typing import Sequence

import torch
import torch.nn as nn
from mmcv.cnn import DepthwiseSeparableConvModule
from mmseg.models.decode_heads import LightHamHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..utils import DeterministicHamburger


@MODELS.register_module()
class ProgressiveLightHamHead(LightHamHead):
    """mmseg's ``LightHamHead`` (squeeze -> Hamburger -> align) followed by
    depthwise-separable decoding with progressive x2 upsampling.

    The Hamburger is mmseg's (matrix decomposition by NMF), with the NMF made
    deterministic in eval mode (:class:`DeterministicHamburger`). After the
    ``align`` conv, each entry of ``up_channels`` doubles the resolution
    (bilinear) and applies a depthwise-separable 3x3 conv; ``conv_seg``
    classifies the last map. mmseg resizes the logits to the label size in
    ``loss_by_feat`` and to the image size in ``predict_by_feat``.

    Args:
        ham_channels (int): Channels of the Hamburger. Default: 64.
        ham_kwargs (dict): NMF arguments (``MD_S``, ``MD_R``, ``train_steps``,
            ``eval_steps``, ``inv_t``).
        up_channels (Sequence[int]): Output channels of each x2 upsampling
            stage. Default: (32, ).
        ham_seed (int): Seed of the fixed NMF bases used in eval. Default: 0.
        **kwargs: :class:`mmseg.models.decode_heads.BaseDecodeHead` arguments
            (``in_channels`` and ``in_index`` as lists, ``channels``,
            ``num_classes``, ``loss_decode`` ...).

    Shape:
        inputs: tuple of maps; the selected ones are resized to the first
        selected map's size (H, W) -> logits (B, num_classes,
        H * 2**len(up_channels), W * 2**len(up_channels)).
    """

    def __init__(self,
                 ham_channels: int = 64,
                 ham_kwargs: dict = dict(),
                 up_channels: Sequence[int] = (32, ),
                 ham_seed: int = 0,
                 **kwargs):
        super().__init__(
            ham_channels=ham_channels, ham_kwargs=ham_kwargs, **kwargs)
        self.hamburger = DeterministicHamburger(
            ham_channels, ham_kwargs, norm_cfg=self.norm_cfg, seed=ham_seed)
        self.up_convs = nn.ModuleList()
        channels = self.channels
        for c in up_channels:
            self.up_convs.append(
                DepthwiseSeparableConvModule(
                    channels,
                    c,
                    3,
                    padding=1,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg))
            channels = c
        self.conv_seg = nn.Conv2d(channels, self.out_channels, kernel_size=1)

    def forward(self, inputs):
        inputs = self._transform_inputs(inputs)
        inputs = [
            resize(
                level,
                size=inputs[0].shape[2:],
                mode='bilinear',
                align_corners=self.align_corners) for level in inputs
        ]
        x = self.squeeze(inputs[0] if len(inputs) == 1 else
                         torch.cat(inputs, dim=1))
        x = self.align(self.hamburger(x))
        for up_conv in self.up_convs:
            x = resize(
                x,
                scale_factor=2,
                mode='bilinear',
                align_corners=self.align_corners)
            x = up_conv(x)
        return self.cls_seg(x)
