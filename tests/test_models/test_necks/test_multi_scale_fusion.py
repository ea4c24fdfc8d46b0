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


@pytest.mark.parametrize('num_blocks', [0, 2])
def test_each_refine_block_widens_the_fused_maps_reach_by_one_pixel(
        num_blocks):
    """A change at one pixel of the finest input reaches exactly the pixels
    within 1 + num_refine_blocks of it (the fusion's 3x3, then one
    depthwise 3x3 per block)."""
    torch.manual_seed(0)
    neck = MODELS.build(
        dict(
            type='MultiScaleFusion',
            in_channels=[64, 64, 96, 128],
            keep_inputs=False,
            num_refine_blocks=num_blocks)).eval()
    inputs = list(_inputs())
    with torch.no_grad():
        (before, ) = neck(inputs)
        inputs[0] = inputs[0].clone()
        inputs[0][:, :, 20, 15] += 5.0
        (after, ) = neck(inputs)
    changed = (after - before).abs().amax(dim=(0, 1)) > 1e-6
    rows, cols = torch.nonzero(changed, as_tuple=True)
    reach = 1 + num_blocks
    assert rows.min() == 20 - reach and rows.max() == 20 + reach
    assert cols.min() == 15 - reach and cols.max() == 15 + reach


def test_refine_blocks_are_absent_by_default_so_old_checkpoints_load():
    plain = MODELS.build(
        dict(type='MultiScaleFusion', in_channels=[64, 64, 96, 128]))
    refined = MODELS.build(
        dict(
            type='MultiScaleFusion',
            in_channels=[64, 64, 96, 128],
            num_refine_blocks=2))
    assert not any('refine' in k for k in plain.state_dict())
    extra = set(refined.state_dict()) - set(plain.state_dict())
    assert extra and all(k.startswith('refine_blocks.') for k in extra)
    # two blocks of depthwise 3x3 + 1x1 at 128 channels, with their BNs
    n_extra = sum(p.numel() for n, p in refined.named_parameters()
                  if n.startswith('refine_blocks.'))
    assert n_extra == 2 * (128 * 9 + 2 * 128 + 128 * 128 + 2 * 128)
