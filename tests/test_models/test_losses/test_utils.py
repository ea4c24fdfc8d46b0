"""What both distillation losses share (``TemperedDivergence``)."""
import pytest
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from mtnet_plugin.models.losses.utils import (teacher_agrees,
                                              teacher_at_student_size)

LOSSES = ['ChannelWiseDivergence', 'PixelKLDivergence']


def test_teacher_at_student_size_resizes_detaches_and_checks():
    s = torch.randn(2, 2, 8, 6)
    t = torch.randn(2, 2, 4, 3, requires_grad=True).double()
    out = teacher_at_student_size(s, t, 'X')
    assert out.shape == s.shape and out.dtype == torch.float32
    assert not out.requires_grad
    same = torch.randn(2, 2, 8, 6)
    assert torch.equal(teacher_at_student_size(s, same, 'X'), same)
    with pytest.raises(ValueError, match='^X takes'):
        teacher_at_student_size(s, torch.randn(2, 2, 8), 'X')


@pytest.mark.parametrize('loss', LOSSES)
def test_teacher_at_another_size_is_resized_and_gets_no_gradient(loss):
    s = torch.randn(1, 2, 8, 8, requires_grad=True)
    t = torch.randn(1, 2, 4, 4, requires_grad=True)
    fn = MODELS.build(dict(type=loss))
    value = fn(s, t)
    value.backward()
    assert s.grad is not None and s.grad.abs().sum() > 0
    assert t.grad is None
    up = F.interpolate(
        t.detach(), size=(8, 8), mode='bilinear', align_corners=False)
    assert value.item() == pytest.approx(fn(s, up).item(), rel=1e-5)


@pytest.mark.parametrize('loss', LOSSES)
def test_bad_shapes_and_tau_raise_naming_the_loss(loss):
    with pytest.raises(ValueError, match=f'{loss} takes .*same N and C'):
        MODELS.build(dict(type=loss))(
            torch.randn(1, 2, 4, 4), torch.randn(1, 3, 4, 4))
    with pytest.raises(ValueError, match='tau'):
        MODELS.build(dict(type=loss, tau=0))


@pytest.mark.parametrize('loss', LOSSES)
def test_weight_scales_and_name_is_settable(loss):
    s, t = torch.randn(1, 2, 5, 5), torch.randn(1, 2, 5, 5)
    one = MODELS.build(dict(type=loss))(s, t)
    three = MODELS.build(dict(type=loss, loss_weight=3.0,
                              loss_name='loss_kd'))
    assert three(s, t).item() == pytest.approx(3 * one.item(), rel=1e-6)
    assert three.loss_name == 'loss_kd'


def test_teacher_agrees_takes_labels_at_the_logits_size():
    # teacher says tumor in the left half of a 2x2 map
    t = torch.zeros(1, 2, 2, 2)
    t[0, 1, :, 0] = 5.0
    # 4x4 labels: tumor in the top half, padding in the bottom-right corner
    label = torch.zeros(1, 4, 4, dtype=torch.long)
    label[0, :2] = 1
    label[0, 2:, 2:] = 255
    agrees = teacher_agrees(t, label)
    assert agrees.dtype == torch.bool and tuple(agrees.shape) == (1, 2, 2)
    assert agrees.tolist() == [[[True, False], [False, False]]]
    assert teacher_agrees(t, label[:, None]).equal(agrees)  # (N, 1, H, W)
    with pytest.raises(ValueError, match='do not match'):
        teacher_agrees(t, torch.zeros(2, 4, 4, dtype=torch.long))
