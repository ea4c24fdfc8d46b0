"""Segmentation metric that reports the tumor class on its own."""
from typing import Dict, List

from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class TumorIoUMetric(IoUMetric):
    """mmseg's ``IoUMetric`` plus per-class keys for the foreground.

    mmseg's ``mIoU`` / ``mDice`` average over every class *including the
    background*, which on a small-lesion task is close to 1 whatever happens
    to the lesion. This metric returns, beside them:

    - ``mIoU``, ``mDice``, ``aAcc``: mmseg's means over both classes
      (background included), in percent as mmseg reports them;
    - ``tumor_IoU``, ``tumor_Dice``: IoU and Dice of the class named
      ``tumor_class`` alone, in percent, over the whole evaluation set
      (areas summed over images, then divided).

    Args:
        tumor_class (str): Name of the class reported on its own.
            Default: 'tumor'.
        **kwargs: ``IoUMetric`` arguments (``iou_metrics`` defaults to
            ``['mIoU', 'mDice']`` here).
    """

    def __init__(self, tumor_class: str = 'tumor', iou_metrics=None,
                 **kwargs):
        super().__init__(
            iou_metrics=iou_metrics or ['mIoU', 'mDice'], **kwargs)
        self.tumor_class = tumor_class

    def compute_metrics(self, results: List) -> Dict[str, float]:
        """mmseg's metrics (and per-class table), plus ``tumor_IoU`` and
        ``tumor_Dice`` from the areas summed over the evaluation set."""
        metrics = super().compute_metrics(results)
        classes = list(self.dataset_meta['classes'])
        if self.tumor_class not in classes:
            raise KeyError(f'class {self.tumor_class!r} not in the dataset '
                           f'classes {classes}')
        t = classes.index(self.tumor_class)
        inter, union, pred, label = (float(sum(r[i][t] for r in results))
                                     for i in range(4))
        nan = float('nan') if self.nan_to_num is None else self.nan_to_num
        if 'mIoU' in metrics:
            metrics['tumor_IoU'] = round(
                100 * inter / union, 2) if union else nan
        if 'mDice' in metrics:
            metrics['tumor_Dice'] = round(
                200 * inter / (pred + label), 2) if pred + label else nan
        return metrics
