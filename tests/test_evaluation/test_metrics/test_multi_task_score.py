import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mtnet_plugin.evaluation import MultiTaskScore


def _sample(pred, gt, pred_label, gt_label):
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.tensor(pred)[None])
    s.gt_sem_seg = PixelData(data=torch.tensor(gt)[None])
    s.set_field(torch.tensor([pred_label]), 'pred_label')
    s.set_field(torch.tensor([gt_label]), 'gt_label')
    return s.to_dict()


def _score(samples, **kwargs):
    metric = MultiTaskScore(**kwargs)
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    metric.process([], samples)
    return metric.compute_metrics(metric.results)


def test_mean_of_global_tumor_dice_and_accuracy():
    # tumor: |P∩G| = 1 + 2, |P| = 2 + 2, |G| = 2 + 3 -> Dice 6/9
    # classes: 1 of 2 right -> 50 %
    res = _score([
        _sample([[1, 1, 0, 0]], [[1, 0, 1, 0]], 0, 0),
        _sample([[1, 1, 0, 255]], [[1, 1, 1, 0]], 1, 0),
    ])
    dice = 100 * 6 / 9
    assert res['tumor_Dice'] == pytest.approx(dice, abs=0.01)
    assert res['accuracy'] == 50.0
    assert res['score'] == pytest.approx((dice + 50) / 2, abs=1e-3)


def test_two_images_of_accuracy_outweigh_a_tiny_dice_gain():
    """The case that made the rule: a later epoch gained 0.01-0.1 Dice and
    lost two images of 429; the score prefers the earlier one, while
    Dice alone prefers the later one."""
    def run(found, wrong):
        lesion = _sample([[1] * found + [0] * (1000 - found)], [[1] * 1000],
                         0, 0)
        others = [_sample([[0]], [[0]], int(i < wrong), 0)
                  for i in range(428)]
        return _score([lesion] + others)
    early, late = run(760, 1), run(761, 3)
    assert late['tumor_Dice'] > early['tumor_Dice']
    assert early['score'] > late['score']


def test_ignored_pixels_and_weight():
    res = _score([_sample([[1, 1]], [[1, 255]], 1, 1)], dice_weight=1.0)
    assert res['tumor_Dice'] == 100 * 2 * 1 / (1 + 1)
    assert res['score'] == res['tumor_Dice']
    with pytest.raises(ValueError, match='dice_weight'):
        MultiTaskScore(dice_weight=1.5)
