"""FPN-style multi-scale aggregation neck."""
from typing import Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule, DepthwiseSeparableConvModule
from mmengine.model import BaseModule
from mmseg.models.utils import InvertedResidual, resize
from mmseg.registry import MODELS


@MODELS.register_module()
class MultiScaleFusion(BaseModule):
    """Aggregate several backbone maps at the finest scale.

    Each input gets a lateral 1x1 conv, all are resized to the size of the
    first (finest) input, concatenated and fused by a depthwise-separable
    3x3 conv. Optionally, ``num_refine_blocks`` residual blocks (mmseg's
    MobileNetV2 ``InvertedResidual``, stride 1) then process the fused map at
    the finest scale, as DDRNet keeps a deep branch at 1/8 after each context
    injection: each widens the fused map's receptive field by one pixel of the
    finest scale per depthwise 3x3, where the context of the coarse maps is
    already present.

    Following mmseg's Fast-SCNN, whose fusion module returns its inputs
    beside the fused map so that heads pick what they need through
    ``in_index``, the output is ``(*inputs, fused)`` when ``keep_inputs``
    (the default): the decode head reads index -1, auxiliary and
    classification heads read the backbone maps.

    Args:
        in_channels (Sequence[int]): Channels of each input map.
        lateral_channels (int): Channels after each lateral conv.
            Default: 32.
        out_channels (int): Channels of the fused map. Default: 128.
        keep_inputs (bool): Return the inputs before the fused map.
            Default: True.
        num_passthrough (int): Inputs after the ``len(in_channels)`` fused
            ones that are not fused but returned after the fused map, so
            that the fused map keeps its index (e.g. the backbone's 1/4 map
            for a decoder's skip connection). Default: 0.
        num_refine_blocks (int): Residual blocks on the fused map.
            Default: 0.
        refine_expand_ratio (int): Expansion of the refine blocks (1: a
            depthwise 3x3 then a linear 1x1, no expansion). Default: 1.
        conv_cfg, norm_cfg, act_cfg: Layer configs.
        align_corners (bool): ``align_corners`` of the resize. Default: False.
        init_cfg (dict, optional): Initialisation config.

    Shape:
        inputs: tuple of (B, in_channels[i], H_i, W_i), the first the finest,
        then ``num_passthrough`` other maps -> tuple of the fused inputs (if
        ``keep_inputs``), (B, out_channels, H_0, W_0), the other maps.
    """

    def __init__(self,
                 in_channels: Sequence[int],
                 lateral_channels: int = 32,
                 out_channels: int = 128,
                 keep_inputs: bool = True,
                 num_passthrough: int = 0,
                 num_refine_blocks: int = 0,
                 refine_expand_ratio: int = 1,
                 conv_cfg=None,
                 norm_cfg=dict(type='BN', requires_grad=True),
                 act_cfg=dict(type='ReLU'),
                 align_corners: bool = False,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        self.in_channels = list(in_channels)
        self.keep_inputs = keep_inputs
        self.num_passthrough = num_passthrough
        self.align_corners = align_corners
        self.lateral_convs = nn.ModuleList(
            ConvModule(
                c,
                lateral_channels,
                1,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg) for c in self.in_channels)
        self.fusion_conv = DepthwiseSeparableConvModule(
            lateral_channels * len(self.in_channels),
            out_channels,
            3,
            padding=1,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg)
        # empty, without weights, by default: older checkpoints load as they
        # are
        self.refine_blocks = nn.Sequential(*(InvertedResidual(
            out_channels,
            out_channels,
            stride=1,
            expand_ratio=refine_expand_ratio,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg) for _ in range(num_refine_blocks)))

    def forward(self, inputs):
        n = len(self.in_channels)
        assert len(inputs) == n + self.num_passthrough, \
            f'expected {n} maps to fuse and {self.num_passthrough} to ' \
            f'pass through, got {len(inputs)}'
        inputs, passthrough = tuple(inputs[:n]), tuple(inputs[n:])
        size = inputs[0].shape[2:]
        laterals = [
            resize(
                conv(x),
                size=size,
                mode='bilinear',
                align_corners=self.align_corners) if i else conv(x)
            for i, (conv, x) in enumerate(zip(self.lateral_convs, inputs))
        ]
        fused = self.fusion_conv(torch.cat(laterals, dim=1))
        fused = self.refine_blocks(fused)
        if self.keep_inputs:
            return (*inputs, fused, *passthrough)
        return (fused, *passthrough)
