import math

import torch
from mmseg.registry import MODELS


def test_matches_hand_computation():
    # two pixels, two classes; logits chosen so softmax is easy by hand
    pred = torch.tensor([[[[0.0, math.log(3.0)]], [[0.0, 0.0]]]])  # (1,2,1,2)
    target = torch.tensor([[[0, 1]]])
    # pixel 0: p = (0.5, 0.5), true 0 -> p_t = 0.5
    # pixel 1: p = (0.75, 0.25), true 1 -> p_t = 0.25
    expected = (-(0.5**2) * math.log(0.5) - (0.75**2) * math.log(0.25)) / 2
    loss = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=2.0))
    assert torch.isclose(loss(pred, target), torch.tensor(expected))
    # gamma=0 is plain cross-entropy
    ce = MODELS.build(dict(type='SoftmaxFocalLoss', gamma=0.0))
    assert torch.isclose(
        ce(pred, target), torch.nn.functional.cross_entropy(pred, target))


def test_alpha_weight_ignore_and_loss_weight():
    pred = torch.tensor([[[[0.0, math.log(3.0), 5.0]], [[0.0, 0.0, 0.0]]]])
    target = torch.tensor([[[0, 1, 255]]])  # last pixel ignored
    loss = MODELS.build(
        dict(
            type='SoftmaxFocalLoss', gamma=2.0, alpha=[0.25, 0.75],
            loss_weight=0.3))
    expected = (-0.25 * 0.25 * math.log(0.5) -
                0.75 * 0.5625 * math.log(0.25)) / 2 * 0.3
    assert torch.isclose(loss(pred, target), torch.tensor(expected))
    assert loss.loss_name == 'loss_focal'


def test_all_background_target_and_cpu_gradient():
    pred = torch.zeros(1, 2, 4, 4, requires_grad=True)
    target = torch.zeros(1, 4, 4, dtype=torch.long)
    loss = MODELS.build(dict(type='SoftmaxFocalLoss'))(pred, target)
    # p_t = 0.5 everywhere -> 0.25 * ln 2
    assert torch.isclose(loss, torch.tensor(0.25 * math.log(2)))
    loss.backward()
    assert pred.grad[0, 0].lt(0).all()  # pushes background logits up
