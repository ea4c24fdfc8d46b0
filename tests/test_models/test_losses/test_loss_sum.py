import pytest
import torch
from mmseg.registry import MODELS

import mtnet_plugin  # noqa: F401  (registers the losses)

PARTS = [
    dict(type='SoftmaxFocalLoss', gamma=2.0, loss_weight=0.3),
    dict(type='TumorDiceLoss', class_indices=(1, ), loss_weight=0.3),
]


def _batch():
    g = torch.Generator().manual_seed(0)
    logits = torch.randn(2, 2, 8, 8, generator=g)
    label = (torch.rand(2, 8, 8, generator=g) > 0.6).long()
    label[:, :2] = 255  # ignored rows
    return logits, label


def test_sum_of_its_parts_with_the_same_arguments():
    logits, label = _batch()
    total = MODELS.build(dict(type='LossSum', losses=PARTS))
    parts = [MODELS.build(p) for p in PARTS]
    expected = sum(p(logits, label, ignore_index=255) for p in parts)
    assert torch.allclose(total(logits, label, ignore_index=255), expected)
    # ignore_index reaches every part: logits at ignored pixels do not count
    moved = logits.clone()
    moved[:, 1, :2] += 50  # the tumor logit of the ignored rows
    assert torch.allclose(
        total(moved, label, ignore_index=255),
        total(logits, label, ignore_index=255))
    assert not torch.allclose(
        total(moved, label.clamp(max=1), ignore_index=255),
        total(logits, label.clamp(max=1), ignore_index=255))


def test_gradient_reaches_the_logits_through_every_part():
    logits, label = _batch()
    logits.requires_grad_(True)
    dice_only = MODELS.build(dict(type='LossSum', losses=PARTS[1:]))
    both = MODELS.build(dict(type='LossSum', losses=PARTS))
    g1, = torch.autograd.grad(dice_only(logits, label), logits)
    g2, = torch.autograd.grad(both(logits, label), logits)
    assert g1.abs().sum() > 0 and not torch.allclose(g1, g2)


def test_name_and_empty_list():
    assert MODELS.build(
        dict(type='LossSum', losses=PARTS,
             loss_name='loss_context')).loss_name == 'loss_context'
    with pytest.raises(ValueError, match='at least one loss'):
        MODELS.build(dict(type='LossSum', losses=[]))
