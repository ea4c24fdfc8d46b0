import numpy as np
import pytest
import torch

from mtnet_plugin.evaluation import ExpectedCalibrationError
from mtnet_plugin.evaluation.metrics.calibration_error import \
    expected_calibration_error


def test_ece_by_hand():
    # bin (0.9, 1.0]: 4 images at 0.95, 3 right -> |0.75 - 0.95| = 0.2
    # bin (0.6, 0.7]: 2 images at 0.65, 1 right -> |0.5 - 0.65| = 0.15
    conf = [0.95] * 4 + [0.65] * 2
    correct = [1, 1, 1, 0, 1, 0]
    assert expected_calibration_error(conf, correct) == pytest.approx(
        (4 * 0.2 + 2 * 0.15) / 6)
    assert expected_calibration_error([0.8] * 5, [1, 1, 1, 1, 0]) == \
        pytest.approx(0.0)


def test_metric_keys_from_pred_score():
    m = ExpectedCalibrationError()
    samples = [
        dict(pred_score=torch.tensor([0.9995, 0.0005]),
             gt_label=torch.tensor([0])),
        dict(pred_score=torch.tensor([0.3, 0.7]), gt_label=torch.tensor([0])),
    ]
    m.process([], samples)
    res = m.compute_metrics(m.results)
    # bins: 0.9995 right (gap 0.0005), 0.7 wrong (gap 0.7)
    assert res['ECE'] == pytest.approx((0.0005 + 0.7) / 2, abs=1e-5)
    assert res['NLL'] == pytest.approx(
        -(np.log(0.9995) + np.log(0.3)) / 2, abs=1e-5)
    assert res['overconfident_pct'] == 50.0
