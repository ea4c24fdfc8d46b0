"""Segmentation metric that reports the tumor class on its own."""
from collections import OrderedDict
from typing import Dict, List

import numpy as np
from mmengine.logging import MMLogger, print_log
from mmseg.evaluation import IoUMetric
from mmseg.registry import METRICS
from prettytable import PrettyTable


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
        logger: MMLogger = MMLogger.get_current_instance()
        results = tuple(zip(*results))
        area_i, area_u, area_p, area_l = (sum(r) for r in results)
        ret = self.total_area_to_metrics(area_i, area_u, area_p, area_l,
                                         self.metrics, self.nan_to_num,
                                         self.beta)
        classes = list(self.dataset_meta['classes'])
        metrics = OrderedDict(aAcc=np.round(ret.pop('aAcc') * 100, 2))
        for key, val in ret.items():
            metrics['m' + key] = np.round(np.nanmean(val) * 100, 2)
        if self.tumor_class not in classes:
            raise KeyError(f'class {self.tumor_class!r} not in the dataset '
                           f'classes {classes}')
        t = classes.index(self.tumor_class)
        if 'IoU' in ret:
            metrics['tumor_IoU'] = np.round(float(ret['IoU'][t]) * 100, 2)
        if 'Dice' in ret:
            metrics['tumor_Dice'] = np.round(float(ret['Dice'][t]) * 100, 2)

        table = PrettyTable()
        table.add_column('Class', classes)
        for key, val in ret.items():
            table.add_column(key, [round(float(v) * 100, 2) for v in val])
        print_log('per class results:', logger)
        print_log('\n' + table.get_string(), logger=logger)
        return {k: float(v) for k, v in metrics.items()}
