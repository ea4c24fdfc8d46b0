import math

import pytest
import torch
from mmseg.registry import MODELS


def _pkd(**kwargs):
    return MODELS.build(dict(type='PixelKLDivergence', **kwargs))


def test_zero_for_the_teacher_itself_and_positive_otherwise():
    t = torch.randn(2, 2, 6, 7)
    assert _pkd()(t.clone(), t).item() == pytest.approx(0, abs=1e-6)
    assert _pkd()(torch.randn(2, 2, 6, 7), t).item() > 0


def test_class_distribution_per_pixel_by_hand():
    """Two pixels: one where the student is right, one where it is 1/2 and
    the teacher 3/4 for class 1; the mean over pixels is half that KL."""
    s = torch.tensor([[0., 0.], [0., 0.]]).view(1, 2, 1, 2)
    t = torch.tensor([[0., 0.], [0., math.log(3.)]]).view(1, 2, 1, 2)
    kl = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    assert _pkd()(s, t).item() == pytest.approx(kl / 2, rel=1e-5)
    # tau divides the logits and multiplies by tau**2; weight scales
    assert _pkd(tau=2.0, loss_weight=3.0)(s, t * 2).item() == pytest.approx(
        3.0 * 4 * kl / 2, rel=1e-5)


def test_a_channel_shifted_everywhere_changes_the_loss():
    """Per pixel, over the classes: unlike the channel-wise divergence, a
    class made likelier everywhere is a different prediction."""
    t = torch.randn(1, 2, 5, 5)
    s = t.clone()
    s[:, 1] += 4.0
    assert _pkd()(s, t).item() > 0.1
    cwd = MODELS.build(dict(type='ChannelWiseDivergence'))
    assert cwd(s, t).item() == pytest.approx(0, abs=1e-5)


def test_loss_name():
    assert _pkd().loss_name == 'loss_pkd'


def test_teacher_correct_only_leaves_out_the_teachers_mistakes():
    """Two pixels labelled tumor: the teacher finds the first, misses the
    second. Masked, only the first pixel's KL counts (its mean over the one
    kept pixel); unmasked, both do."""
    s = torch.zeros(1, 2, 1, 2)
    t = torch.tensor([[0., 0.], [math.log(3.), -math.log(3.)]]).view(
        1, 2, 1, 2)  # pixel 0: p(tumor) 3/4; pixel 1: p(tumor) 1/4
    label = torch.ones(1, 1, 2, dtype=torch.long)
    kl = 0.25 * math.log(0.25 / 0.5) + 0.75 * math.log(0.75 / 0.5)
    masked = _pkd(teacher_correct_only=True)
    assert masked(s, t, seg_label=label).item() == pytest.approx(kl, rel=1e-5)
    assert _pkd()(s, t, seg_label=label).item() == pytest.approx(
        kl, rel=1e-5)  # both pixels: the same KL by symmetry, mean kl
    # a label that the teacher misses everywhere leaves nothing to distill
    bg = torch.zeros(1, 1, 2, dtype=torch.long)
    t_all = torch.tensor([[0., 0.], [1., 1.]]).view(1, 2, 1, 2)
    assert masked(s, t_all, seg_label=bg).item() == 0
    # padding (255) is never distilled
    pad = torch.full((1, 1, 2), 255, dtype=torch.long)
    assert masked(s, t, seg_label=pad).item() == 0


def test_teacher_correct_only_gives_gradient_to_kept_pixels_only():
    s = torch.zeros(1, 2, 1, 2, requires_grad=True)
    t = torch.tensor([[0., 0.], [2., -2.]]).view(1, 2, 1, 2)
    label = torch.ones(1, 1, 2, dtype=torch.long)
    _pkd(teacher_correct_only=True)(s, t, seg_label=label).backward()
    assert s.grad[..., 0].abs().sum() > 0
    assert s.grad[..., 1].abs().sum() == 0


def test_teacher_correct_only_needs_the_labels():
    with pytest.raises(ValueError, match='seg_label'):
        _pkd(teacher_correct_only=True)(torch.zeros(1, 2, 2, 2),
                                        torch.zeros(1, 2, 2, 2))
