"""LightHam decode head with depthwise-separable progressive upsampling."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
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

    An up stage may take a finer map of the encoder as a skip connection
    (``up_skips``, as DeepLabV3+'s decoder takes its low-level features): the
    skip map gets a 1x1 conv, the decoder map is resized to the skip map's
    size instead of doubled, and the depthwise-separable conv reads both,
    concatenated. It places edges with the stem's 1/4-resolution features
    rather than by interpolation of the 1/8 map.

    Args:
        ham_channels (int): Channels of the Hamburger. Default: 64.
        ham_kwargs (dict): NMF arguments (``MD_S``, ``MD_R``, ``train_steps``,
            ``eval_steps``) and ``one_step_grad`` (see
            :class:`DeterministicNMF2D`).
        up_channels (Sequence[int]): Output channels of each x2 upsampling
            stage. Default: (32, ).
        up_skips (Sequence[dict | None]): One entry per up stage (missing
            entries: no skip): None, or ``dict(in_index, in_channels,
            channels)``: the input map ``inputs[in_index]`` with
            ``in_channels`` channels, reduced by a 1x1 conv to ``channels``
            and concatenated before that stage's conv. Default: ().
        ham_seed (int): Seed of the fixed NMF bases used in eval. Default: 0.
        acc_seg (str): Per-iteration pixel accuracy, 'fast' or 'none'
            (:class:`SegAccuracyMixin`). Default: 'fast'.
        **kwargs: :class:`mmseg.models.decode_heads.BaseDecodeHead` arguments
            (``in_channels`` and ``in_index`` as lists, ``channels``,
            ``num_classes``, ``loss_decode`` ...).

    Shape:
        inputs: tuple of maps; the selected ones are resized to the first
        selected map's size (H, W) -> logits (B, num_classes,
        H * 2**len(up_channels), W * 2**len(up_channels)); an up stage with a
        skip outputs the skip map's size instead of twice its input's.
    """

    def __init__(self,
                 ham_channels: int = 64,
                 ham_kwargs: dict = dict(),
                 up_channels: Sequence[int] = (32, ),
                 up_skips: Sequence[Optional[dict]] = (),
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
        assert len(up_skips) <= len(up_channels), \
            f'up_skips has {len(up_skips)} entries for ' \
            f'{len(up_channels)} up stages'
        self.up_convs = nn.ModuleList()
        # 1x1 convs of the skip maps, keyed by up stage
        self.skip_convs = nn.ModuleDict()
        self.skip_in_index = {}
        channels = self.channels
        for i, c in enumerate(up_channels):
            skip = up_skips[i] if i < len(up_skips) else None
            in_channels = channels
            if skip is not None:
                unknown = set(skip) - {'in_index', 'in_channels', 'channels'}
                assert not unknown, f'up_skips[{i}]: unknown keys {unknown}'
                self.skip_in_index[str(i)] = skip['in_index']
                self.skip_convs[str(i)] = ConvModule(
                    skip['in_channels'],
                    skip['channels'],
                    1,
                    conv_cfg=self.conv_cfg,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg)
                in_channels += skip['channels']
            self.up_convs.append(
                DepthwiseSeparableConvModule(
                    in_channels,
                    c,
                    3,
                    padding=1,
                    norm_cfg=self.norm_cfg,
                    act_cfg=self.act_cfg))
            channels = c
        self.conv_seg = nn.Conv2d(channels, self.out_channels, kernel_size=1)

    def forward(self, inputs):
        """mmseg's ``LightHamHead.forward`` (resize the selected maps to the
        first one's size, concatenate, squeeze -> Hamburger -> align), then
        the up stages (with their skip maps) and ``cls_seg``.

        Args:
            inputs (tuple[Tensor]): The neck's maps.

        Returns:
            Tensor: (B, num_classes, H', W') logits (class docstring).
        """
        skips = {k: inputs[i] for k, i in self.skip_in_index.items()}
        x = self._transform_inputs(inputs)
        x = torch.cat([
            resize(
                level,
                size=x[0].shape[2:],
                mode='bilinear',
                align_corners=self.align_corners) for level in x
        ],
                      dim=1)
        feat = self.align(self.hamburger(self.squeeze(x)))
        for i, up_conv in enumerate(self.up_convs):
            skip = skips.get(str(i))
            if skip is None:
                feat = resize(
                    feat,
                    scale_factor=2,
                    mode='bilinear',
                    align_corners=self.align_corners)
            else:
                feat = resize(
                    feat,
                    size=skip.shape[2:],
                    mode='bilinear',
                    align_corners=self.align_corners)
                feat = torch.cat([feat, self.skip_convs[str(i)](skip)], dim=1)
            feat = up_conv(feat)
        return self.cls_seg(feat)
