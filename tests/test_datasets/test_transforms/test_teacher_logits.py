import cv2
import numpy as np
import pytest
import torch
from mmcv.transforms import Compose

from mtnet_plugin.datasets.transforms import (LoadTeacherLogits,
                                              PackMultiTaskInputs)


@pytest.fixture
def cache_file(tmp_path):
    rng = np.random.default_rng(0)
    path = str(tmp_path / 'logits.npz')
    np.savez(path, logits=rng.normal(size=(2, 2, 4, 4)).astype(np.float16),
             names=np.array(['a.jpg', 'b.jpg']), input_size=np.array([16, 16]),
             teacher_config=np.array('t.py'),
             teacher_checkpoint=np.array('t.pth'))
    return path


def _results(name='b.jpg', size=16):
    img = np.zeros((size, size, 3), np.uint8)
    img[:, :size // 2] = 200  # an asymmetric image
    return dict(img_path=f'/data/train/{name}', img=img,
                img_shape=(size, size), ori_shape=(size, size),
                gt_seg_map=np.zeros((size, size), np.uint8),
                seg_fields=['gt_seg_map'], gt_label=1)


def test_logits_resized_to_the_image_and_moved_with_it(cache_file):
    stored = np.load(cache_file)['logits'][1].astype(np.float32)
    out = LoadTeacherLogits(cache_file)(_results())
    want = cv2.resize(stored.transpose(1, 2, 0), (16, 16),
                      interpolation=cv2.INTER_LINEAR)
    np.testing.assert_allclose(out['teacher_logits'], want, rtol=1e-6)
    assert 'teacher_logits' in out['seg_fields']
    # a flip and a 90-degree rotation move the map as they move the image
    pipeline = Compose([
        dict(type='LoadTeacherLogits', cache_file=cache_file),
        dict(type='RandomFlip', prob=1.0, direction='horizontal'),
        dict(type='RandomRotate', prob=1.0, degree=(90, 90), pad_val=0,
             seg_pad_val=0),
    ])
    moved = pipeline(_results())
    for key in ('img', 'teacher_logits'):
        # mmcv rotates clockwise for positive angles
        ref = np.rot90(out[key][:, ::-1], k=-1)
        np.testing.assert_allclose(moved[key], ref, atol=1e-5)
    packed = PackMultiTaskInputs()(moved)['data_samples']
    assert tuple(packed.teacher_logits.data.shape) == (2, 16, 16)
    assert packed.teacher_logits.data.dtype == torch.float32


def test_an_image_missing_from_the_cache_or_of_another_size(cache_file,
                                                             tmp_path):
    load = LoadTeacherLogits(cache_file)
    with pytest.raises(KeyError, match='logits.npz has no teacher logits '
                       'for c.jpg'):
        load(_results('c.jpg'))
    with pytest.raises(ValueError, match='32x32 here .* of \\(16, 16\\)'):
        load(_results('a.jpg', size=32))
    with pytest.raises(FileNotFoundError,
                       match='none.npz.*cache_teacher_logits.py'):
        LoadTeacherLogits(str(tmp_path / 'none.npz'))(_results())
