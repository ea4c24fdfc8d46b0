import torch
from mmseg.registry import MODELS

BIG = 20.0  # softmax of (+BIG, -BIG) is 1 within float precision


def _onehot_logits(labels):
    """Confident logits (N, 2, H, W) predicting ``labels`` (N, H, W)."""
    fg = labels.float() * 2 * BIG - BIG
    return torch.stack([-fg, fg], dim=1)


def test_perfect_and_disjoint_predictions():
    target = torch.tensor([[[0, 1], [1, 0]]])
    loss = MODELS.build(dict(type='TumorDiceLoss', smooth=0.0))
    assert loss(_onehot_logits(target), target) < 1e-6
    assert torch.isclose(
        loss(_onehot_logits(1 - target), target), torch.tensor(1.0))


def test_hand_value_with_smooth():
    # prediction: tumor on 1 pixel, target: tumor on 2 pixels, 1 shared
    target = torch.tensor([[[1, 1, 0, 0]]])
    pred_lbl = torch.tensor([[[1, 0, 0, 0]]])
    loss = MODELS.build(dict(type='TumorDiceLoss', smooth=1.0))
    # dice = (2*1 + 1) / (1 + 2 + 1) = 0.75
    assert torch.isclose(
        loss(_onehot_logits(pred_lbl), target), torch.tensor(0.25), atol=1e-6)


def test_all_background_target():
    target = torch.zeros(1, 2, 2, dtype=torch.long)
    loss = MODELS.build(dict(type='TumorDiceLoss', smooth=1.0))
    # no tumor predicted: dice = (0 + 1) / (0 + 0 + 1) = 1 -> loss 0
    assert loss(_onehot_logits(target), target) < 1e-6
    # tumor predicted on all 4 pixels: dice = 1 / (4 + 1) -> loss 0.8
    assert torch.isclose(
        loss(_onehot_logits(torch.ones_like(target)), target),
        torch.tensor(0.8), atol=1e-6)


def test_background_excluded_unlike_mean_over_all_classes():
    # 1 tumor pixel among 100, predicted as background everywhere
    target = torch.zeros(1, 10, 10, dtype=torch.long)
    target[0, 0, 0] = 1
    pred = _onehot_logits(torch.zeros_like(target))
    tumor = MODELS.build(dict(type='TumorDiceLoss', smooth=0.0))
    both = MODELS.build(
        dict(type='TumorDiceLoss', class_indices=[0, 1], smooth=0.0))
    assert torch.isclose(tumor(pred, target), torch.tensor(1.0))
    # background dice = 2*99/(100+99): the mean hides the miss
    expected_both = 1 - (2 * 99 / 199 + 0.0) / 2
    assert torch.isclose(both(pred, target), torch.tensor(expected_both))
    # class_indices=None: every class except background
    auto = MODELS.build(
        dict(type='TumorDiceLoss', class_indices=None, smooth=0.0))
    assert torch.isclose(auto(pred, target), tumor(pred, target))


def test_ignore_index():
    target = torch.tensor([[[1, 255]]])
    pred = _onehot_logits(torch.tensor([[[1, 1]]]))
    loss = MODELS.build(dict(type='TumorDiceLoss', smooth=0.0))
    assert loss(pred, target) < 1e-6  # the ignored pixel does not count
    # ... while counted as background it halves the precision
    counted = loss(pred, torch.tensor([[[1, 0]]]))
    assert torch.isclose(counted, torch.tensor(1 - 2 / 3), atol=1e-4)
    assert loss.loss_name == 'loss_dice'


def test_loss_weight_scales_the_loss():
    target = torch.tensor([[[1, 0, 1, 0]]])
    pred = _onehot_logits(torch.tensor([[[1, 1, 0, 0]]]))  # dice 1/2
    plain = MODELS.build(dict(type='TumorDiceLoss', smooth=0.0))
    scaled = MODELS.build(
        dict(type='TumorDiceLoss', smooth=0.0, loss_weight=0.3))
    assert torch.isclose(plain(pred, target), torch.tensor(0.5), atol=1e-3)
    assert torch.isclose(
        scaled(pred, target), 0.3 * plain(pred, target), atol=1e-6)


def test_pixel_weight_removes_pixels_from_the_sums():
    """weight=0 on a pixel acts like ignoring it; weight 1 changes
    nothing."""
    target = torch.tensor([[[1, 0, 1, 0]]])
    pred = _onehot_logits(torch.tensor([[[1, 1, 0, 0]]]))
    loss = MODELS.build(dict(type='TumorDiceLoss', smooth=0.0))
    ones = torch.ones(1, 1, 4)
    assert torch.isclose(loss(pred, target, weight=ones), loss(pred, target))
    # drop the false positive (pixel 1) and the miss (pixel 2): perfect
    w = torch.tensor([[[1.0, 0.0, 0.0, 1.0]]])
    assert loss(pred, target, weight=w) < 1e-3
    ignored = torch.tensor([[[1, 255, 255, 0]]])
    assert torch.isclose(loss(pred, target, weight=w), loss(pred, ignored))
