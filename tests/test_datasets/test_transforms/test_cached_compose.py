import numpy as np
import pytest
from mmcv.transforms import Compose

from mtnet_plugin.datasets.transforms import CachedCompose

pytest.importorskip('pycocotools')


def _write_image(tmp_path, name, seed):
    import cv2
    img = np.random.default_rng(seed).integers(0, 255, (48, 40, 3),
                                               dtype=np.uint8)
    path = str(tmp_path / name)
    cv2.imwrite(path, img)
    return path


def _sample(path):
    poly = [[5, 5, 30, 5, 30, 20, 5, 20]]
    return dict(img_path=path, height=48, width=40, gt_label=1,
                ann_info=[dict(segmentation=poly, iscrowd=0)],
                seg_fields=[])


PREFIX = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='LoadTumorAnnotations'),
    dict(type='Resize', scale=(32, 24), keep_ratio=False),
]


def test_cached_samples_equal_uncached_and_are_copies(tmp_path):
    paths = [_write_image(tmp_path, f'{i}.png', i) for i in range(3)]
    cached = CachedCompose(PREFIX)
    plain = Compose(PREFIX)
    for _ in range(2):  # second pass is served from the cache
        for p in paths:
            a, b = cached(_sample(p)), plain(_sample(p))
            assert np.array_equal(a['img'], b['img'])
            assert np.array_equal(a['gt_seg_map'], b['gt_seg_map'])
            assert a['img_shape'] == b['img_shape'] == (24, 32)
            assert a['ori_shape'] == (48, 40)
            a['img'][:] = 0  # downstream in-place edits ...
    assert cached.misses == 3 and cached.hits == 3
    again = cached(_sample(paths[0]))
    assert again['img'].any()  # ... never reach the cache


def test_same_augmented_samples_as_uncached_pipeline(tmp_path):
    """The cache sits before augmentation: with the same seed, a cached
    and an uncached pipeline give the same augmented sample."""
    import random
    import torch
    path = _write_image(tmp_path, 'a.png', 0)
    aug = [dict(type='RandomFlip', prob=0.5),
           dict(type='RandomRotate', prob=1.0, degree=20)]
    cached = Compose([dict(type='CachedCompose', transforms=PREFIX), *aug])
    plain = Compose([*PREFIX, *aug])
    cached(_sample(path))  # fill the cache
    for seed in range(4):
        outs = []
        for pipe in (cached, plain):
            np.random.seed(seed)
            random.seed(seed)
            torch.manual_seed(seed)
            outs.append(pipe(_sample(path)))
        assert np.array_equal(outs[0]['img'], outs[1]['img'])
        assert np.array_equal(outs[0]['gt_seg_map'], outs[1]['gt_seg_map'])


def test_max_items_bounds_the_cache(tmp_path):
    paths = [_write_image(tmp_path, f'{i}.png', i) for i in range(3)]
    cached = CachedCompose(PREFIX, max_items=2)
    for _ in range(2):
        for p in paths:
            cached(_sample(p))
    assert len(cached._cache) == 2
    assert cached.misses == 4  # the third image is recomputed


def test_unreadable_image_is_not_cached(tmp_path):
    bad = tmp_path / 'bad.png'
    bad.write_bytes(b'not an image')
    cached = CachedCompose([dict(type='LoadMRIImageFromFile',
                                 ignore_empty=True)])
    assert cached(dict(img_path=str(bad))) is None
    assert not cached._cache
