import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mtnet_plugin.models.losses import boundary_band


def _box_label(h=20, w=24, box=(5, 6, 12, 15)):
    """A rectangle of class 1 (rows y0..y1-1, columns x0..x1-1) on class 0,
    as every label of the brain-tumor data."""
    y0, x0, y1, x1 = box
    t = torch.zeros(1, h, w, dtype=torch.long)
    t[0, y0:y1, x0:x1] = 1
    return t


def _chebyshev_to_other_class(t):
    """Brute force: each pixel's Chebyshev distance to a pixel of the other
    class (inf if none)."""
    h, w = t.shape[-2:]
    ys, xs = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    out = torch.full((h, w), float('inf'))
    for y in range(h):
        for x in range(w):
            other = t[0] != t[0, y, x]
            if other.any():
                d = torch.maximum((ys[other] - y).abs(), (xs[other] - x).abs())
                out[y, x] = d.min().float()
    return out


@pytest.mark.parametrize('radius', [1, 3])
def test_band_is_the_pixels_within_radius_of_the_other_class(radius):
    t = _box_label()
    band = boundary_band(t, radius)
    expected = _chebyshev_to_other_class(t) <= radius
    assert torch.equal(band[0], expected)
    # both sides of the edge: inside and outside the box
    assert band[0, 5, 10] and band[0, 4, 10]
    assert not band[0, 8, 10]  # the box centre is 4 pixels from its edge
    assert not band[0, 0, 0]


def test_band_with_three_classes():
    t = _box_label()
    t[0, 12:18, 6:15] = 2  # a second box touching the first one's bottom
    band = boundary_band(t, 2)
    assert torch.equal(band[0], _chebyshev_to_other_class(t) <= 2)


def test_ignored_pixels_are_neither_band_nor_a_class():
    t = _box_label()
    t[0, :, 20:] = 255  # padding to the right of the box
    band = boundary_band(t, 2)
    assert not band[0, :, 20:].any()
    # background next to the padding only is no boundary
    assert not band[0, 0, 19]
    assert band[0, 5, 10]


def test_loss_is_cross_entropy_over_the_band_only():
    torch.manual_seed(0)
    t = _box_label()
    pred = torch.randn(1, 2, *t.shape[-2:], requires_grad=True)
    loss = MODELS.build(dict(type='BoundaryBandLoss', radius=2,
                             loss_weight=0.5))
    band = boundary_band(t, 2)
    ce = F.cross_entropy(pred, t, reduction='none')
    value = loss(pred, t)
    assert torch.isclose(value, 0.5 * ce[band].mean())
    value.backward()
    grad = pred.grad.abs().sum(1)[0]
    assert (grad[~band[0]] == 0).all() and (grad[band[0]] > 0).all()
    assert loss.loss_name == 'loss_band'


def test_no_boundary_gives_zero_and_a_graph():
    pred = torch.randn(2, 2, 8, 8, requires_grad=True)
    loss = MODELS.build(dict(type='BoundaryBandLoss'))
    value = loss(pred, torch.zeros(2, 8, 8, dtype=torch.long))
    assert value.item() == 0
    value.backward()  # a batch of empty slices still trains the rest


def test_runs_in_a_decode_head_loss_list():
    from mmseg.models.decode_heads import FCNHead
    from mmseg.structures import SegDataSample
    from mmengine.structures import PixelData
    head = FCNHead(
        in_channels=4, channels=4, num_convs=1, num_classes=2,
        loss_decode=[
            dict(type='CrossEntropyLoss', loss_weight=1.0),
            dict(type='BoundaryBandLoss', radius=2, loss_weight=0.2),
        ])
    sample = SegDataSample()
    sample.gt_sem_seg = PixelData(data=_box_label(16, 16, (4, 4, 10, 10)))
    losses = head.loss([torch.randn(1, 4, 4, 4)], [sample], None)
    assert 'loss_band' in losses and losses['loss_band'] > 0
