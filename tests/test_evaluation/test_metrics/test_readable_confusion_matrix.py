import logging

import torch

from mtnet_plugin.evaluation import ReadableConfusionMatrix


def test_cells_and_printed_table(current_logger):
    metric = ReadableConfusionMatrix(num_classes=2)
    metric.dataset_meta = dict(cls_classes=('0', '1'))
    samples = []
    for gt, pred in ((0, 0), (0, 1), (1, 1), (1, 1), (1, 0)):
        score = torch.tensor([1.0 - pred, float(pred)])
        samples.append(dict(gt_label=torch.tensor([gt]), pred_score=score,
                            pred_label=torch.tensor([pred])))
    metric.process([], samples)
    logger = current_logger
    records = []
    handler = logging.Handler()
    handler.emit = lambda r: records.append(r.getMessage())
    logger.addHandler(handler)
    try:
        res = metric.evaluate(5)
    finally:
        logger.removeHandler(handler)
    assert res == {
        'confusion/gt_0_pred_0': 1, 'confusion/gt_0_pred_1': 1,
        'confusion/gt_1_pred_0': 1, 'confusion/gt_1_pred_1': 2
    }
    table = [m for m in records if 'confusion matrix' in m][0]
    assert 'gt \\ pred' in table and '|     1     | 1 | 2 |' in table
