import cv2
import numpy as np
import pytest

from mtnet_plugin.datasets.transforms import (LoadMRIImageFromFile,
                                              LoadTumorAnnotations)


@pytest.mark.parametrize('kind', ['grey', 'rgba', 'u16', 'bgr'])
def test_images_load_as_3_channel_8_bit(tmp_path, kind):
    ramp = np.tile(np.linspace(0, 1, 16, dtype=np.float32), (8, 1))
    if kind == 'grey':
        img, ext = (ramp * 255).astype(np.uint8), '.png'
    elif kind == 'rgba':
        img = np.dstack([(ramp * 255).astype(np.uint8)] * 3 +
                        [np.zeros((8, 16), np.uint8)])
        ext = '.png'
    elif kind == 'u16':
        img, ext = (ramp * 4095).astype(np.uint16), '.png'  # 12-bit MRI
    else:
        img, ext = np.dstack([(ramp * 255).astype(np.uint8)] * 3), '.png'
    path = str(tmp_path / f'x{ext}')
    cv2.imwrite(path, img)
    out = LoadMRIImageFromFile()(dict(img_path=path))
    assert out['img'].dtype == np.uint8
    assert out['img'].shape == (8, 16, 3)
    assert out['img_shape'] == (8, 16) == out['ori_shape']
    # the intensity range is kept (16-bit is rescaled, not shifted to black)
    assert out['img'][:, -1].min() >= 250 and out['img'][:, 0].max() <= 5


def test_unreadable_image(tmp_path):
    path = tmp_path / 'broken.jpg'
    path.write_bytes(b'\xff\xd8garbage')
    with pytest.raises(IOError, match='broken.jpg'):
        LoadMRIImageFromFile()(dict(img_path=str(path)))
    assert LoadMRIImageFromFile(ignore_empty=True)(
        dict(img_path=str(path))) is None


def test_tumor_annotations_to_mask_and_label():
    results = dict(
        height=10, width=12, gt_label=1, seg_fields=[],
        ann_info=[dict(segmentation=[[1, 1, 5, 1, 5, 5, 1, 5]], iscrowd=0)])
    out = LoadTumorAnnotations()(results)
    mask = out['gt_seg_map']
    assert mask.shape == (10, 12) and mask.dtype == np.uint8
    assert mask.sum() == mask[1:6, 1:6].sum() > 0
    assert out['seg_fields'] == ['gt_seg_map'] and out['gt_label'] == 1
    empty = LoadTumorAnnotations()(
        dict(height=4, width=4, gt_label=0, ann_info=[]))
    assert not empty['gt_seg_map'].any()
