"""Checks of the real Roboflow export in ../shared (skipped when absent)."""
import os.path as osp
from collections import Counter

import numpy as np
import pytest
from mmseg.registry import DATASETS

from mtnet_plugin.datasets.transforms import LoadTumorAnnotations

from ..conftest import REAL_DATA

pytestmark = pytest.mark.skipif(
    not osp.isdir(osp.join(REAL_DATA, 'train')),
    reason=f'real dataset not found at {REAL_DATA}')


@pytest.fixture(scope='module')
def train_set():
    return DATASETS.build(
        dict(
            type='CocoTumorDataset',
            data_root=osp.join(REAL_DATA, 'train'),
            empty_label=0,
            check_image_files=False,
            pipeline=[]))


def test_counts(train_set):
    assert len(train_set) == 1502
    anns = [a for i in range(len(train_set))
            for a in train_set.get_data_info(i)['ann_info']]
    assert Counter(a['category'] for a in anns) == {'0': 771, '1': 731}
    empty = [
        osp.basename(train_set.get_data_info(i)['img_path'])
        for i in range(len(train_set))
        if not train_set.get_data_info(i)['ann_info']
    ]
    assert len(empty) == 1 and empty[0].startswith('2369_jpg')


def test_masks_match_boxes(train_set):
    load = LoadTumorAnnotations()
    rng = np.random.default_rng(0)
    for i in rng.choice(len(train_set), 40, replace=False):
        info = train_set.get_data_info(int(i))
        if not info['ann_info']:
            continue
        mask = load(dict(info))['gt_seg_map']
        poly = np.array(info['ann_info'][0]['segmentation'][0]).reshape(-1, 2)
        w = poly[:, 0].max() - poly[:, 0].min()
        h = poly[:, 1].max() - poly[:, 1].min()
        if len(info['ann_info']) == 1:
            # the polygons trace the boxes: rasterised area ~ w * h
            assert abs(int(mask.sum()) - w * h) <= 2 * (w + h) + 4


@pytest.mark.slow
def test_all_image_files_check(train_set):
    ds = DATASETS.build(
        dict(
            type='CocoTumorDataset',
            data_root=osp.join(REAL_DATA, 'valid'),
            empty_label=0,
            pipeline=[]))
    assert len(ds) == 429


def test_train_split_through_the_config_pipeline():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope

    from ..conftest import REPO
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'efficient_mtnet_640.py'))
    init_default_scope('mmseg')
    cfg.train_dataloader.dataset.data_root = REAL_DATA
    ds = DATASETS.build(cfg.train_dataloader.dataset)
    assert len(ds) == 1502
    for i in (0, 1, 2):
        item = ds[i]
        assert tuple(item['inputs'].shape) == (3, 640, 640)
        sample = item['data_samples']
        assert tuple(sample.gt_sem_seg.data.shape) == (1, 640, 640)
        assert sample.gt_label.item() in (0, 1)
