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


def _metric(samples):
    metric = TumorIoUMetric()
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    metric.process([], samples)
    return metric.compute_metrics(metric.results)


def test_tumor_dice_is_global_not_a_mean_of_images():
    """Two images with tumor of very different sizes: the global Dice
    (areas summed over the set) differs from the mean of per-image Dice."""
    # image 1: 8 tumor px, all found -> Dice 1
    # image 2: 2 tumor px, 1 found, 1 false positive -> Dice 1/2
    res = _metric([
        _sample([[1] * 8 + [0] * 4], [[1] * 8 + [0] * 4]),
        _sample([[1, 0, 1, 0]], [[1, 1, 0, 0]]),
    ])
    inter, pred, gt = 8 + 1, 8 + 2, 8 + 2
    assert res['tumor_Dice'] == pytest.approx(200 * inter / (pred + gt),
                                              abs=0.01)  # 90.0
    assert res['tumor_Dice'] != pytest.approx(100 * (1 + 0.5) / 2, abs=1)
    assert res['tumor_IoU'] == pytest.approx(100 * 9 / 11, abs=0.01)


def test_pixels_labelled_255_are_ignored():
    """A wrong prediction on a 255 pixel changes nothing."""
    base = _metric([_sample([[1, 1, 0, 0]], [[1, 1, 0, 0]])])
    with_ignored = _metric([_sample([[1, 1, 0, 0, 1, 0]],
                                    [[1, 1, 0, 0, 255, 255]])])
    assert with_ignored['tumor_Dice'] == base['tumor_Dice'] == 100.0
    assert with_ignored['mIoU'] == base['mIoU'] == 100.0
    assert with_ignored['aAcc'] == base['aAcc'] == 100.0


def test_tumor_class_reported_beside_the_means():
    """mmseg's means average the (large, easy) background with the tumor;
    the tumor keys are the tumor class alone."""
    # tumor: |P∩G| = 1, |P| = 2, |G| = 2; background: 5, 6, 6
    res = _metric([
        _sample([[1, 1, 0, 0]], [[1, 0, 1, 0]]),
        _sample([[0, 0, 0, 0]], [[0, 0, 0, 0]]),
    ])
    assert res['tumor_IoU'] == pytest.approx(100 / 3, abs=0.01)
    assert res['tumor_Dice'] == pytest.approx(50.0)
    bg_iou, bg_dice = 5 / 7 * 100, 10 / 12 * 100
    assert res['mIoU'] == pytest.approx((bg_iou + 100 / 3) / 2, abs=0.01)
    assert res['mDice'] == pytest.approx((bg_dice + 50) / 2, abs=0.01)
    # the tumor key is not a relabelled mean: swapping which class is the
    # tumor reports the background's figure instead
    metric = TumorIoUMetric(tumor_class='background')
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    metric.process([], [
        _sample([[1, 1, 0, 0]], [[1, 0, 1, 0]]),
        _sample([[0, 0, 0, 0]], [[0, 0, 0, 0]]),
    ])
    assert metric.compute_metrics(metric.results)['tumor_Dice'] == \
        pytest.approx(bg_dice, abs=0.01)


def test_no_tumor_anywhere_gives_nan_not_a_perfect_score():
    res = _metric([_sample([[0, 0]], [[0, 0]])])
    assert res['tumor_Dice'] != res['tumor_Dice']  # NaN


def test_unknown_tumor_class():
    metric = TumorIoUMetric(tumor_class='lesion')
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    metric.process([], [_sample([[1]], [[1]])])
    with pytest.raises(KeyError, match='lesion'):
        metric.compute_metrics(metric.results)
