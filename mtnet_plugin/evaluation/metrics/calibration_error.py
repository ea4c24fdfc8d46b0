"""Expected calibration error of the image-class probabilities."""
from typing import Dict, List, Sequence

import numpy as np
from mmengine.evaluator import BaseMetric
from mmseg.registry import METRICS


def calibration_bins(confidence: np.ndarray, correct: np.ndarray,
                     num_bins: int = 10):
    """Equal-width confidence bins over (0, 1].

    Returns:
        tuple: per bin (count, mean confidence, accuracy); empty bins have
        count 0 and NaN means.
    """
    confidence = np.asarray(confidence, dtype=np.float64)
    correct = np.asarray(correct, dtype=np.float64)
    # bin b holds (b / B, (b + 1) / B]; a confidence of exactly 0 goes to 0
    idx = np.clip(np.ceil(confidence * num_bins).astype(int) - 1, 0,
                  num_bins - 1)
    count = np.bincount(idx, minlength=num_bins)
    with np.errstate(invalid='ignore', divide='ignore'):
        conf = np.bincount(idx, confidence, num_bins) / count
        acc = np.bincount(idx, correct, num_bins) / count
    return count, conf, acc


def expected_calibration_error(confidence, correct,
                               num_bins: int = 10) -> float:
    """ECE: sum over bins of |accuracy - mean confidence| weighted by the
    bin's share of the samples (Guo et al., 2017)."""
    count, conf, acc = calibration_bins(confidence, correct, num_bins)
    keep = count > 0
    return float(
        (count[keep] * np.abs(acc[keep] - conf[keep])).sum() / count.sum())


@METRICS.register_module()
class ExpectedCalibrationError(BaseMetric):
    """Calibration of ``pred_score``: how far the top-1 probability is from
    the accuracy of the images that get it.

    Returns ``ECE`` (fraction, 0 = calibrated; 10 equal-width bins by
    default), ``NLL`` (mean negative log-likelihood of the true class) and
    ``overconfident_pct`` (percent of images with top-1 probability
    >= 0.999), under the prefix ``calibration/``.

    Args:
        num_bins (int): Confidence bins. Default: 10.
        **kwargs: ``collect_device`` and ``prefix`` of ``BaseMetric``.
    """

    default_prefix = 'calibration'

    def __init__(self, num_bins: int = 10, **kwargs):
        super().__init__(**kwargs)
        self.num_bins = num_bins

    def process(self, data_batch, data_samples: Sequence[dict]) -> None:
        for s in data_samples:
            score = s['pred_score'].float().cpu().numpy()
            self.results.append((score, int(s['gt_label'].item())))

    def compute_metrics(self, results: List) -> Dict[str, float]:
        scores = np.stack([r[0] for r in results])
        labels = np.array([r[1] for r in results])
        conf = scores.max(1)
        correct = scores.argmax(1) == labels
        p_true = np.clip(scores[np.arange(len(labels)), labels], 1e-12, 1)
        return dict(
            ECE=round(expected_calibration_error(conf, correct,
                                                 self.num_bins), 5),
            NLL=round(float(-np.log(p_true).mean()), 5),
            overconfident_pct=round(100.0 * float((conf >= 0.999).mean()),
                                    2))
