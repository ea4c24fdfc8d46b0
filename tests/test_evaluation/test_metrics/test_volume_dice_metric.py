import csv
import json
import logging

import numpy as np
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample

from mtnet_plugin.evaluation import VolumeDiceMetric


def _sample(pred, gt, case_id, i, n, ml=0.5):
    s = SegDataSample(
        metainfo=dict(case_id=case_id, slice_index=i, num_slices=n,
                      voxel_volume_ml=ml))
    s.pred_sem_seg = PixelData(data=torch.as_tensor(pred)[None])
    s.gt_sem_seg = PixelData(data=torch.as_tensor(gt)[None])
    return s.to_dict()


def _run(samples, **kwargs):
    metric = VolumeDiceMetric(**kwargs)
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    # shuffled and in several batches, as a distributed run collects them
    order = np.random.default_rng(0).permutation(len(samples))
    for chunk in np.array_split(order, 3):
        metric.process([], [samples[j] for j in chunk])
    return metric, metric.compute_metrics(metric.results)


def _dice3d(p, g):
    return 2 * (p & g).sum() / (p.sum() + g.sum())


def test_volume_dice_is_the_dice_of_the_stacked_masks():
    rng = np.random.default_rng(1)
    vols = {
        'a': (rng.random((5, 6, 7)) > 0.6, rng.random((5, 6, 7)) > 0.5),
        'b': (rng.random((3, 6, 7)) > 0.8, rng.random((3, 6, 7)) > 0.7),
    }
    samples = []
    for case, (p, g) in vols.items():
        gt = g.astype(np.uint8)
        gt[0, 0, :2] = 255  # ignored pixels count for neither
        p = p.copy()
        p[0, 0, :2] = False
        g = gt == 1
        vols[case] = (p, g)
        samples += [
            _sample(p[i].astype(np.int64), gt[i], case, i, len(p))
            for i in range(len(p))
        ]
    metric, res = _run(samples)
    dices = [_dice3d(*vols[c]) for c in ('a', 'b')]
    assert res['volume_dice'] == pytest.approx(np.mean(dices))
    # the mean of the volumes, not the global Dice over all voxels
    pooled = _dice3d(np.concatenate([vols['a'][0], vols['b'][0]]),
                     np.concatenate([vols['a'][1], vols['b'][1]]))
    assert abs(res['volume_dice'] - pooled) > 1e-3
    errors = [(vols[c][0].sum() - vols[c][1].sum()) * 0.5 for c in 'ab']
    assert res['volume_error_ml'] == pytest.approx(np.mean(errors))
    assert res['volume_abs_error_ml'] == pytest.approx(
        np.mean(np.abs(errors)))
    assert res['volume_cases'] == 2
    rows = {r['case_id']: r for r in metric.per_case}
    assert rows['a']['dice'] == pytest.approx(dices[0])
    assert rows['b']['gt_ml'] == pytest.approx(vols['b'][1].sum() * 0.5)
    assert rows['a']['slices'] == 5


def test_volume_without_tumor_has_no_dice_but_its_false_volume_counts():
    empty = np.zeros((2, 2), np.uint8)
    samples = [
        _sample(np.ones((2, 2), np.int64), empty, 'none', 0, 1, ml=1.0),
        _sample(np.ones((2, 2), np.int64), np.ones((2, 2), np.uint8), 'full',
                0, 1, ml=1.0),
    ]
    metric, res = _run(samples)
    assert res['volume_dice'] == 1.0
    assert res['volume_cases_without_tumor'] == 1
    assert res['volume_error_ml'] == pytest.approx(2.0)  # (4 + 0) / 2
    assert [r['dice'] for r in metric.per_case] == [1.0, None]


def test_per_case_table_written_as_json_and_csv(tmp_path):
    samples = [
        _sample(np.eye(3, dtype=np.int64), np.eye(3, dtype=np.uint8), 'c',
                i, 2) for i in range(2)
    ]
    _run(samples, out_file=str(tmp_path / 'cases.csv'))
    _, res = _run(samples, out_file=str(tmp_path / 'cases.json'))
    rows = list(csv.DictReader(open(tmp_path / 'cases.csv')))
    assert rows[0]['case_id'] == 'c' and float(rows[0]['dice']) == 1.0
    assert json.load(open(tmp_path / 'cases.json'))[0]['gt_ml'] == \
        pytest.approx(6 * 0.5)
    assert res['volume_dice'] == 1.0


def test_a_missing_slice_is_logged_and_samples_without_case_refused(
        current_logger):
    messages = []

    class Keep(logging.Handler):

        def emit(self, record):
            messages.append(record.getMessage())

    current_logger.addHandler(Keep())
    samples = [_sample(np.ones((2, 2), np.int64), np.ones((2, 2), np.uint8),
                       'c', 0, 3)]
    _run(samples)
    assert any('c: 1 of 3 slices evaluated' in m for m in messages)
    assert any(m.startswith('per-volume tumor Dice') for m in messages)
    bare = SegDataSample()
    bare.pred_sem_seg = PixelData(data=torch.zeros(1, 2, 2))
    bare.gt_sem_seg = PixelData(data=torch.zeros(1, 2, 2))
    metric = VolumeDiceMetric()
    metric.dataset_meta = dict(classes=('background', 'tumor'))
    with pytest.raises(KeyError, match='case_id'):
        metric.process([], [bare.to_dict()])
