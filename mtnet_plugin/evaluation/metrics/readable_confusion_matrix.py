"""mmpretrain's confusion matrix, printed as a table and logged as counts."""
from typing import Dict, List

from mmengine.logging import print_log
from mmpretrain.evaluation import ConfusionMatrix
from mmseg.registry import METRICS
from prettytable import PrettyTable


@METRICS.register_module()
class ReadableConfusionMatrix(ConfusionMatrix):
    """mmpretrain's ``ConfusionMatrix`` that logs a labelled table.

    mmpretrain's version returns the matrix as one tensor, which loggers
    print as ``tensor([[...]])`` and scalar backends cannot store. This one
    prints rows = ground truth, columns = prediction, with the image class
    names (``dataset_meta['cls_classes']``), and returns each cell as an
    integer key ``confusion/gt_<i>_pred_<j>``.

    Args:
        num_classes (int, optional): Number of image classes; inferred from
            the predictions when None.
        **kwargs: ``collect_device``, ``prefix`` of ``BaseMetric``.
    """

    default_prefix = 'confusion'

    def compute_metrics(self, results: List) -> Dict[str, int]:
        matrix = super().compute_metrics(results)['result']
        n = matrix.shape[0]
        given = list((self.dataset_meta or {}).get('cls_classes', ()))
        names = [str(given[i]) if i < len(given) else str(i)
                 for i in range(n)]
        table = PrettyTable(['gt \\ pred'] + names)
        for i in range(n):
            table.add_row([names[i]] + [int(v) for v in matrix[i]])
        print_log('classification confusion matrix (rows: ground truth, '
                  'columns: prediction):\n' + table.get_string(),
                  logger='current')
        return {
            f'gt_{i}_pred_{j}': int(matrix[i, j])
            for i in range(n) for j in range(n)
        }
