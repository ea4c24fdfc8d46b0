import pytest
import torch
from mmseg.registry import MODELS


def _inputs():
    return (torch.randn(2, 64, 40, 30), torch.randn(2, 64, 20, 15),
            torch.randn(2, 96, 10, 8), torch.randn(2, 128, 10, 8))


def test_fused_map_at_finest_scale_with_inputs_kept():
    neck = MODELS.build(
        dict(type='MultiScaleFusion', in_channels=[64, 64, 96, 128]))
    inputs = _inputs()
    outs = neck(inputs)
    assert len(outs) == 5
    assert all(o is i for o, i in zip(outs[:4], inputs))
    assert tuple(outs[-1].shape) == (2, 128, 40, 30)


def test_every_scale_contributes():
    neck = MODELS.build(
        dict(
            type='MultiScaleFusion',
            in_channels=[64, 64, 96, 128],
            keep_inputs=False)).eval()
    inputs = [x.requires_grad_() for x in _inputs()]
    (fused, ) = neck(inputs)
    fused.sum().backward()
    assert all(x.grad is not None and x.grad.abs().sum() > 0 for x in inputs)


def test_passthrough_maps_come_after_the_fused_map_unfused():
    """The fused map keeps index len(in_channels) (heads' in_index stay
    valid) and a passthrough map neither changes it nor is changed."""
    neck = MODELS.build(
        dict(
            type='MultiScaleFusion',
            in_channels=[64, 64, 96, 128],
            num_passthrough=1)).eval()
    inputs = _inputs()
    quarter = torch.randn(2, 48, 80, 60)
    outs = neck((*inputs, quarter))
    assert len(outs) == 6 and outs[5] is quarter
    plain = MODELS.build(
        dict(type='MultiScaleFusion', in_channels=[64, 64, 96, 128])).eval()
    plain.load_state_dict(neck.state_dict())
    assert torch.equal(outs[4], plain(inputs)[4])
    (fused, passed) = MODELS.build(
        dict(
            type='MultiScaleFusion',
            in_channels=[64, 64, 96, 128],
            keep_inputs=False,
            num_passthrough=1))((*inputs, quarter))
    assert passed is quarter and fused.shape[1] == 128


def test_wrong_number_of_maps_is_refused():
    neck = MODELS.build(
        dict(
            type='MultiScaleFusion',
            in_channels=[64, 64, 96, 128],
            num_passthrough=1))
    with pytest.raises(AssertionError, match='4 maps to fuse and 1'):
        neck(_inputs())
