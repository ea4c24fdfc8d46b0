"""One number for checkpoint selection on both tasks."""
from typing import Dict, List, Sequence

from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS


@METRICS.register_module()
class MultiTaskScore(BaseMetric):
    """Mean of tumor Dice and image accuracy, both in percent.

    The checkpoint hook, the plateau scheduler and early stopping each watch
    one key. Watching ``tumor_Dice`` alone kept a checkpoint that gained 0.01
    Dice point and lost two images of accuracy (README, "Trained weights").
    This key weighs the two outputs of the product equally: on ``valid/``
    (429 images) one image of accuracy (0.23 point) is worth 0.23 point of
    tumor Dice.

    Returns ``score`` (the mean), and for the log the ``tumor_Dice`` and
    ``accuracy`` it was computed from, under this metric's prefix
    (``multi_task/``) so that they do not clash with the other metrics'
    keys. Tumor Dice is global (areas summed over the set, as
    :class:`TumorIoUMetric`); pixels labelled ``ignore_index`` are skipped.

    Args:
        tumor_class (str): Name of the segmentation class scored.
            Default: 'tumor'.
        dice_weight (float): Weight of the Dice in the mean, accuracy gets
            ``1 - dice_weight``. Default: 0.5.
        ignore_index (int): Label ignored by the Dice. Default: 255.
        **kwargs: ``collect_device`` and ``prefix`` of ``BaseMetric``.
    """

    default_prefix = 'multi_task'

    def __init__(self,
                 tumor_class: str = 'tumor',
                 dice_weight: float = 0.5,
                 ignore_index: int = 255,
                 **kwargs):
        super().__init__(**kwargs)
        if not 0.0 <= dice_weight <= 1.0:
            raise ValueError(f'dice_weight must be in [0, 1], got '
                             f'{dice_weight}')
        self.tumor_class = tumor_class
        self.dice_weight = dice_weight
        self.ignore_index = ignore_index

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        classes = list(self.dataset_meta['classes'])
        if self.tumor_class not in classes:
            raise KeyError(f'class {self.tumor_class!r} not in the dataset '
                           f'classes {classes}')
        t = classes.index(self.tumor_class)
        for s in data_samples:
            pred = s['pred_sem_seg']['data'].squeeze()
            gt = s['gt_sem_seg']['data'].squeeze().to(pred.device)
            valid = gt != self.ignore_index
            p = (pred == t) & valid
            g = (gt == t) & valid
            correct = int(s['pred_label'].item() == s['gt_label'].item())
            self.results.append((int((p & g).sum()), int(p.sum()),
                                 int(g.sum()), correct))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        inter, pred, gt, correct = (sum(r[i] for r in results)
                                    for i in range(4))
        # a set without any tumor pixel, predicted without any: perfect
        dice = 200.0 * inter / (pred + gt) if pred + gt else 100.0
        acc = 100.0 * correct / len(results)
        w = self.dice_weight
        return dict(
            score=round(w * dice + (1 - w) * acc, 3),
            tumor_Dice=round(dice, 2),
            accuracy=round(acc, 2))
