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


def _dataset_with_a_file_broken_after_loading(tmp_path, test_mode):
    """A 2-image split whose second image breaks after the dataset was
    built (so the build-time check cannot catch it)."""
    import json
    from mmseg.registry import DATASETS
    root = tmp_path / 'split'
    root.mkdir()
    images = []
    for i in range(2):
        cv2.imwrite(str(root / f'img{i}.png'), np.full((8, 8, 3), 50 * i,
                                                       np.uint8))
        images.append(dict(id=i, file_name=f'img{i}.png', width=8, height=8))
    cats = [dict(id=1, name='0'), dict(id=2, name='1')]
    anns = [dict(id=i, image_id=i, category_id=1, iscrowd=0,
                 segmentation=[[1, 1, 5, 1, 5, 5, 1, 5]]) for i in range(2)]
    (root / '_annotations.coco.json').write_text(
        json.dumps(dict(images=images, annotations=anns, categories=cats)))
    ds = DATASETS.build(dict(
        type='CocoTumorDataset', data_root=str(root), test_mode=test_mode,
        # mmengine refetches a random index; with 2 images, 5 refetches
        # would all hit the broken one with probability 1/32 per call
        category_map={'0': 0, '1': 1}, max_refetch=60,
        pipeline=[dict(type='LoadMRIImageFromFile', ignore_empty=True)]))
    (root / 'img1.png').write_bytes(b'broken')
    return ds


def test_ignore_empty_in_training_draws_another_sample_and_logs(
        tmp_path, current_logger):
    import logging

    ds = _dataset_with_a_file_broken_after_loading(tmp_path, False)
    logged = []
    handler = logging.Handler()
    handler.emit = lambda record: logged.append(record.getMessage())
    logger = current_logger
    logger.addHandler(handler)
    try:
        for _ in range(3):
            assert ds[1]['img_path'].endswith('img0.png')
    finally:
        logger.removeHandler(handler)
    assert any('skipped unreadable image' in m and 'img1.png' in m
               for m in logged)


def test_ignore_empty_in_test_mode_raises(tmp_path):
    ds = _dataset_with_a_file_broken_after_loading(tmp_path, True)
    assert ds[0]['img_path'].endswith('img0.png')
    with pytest.raises(Exception, match='should not get `None`'):
        ds[1]


def test_dicom_and_nifti_slices_carry_their_spacing(tmp_path):
    pytest.importorskip('pydicom')
    pytest.importorskip('nibabel')
    from mtnet_plugin.datasets.medical_volume import MedicalImageError
    from tests.medical_files import write_dicom_file, write_nifti
    px = np.arange(12 * 16, dtype=np.uint16).reshape(12, 16)
    dcm = write_dicom_file(str(tmp_path / 'a.dcm'), px,
                           PixelSpacing=[0.9, 0.45])
    out = LoadMRIImageFromFile()(dict(img_path=dcm))
    assert out['img'].shape == (12, 16, 3) and out['img'].dtype == np.uint8
    assert out['pixel_spacing_mm'] == (0.9, 0.45)
    png = str(tmp_path / 'a.png')
    cv2.imwrite(png, px)
    assert LoadMRIImageFromFile()(dict(img_path=png))[
        'pixel_spacing_mm'] is None
    nii = write_nifti(str(tmp_path / 'v.nii.gz'),
                      np.random.rand(8, 8, 3).astype(np.float32), np.eye(4))
    with pytest.raises(MedicalImageError, match='v.nii.gz: 3 slices'):
        LoadMRIImageFromFile()(dict(img_path=nii))
    assert LoadMRIImageFromFile(ignore_empty=True)(dict(img_path=nii)) is None
