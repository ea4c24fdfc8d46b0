import torch
from mmseg.models.decode_heads import LightHamHead
from mmseg.registry import MODELS

from mtnet_plugin.models.utils import DeterministicHamburger


def _head(**kw):
    cfg = dict(
        type='ProgressiveLightHamHead', in_channels=[128], in_index=[-1],
        channels=64, ham_channels=64, ham_kwargs=dict(MD_R=16),
        num_classes=2, up_channels=(32, ))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_is_mmseg_light_ham_with_deterministic_hamburger():
    head = _head()
    assert isinstance(head, LightHamHead)
    assert isinstance(head.hamburger, DeterministicHamburger)


def test_progressive_upsampling_shapes():
    x = (torch.randn(2, 128, 40, 30), )
    assert tuple(_head().eval()(x).shape) == (2, 2, 80, 60)
    assert tuple(_head(up_channels=(32, 16)).eval()(x).shape) == (2, 2, 160,
                                                                  120)
    assert tuple(_head(up_channels=()).eval()(x).shape) == (2, 2, 40, 30)


def test_multiple_inputs_resized_to_first():
    head = _head(in_channels=[128, 64], in_index=[0, 1]).eval()
    x = (torch.randn(1, 128, 16, 16), torch.randn(1, 64, 8, 8))
    assert tuple(head(x).shape) == (1, 2, 32, 32)
