import pytest
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


def test_without_upsampling_it_is_mmseg_light_ham_head():
    """Same weights, same NMF bases: the outputs of mmseg's LightHamHead
    and ours (no up stage) agree, so the forward is mmseg's."""
    ours = _head(up_channels=(), channels=32).eval()
    theirs = MODELS.build(
        dict(type='LightHamHead', in_channels=[128], in_index=[-1],
             channels=32, ham_channels=64, ham_kwargs=dict(MD_R=16),
             num_classes=2)).eval()
    theirs.hamburger.ham.rand_init = False
    theirs.hamburger.ham.register_buffer('bases', torch.zeros(1, 64, 16))
    theirs.load_state_dict(ours.state_dict())  # strict: same modules
    x = (torch.rand(2, 128, 12, 10), )
    assert torch.allclose(ours(x), theirs(x), atol=1e-5)


def test_learns_a_mask_at_twice_the_input_resolution():
    """A few Adam steps on one fixed sample fit a rectangle whose edges
    fall between input cells: only the upsampling stage can place them."""
    torch.manual_seed(0)
    head = _head(in_channels=[16], channels=16, ham_channels=16,
                 ham_kwargs=dict(MD_R=4), up_channels=(16, ),
                 dropout_ratio=0.0)
    x = (torch.randn(1, 16, 8, 8), )
    target = torch.zeros(1, 16, 16, dtype=torch.long)
    target[:, 5:11, 3:9] = 1  # odd edges: not representable at 8x8
    opt = torch.optim.Adam(head.parameters(), lr=1e-2)
    ce = torch.nn.CrossEntropyLoss()
    head.train()
    for _ in range(150):
        opt.zero_grad()
        loss = ce(head(x), target)
        loss.backward()
        opt.step()
    pred = head.eval()(x).argmax(1)
    assert tuple(pred.shape) == (1, 16, 16)
    assert (pred == target).float().mean() > 0.97


def _skip_head(**kw):
    return _head(
        in_channels=[128], in_index=[0], up_channels=(16, ),
        up_skips=(dict(in_index=1, in_channels=48, channels=8), ), **kw)


def test_skip_stage_outputs_the_skip_maps_size():
    """An odd-sized 1/4 map (a 1/8 map rounded up) sets the output size
    rather than twice the 1/8 map's."""
    head = _skip_head().eval()
    x = (torch.randn(2, 128, 10, 8), torch.randn(2, 48, 19, 15))
    assert tuple(head(x).shape) == (2, 2, 19, 15)
    assert set(head.skip_convs) == {'0'}


def test_without_skips_the_weights_and_outputs_are_unchanged():
    """Configs without ``up_skips`` build the same modules as before, so
    the shipped checkpoint loads strictly, and compute the same logits as
    the plain progressive head."""
    plain = _head(up_channels=(16, )).eval()
    assert not len(plain.skip_convs)
    again = _head(up_channels=(16, ), up_skips=(None, )).eval()
    again.load_state_dict(plain.state_dict())  # strict
    x = (torch.randn(1, 128, 6, 6), )
    assert torch.equal(plain(x), again(x))


def test_bad_up_skips_are_refused():
    with pytest.raises(AssertionError, match='up_skips has 2 entries'):
        _head(up_channels=(16, ), up_skips=(None, None))
    with pytest.raises(AssertionError, match='unknown keys'):
        _head(up_channels=(16, ),
              up_skips=(dict(in_index=1, in_channels=8, channel=8), ))


def test_skip_places_edges_the_coarse_map_cannot():
    """Two samples share one coarse map and differ in their masks, which
    only the skip maps hold: with the skip a few Adam steps fit both
    exactly; without it the head answers both alike and cannot."""
    target = torch.zeros(2, 16, 16, dtype=torch.long)
    target[0, 5:11, 3:9] = 1
    target[1, 2:7, 8:15] = 1
    skip = torch.stack([target.float(), 1 - target.float()], dim=1)
    coarse = torch.randn(1, 16, 4, 4).expand(2, -1, -1, -1)
    x = (coarse, skip)

    def fit(up_skips):
        torch.manual_seed(0)
        head = _head(in_channels=[16], in_index=[0], channels=16,
                     ham_channels=16, ham_kwargs=dict(MD_R=4),
                     up_channels=(8, ), up_skips=up_skips,
                     dropout_ratio=0.0)
        opt = torch.optim.Adam(head.parameters(), lr=1e-2)
        ce = torch.nn.CrossEntropyLoss()

        def logits():
            return torch.nn.functional.interpolate(
                head(x), size=(16, 16), mode='bilinear')

        head.train()
        for _ in range(100):
            opt.zero_grad()
            ce(logits(), target).backward()
            opt.step()
        head.eval()
        return (logits().argmax(1) == target).float().mean().item()

    assert fit((dict(in_index=1, in_channels=2, channels=4), )) == 1.0
    # one answer for both: right at most where the two masks agree
    agree = (target[0] == target[1]).float().mean().item()
    assert fit(()) <= (1 + agree) / 2 + 1e-6
