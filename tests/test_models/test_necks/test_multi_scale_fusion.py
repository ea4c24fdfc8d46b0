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
