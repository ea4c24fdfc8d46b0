import math

import pytest
import torch
from mmseg.registry import MODELS


def _cwd(**kwargs):
    return MODELS.build(dict(type='ChannelWiseDivergence', **kwargs))


def test_zero_for_the_teacher_itself_and_positive_otherwise():
    t = torch.randn(2, 2, 6, 7)
    loss = _cwd()
    assert loss(t.clone(), t).item() == pytest.approx(0, abs=1e-6)
    assert loss(torch.randn(2, 2, 6, 7), t).item() > 0


def test_spatial_distribution_per_channel_by_hand():
    """One image, one channel over two positions: KL of two Bernoullis."""
    s = torch.tensor([0., 0.]).view(1, 1, 1, 2)   # uniform: 1/2, 1/2
    t = torch.tensor([0., math.log(3.)]).view(1, 1, 1, 2)  # 1/4, 3/4
    expected = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert _cwd()(s, t).item() == pytest.approx(expected, rel=1e-5)
    # tau: logits / tau, times tau**2; weight scales; mean over N * C
    t2 = t * 2
    assert _cwd(tau=2.0, loss_weight=3.0)(s, t2).item() == pytest.approx(
        3.0 * 4 * expected, rel=1e-5)
    both = _cwd()(torch.cat([s, s]), torch.cat([t, s]))
    assert both.item() == pytest.approx(expected / 2, rel=1e-5)


def test_channels_are_distributions_over_space_not_over_classes():
    """A constant shift of one channel everywhere changes nothing (the
    spatial softmax ignores it), unlike a pixel-wise KL over classes."""
    t = torch.randn(1, 2, 5, 5)
    s = t.clone()
    s[:, 1] += 4.0
    assert _cwd()(s, t).item() == pytest.approx(0, abs=1e-5)


def test_loss_name():
    assert _cwd().loss_name == 'loss_cwd'
