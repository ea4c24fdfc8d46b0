import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mtnet_plugin.evaluation import TumorIoUMetric


def _sample(pred, gt):
    s = SegDataSample()
    s.pred_sem_seg = PixelData(data=torch.tensor(pred)[None])
    s.gt_sem_seg = PixelData(data=torch.tensor(gt)[None])
    return s.to_dict()


def test_tumor_class_reported_beside_the_means():
    metric = TumorIoUMetric()
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    # image 1: tumor 2 px, predicted 1 of them plus 1 false positive
    # image 2: no tumor, none predicted
    metric.process([], [
        _sample([[1, 1, 0, 0]], [[1, 0, 1, 0]]),
        _sample([[0, 0, 0, 0]], [[0, 0, 0, 0]]),
    ])
    res = metric.compute_metrics(metric.results)
    # tumor over the set: |P∩G| = 1, |P| = 2, |G| = 2
    assert res['tumor_IoU'] == pytest.approx(100 / 3, abs=0.01)
    assert res['tumor_Dice'] == pytest.approx(50.0)
    # background: |P∩G| = 5, |P| = 6, |G| = 6
    bg_iou, bg_dice = 5 / 7 * 100, 10 / 12 * 100
    assert res['mIoU'] == pytest.approx((bg_iou + 100 / 3) / 2, abs=0.01)
    assert res['mDice'] == pytest.approx((bg_dice + 50) / 2, abs=0.01)
    assert res['mDice'] > res['tumor_Dice']  # the mean flatters


def test_unknown_tumor_class():
    metric = TumorIoUMetric(tumor_class='lesion')
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    metric.process([], [_sample([[1]], [[1]])])
    with pytest.raises(KeyError, match='lesion'):
        metric.compute_metrics(metric.results)
