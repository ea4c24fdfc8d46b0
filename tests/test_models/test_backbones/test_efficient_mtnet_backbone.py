import pytest
import torch
from mmseg.models.utils import SELayer
from mmseg.registry import MODELS


def test_output_shapes_and_channels():
    backbone = MODELS.build(dict(type='EfficientMTNetBackbone'))
    outs = backbone(torch.randn(2, 3, 640, 640))
    assert [tuple(o.shape) for o in outs] == [(2, 64, 80, 80),
                                             (2, 64, 40, 40),
                                             (2, 96, 20, 20),
                                             (2, 128, 20, 20)]


def test_non_square_input_and_out_indices():
    backbone = MODELS.build(
        dict(type='EfficientMTNetBackbone', out_indices=(0, 3)))
    outs = backbone(torch.randn(1, 3, 384, 512))
    assert [tuple(o.shape) for o in outs] == [(1, 64, 48, 64),
                                             (1, 128, 12, 16)]


def test_se_everywhere_and_configurable_widths():
    backbone = MODELS.build(
        dict(
            type='EfficientMTNetBackbone',
            stage_channels=(32, 48, 64),
            num_blocks=(1, 2, 1)))
    ltd = backbone.learning_to_downsample
    assert isinstance(ltd.se1, SELayer) and isinstance(ltd.se2, SELayer)
    blocks = [b for stage in backbone.stages for b in stage]
    assert len(blocks) == 4 and all(b.with_se for b in blocks)
    # EfficientNet convention: squeeze = 1/4 of the block's input channels
    first = backbone.stages[0][0]
    assert first.se.conv1.conv.out_channels == 64 // 4
    assert backbone(torch.randn(1, 3, 64, 64))[-1].shape[1] == 64


def test_bad_out_indices():
    with pytest.raises(AssertionError):
        MODELS.build(dict(type='EfficientMTNetBackbone', out_indices=(5, )))


def test_out_quarter_appends_the_stems_quarter_map():
    """The 1/4 map comes last, so the other outputs keep their indices, and
    it is the map the 1/8 output is computed from (its gradient flows)."""
    backbone = MODELS.build(
        dict(type='EfficientMTNetBackbone', out_quarter=True)).eval()
    x = torch.randn(1, 3, 128, 96)
    outs = backbone(x)
    plain = MODELS.build(dict(type='EfficientMTNetBackbone')).eval()
    plain.load_state_dict(backbone.state_dict())  # no new parameters
    assert len(outs) == 5
    assert tuple(outs[-1].shape) == (1, 48, 32, 24)
    for o, p in zip(outs[:4], plain(x)):
        assert torch.equal(o, p)
    quarter = outs[-1]
    ltd = backbone.learning_to_downsample
    assert torch.allclose(ltd.se2(ltd.dsconv2(quarter)), outs[0])
