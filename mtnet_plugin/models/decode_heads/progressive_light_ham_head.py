"""LightHam decode head with depthwise-separable progressive upsampling."""
from typing import Sequence

import torch.nn as nn
from mmcv.cnn import DepthwiseSeparableConvModule
from mmseg.models.decode_heads import LightHamHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS

from ..utils import DeterministicHamburger
from .seg_accuracy_mixin import SegAccuracyMixin


@MODELS.register_module()
class ProgressiveLightHamHead(SegAccuracyMixin, LightHamHead):
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
            ``eval_steps``) and ``one_step_grad`` (see
            :class:`DeterministicNMF2D`).
        up_channels (Sequence[int]): Output channels of each x2 upsampling
            stage. Default: (32, ).
        ham_seed (int): Seed of the fixed NMF bases used in eval. Default: 0.
        acc_seg (str): Per-iteration pixel accuracy, 'fast' or 'none'
            (:class:`SegAccuracyMixin`). Default: 'fast'.
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
        # ``one_step_grad`` is ours; mmseg's NMF2D would reject it.
        mmseg_ham_kwargs = {
            k: v
            for k, v in ham_kwargs.items() if k != 'one_step_grad'
        }
        super().__init__(
            ham_channels=ham_channels, ham_kwargs=mmseg_ham_kwargs, **kwargs)
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

    def cls_seg(self, feat):
        """Progressive x2 upsampling of the aligned map, then the 1x1
        classifier (dropout first, as mmseg's ``cls_seg``); mmseg's
        ``LightHamHead.forward`` does the rest.

        Args:
            feat (Tensor): (B, channels, H, W) output of ``align``.

        Returns:
            Tensor: (B, num_classes, H * 2**k, W * 2**k) logits, k =
            ``len(up_channels)``.
        """
        for up_conv in self.up_convs:
            feat = resize(
                feat,
                scale_factor=2,
                mode='bilinear',
                align_corners=self.align_corners)
            feat = up_conv(feat)
        return super().cls_seg(feat)
