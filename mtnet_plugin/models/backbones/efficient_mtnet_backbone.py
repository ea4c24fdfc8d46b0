"""The EfficientMTNet backbone: an SE-enhanced Fast-SCNN-style encoder."""
from typing import Sequence

import torch.nn as nn
from mmengine.model import BaseModule
from mmseg.models.backbones.fast_scnn import LearningToDownsample
from mmseg.models.utils import InvertedResidualV3, SELayer
from mmseg.registry import MODELS


class SELearningToDownsample(LearningToDownsample):
    """mmseg's learning-to-downsample module with Squeeze-and-Excitation
    after each depthwise-separable conv.

    3x3 conv (stride 2) -> DSConv (stride 2) + SE -> DSConv (stride 2) + SE.

    Args:
        in_channels (int): Input channels. Default: 3.
        dw_channels (tuple[int]): Outputs of the first conv and of the first
            DSConv. Default: (32, 48).
        out_channels (int): Output channels. Default: 64.
        se_ratio (int): Squeeze ratio of the SE layers. Default: 4.
        **kwargs: ``conv_cfg``, ``norm_cfg``, ``act_cfg``, ``dw_act_cfg`` of
            :class:`mmseg.models.backbones.fast_scnn.LearningToDownsample`.

    Shape:
        x: (B, in_channels, H, W) -> (B, out_channels, H/8, W/8)
    """

    def __init__(self,
                 in_channels: int = 3,
                 dw_channels: Sequence[int] = (32, 48),
                 out_channels: int = 64,
                 se_ratio: int = 4,
                 **kwargs):
        super().__init__(in_channels, dw_channels, out_channels, **kwargs)
        self.se1 = SELayer(dw_channels[1], ratio=se_ratio)
        self.se2 = SELayer(out_channels, ratio=se_ratio)

    def forward(self, x, return_quarter: bool = False):
        """(B, in_channels, H, W) -> (B, out_channels, H/8, W/8), and with
        ``return_quarter`` also the (B, dw_channels[1], H/4, W/4) map of the
        first DSConv + SE: ``(x_8, x_4)``."""
        x = self.conv(x)
        quarter = self.se1(self.dsconv1(x))
        x = self.se2(self.dsconv2(quarter))
        if return_quarter:
            return x, quarter
        return x


@MODELS.register_module()
class EfficientMTNetBackbone(BaseModule):
    """SE-enhanced learning-to-downsample followed by three stages of
    SE inverted-residual blocks (MobileNetV2 layout, mmseg's
    ``InvertedResidualV3`` with ``se_cfg``).

    The SE layers of the blocks act on the expanded features and squeeze them
    to ``se_ratio`` x the block's *input* channels (EfficientNet's MBConv
    convention), which keeps their parameters at a fraction of MobileNetV3's
    ``mid / 4``.

    Args:
        in_channels (int): Image channels. Default: 3.
        downsample_dw_channels (tuple[int]): Widths inside the
            learning-to-downsample module. Default: (32, 48).
        downsample_channels (int): Output of the learning-to-downsample
            module (1/8 resolution). Default: 64.
        stage_channels (tuple[int]): Output channels of the three stages.
            Default: (64, 96, 128).
        num_blocks (tuple[int]): Blocks per stage. Default: (3, 3, 3).
        strides (tuple[int]): Stride of each stage's first block.
            Default: (2, 2, 1), i.e. stages at 1/16, 1/32, 1/32.
        expand_ratio (int): Expansion of the inverted residuals. Default: 6.
        se_ratio (float): SE squeeze width as a fraction of the block's input
            channels. Default: 0.25.
        downsample_se_ratio (int): Squeeze ratio of the SE layers in the
            learning-to-downsample module. Default: 4.
        out_indices (tuple[int]): Which maps to return: 0 is the 1/8 map of
            the learning-to-downsample module, 1..3 the stages.
            Default: (0, 1, 2, 3).
        out_quarter (bool): Also return the learning-to-downsample module's
            1/4 map (``downsample_dw_channels[1]`` channels), last, for a
            decoder's skip connection. Default: False.
        conv_cfg, norm_cfg, act_cfg: Layer configs. Defaults: Conv2d, BN, ReLU.
        init_cfg (dict | list[dict], optional): Initialisation config.

    Shape:
        x: (B, 3, H, W) -> tuple of (B, 64, H/8, W/8), (B, 64, H/16, W/16),
        (B, 96, H/32, W/32), (B, 128, H/32, W/32) (for the defaults; each
        spatial size is rounded up by the stride-2 convolutions), then
        (B, 48, H/4, W/4) if ``out_quarter``.
    """

    def __init__(self,
                 in_channels: int = 3,
                 downsample_dw_channels: Sequence[int] = (32, 48),
                 downsample_channels: int = 64,
                 stage_channels: Sequence[int] = (64, 96, 128),
                 num_blocks: Sequence[int] = (3, 3, 3),
                 strides: Sequence[int] = (2, 2, 1),
                 expand_ratio: int = 6,
                 se_ratio: float = 0.25,
                 downsample_se_ratio: int = 4,
                 out_indices: Sequence[int] = (0, 1, 2, 3),
                 out_quarter: bool = False,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN', requires_grad=True),
                 act_cfg=dict(type='ReLU'),
                 init_cfg=None):
        if init_cfg is None:
            init_cfg = [
                dict(type='Kaiming', layer='Conv2d'),
                dict(type='Constant', val=1, layer=['_BatchNorm', 'GroupNorm'])
            ]
        super().__init__(init_cfg=init_cfg)
        assert len(stage_channels) == len(num_blocks) == len(strides), \
            'stage_channels, num_blocks and strides need one entry per stage'
        assert all(0 <= i <= len(stage_channels) for i in out_indices), \
            f'out_indices {out_indices} out of range'
        self.out_indices = tuple(out_indices)
        self.out_quarter = out_quarter
        self.learning_to_downsample = SELearningToDownsample(
            in_channels,
            downsample_dw_channels,
            downsample_channels,
            se_ratio=downsample_se_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        self.stages = nn.ModuleList()
        channels = downsample_channels
        for out_channels, n, stride in zip(stage_channels, num_blocks,
                                           strides):
            blocks = []
            for i in range(n):
                blocks.append(
                    self._make_block(channels, out_channels,
                                     stride if i == 0 else 1, expand_ratio,
                                     se_ratio, conv_cfg, norm_cfg, act_cfg))
                channels = out_channels
            self.stages.append(nn.Sequential(*blocks))

    @staticmethod
    def _make_block(in_channels, out_channels, stride, expand_ratio, se_ratio,
                    conv_cfg, norm_cfg, act_cfg):
        mid_channels = in_channels * expand_ratio
        se_cfg = None
        if se_ratio:
            se_cfg = dict(
                channels=mid_channels,
                ratio=max(1, int(round(expand_ratio / se_ratio))))
        return InvertedResidualV3(
            in_channels,
            out_channels,
            mid_channels,
            kernel_size=3,
            stride=stride,
            se_cfg=se_cfg,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)

    def forward(self, x):
        x, quarter = self.learning_to_downsample(x, return_quarter=True)
        outs = [x]
        for stage in self.stages:
            outs.append(stage(outs[-1]))
        outs = [outs[i] for i in self.out_indices]
        if self.out_quarter:
            outs.append(quarter)
        return tuple(outs)
