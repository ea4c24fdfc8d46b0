import json
import os.path as osp

import cv2
import numpy as np
import pytest
from mmseg.registry import DATASETS
from pycocotools import mask as mask_utils

from mtnet_plugin.datasets import BadSampleError
from mtnet_plugin.datasets.transforms import LoadTumorAnnotations

CATS = [
    dict(id=0, name='Tumor', supercategory='none'),
    dict(id=1, name='0', supercategory='Tumor'),
    dict(id=2, name='1', supercategory='Tumor'),
]


def _square(x, y, s):
    return [x, y, x + s, y, x + s, y + s, x, y + s]


def _write(root, anns, images=None, bom=False, name='_annotations.coco.json'):
    """A Roboflow-style split: 3 images 32x32 and the given annotations."""
    root.mkdir(parents=True, exist_ok=True)
    if images is None:
        images = [
            dict(id=i, file_name=f'img{i}.jpg', width=32, height=32)
            for i in range(3)
        ]
    for img in images:
        cv2.imwrite(
            str(root / img['file_name']),
            np.full((img['height'], img['width'], 3), 100, np.uint8))
    coco = dict(images=images, annotations=anns, categories=CATS)
    with open(root / name, 'w', encoding='utf-8-sig' if bom else 'utf-8') \
            as f:
        json.dump(coco, f)
    return root


def _ann(aid, img, cat, seg, iscrowd=0):
    return dict(
        id=aid, image_id=img, category_id=cat, segmentation=seg,
        iscrowd=iscrowd, bbox=[0, 0, 1, 1], area=1)


def _build(root, **kw):
    return DATASETS.build(
        dict(type='CocoTumorDataset', data_root=str(root), pipeline=[], **kw))


def _mask(ds, idx):
    info = ds.get_data_info(idx)
    return LoadTumorAnnotations()(info)['gt_seg_map']


GOOD = [
    _ann(0, 0, 1, [_square(2, 2, 10)]),
    _ann(1, 1, 2, [_square(4, 4, 6), _square(20, 20, 5)]),  # two polygons
]


@pytest.mark.parametrize('bom', [False, True])
def test_roboflow_layout_with_and_without_bom(tmp_path, bom):
    root = _write(tmp_path / 'train', GOOD, bom=bom)
    ds = _build(root, empty_label=0)
    assert len(ds) == 3
    infos = {osp.basename(ds[i]['img_path']): ds[i] for i in range(3)}
    assert infos['img0.jpg']['gt_label'] == 0
    assert infos['img1.jpg']['gt_label'] == 1
    assert infos['img2.jpg']['gt_label'] == 0  # no annotation: empty_label
    assert ds.metainfo['classes'] == ('background', 'tumor')
    assert ds.metainfo['cls_classes'] == ('0', '1')


def test_plain_coco_layout(tmp_path):
    _write(tmp_path / 'images' / 'train', GOOD, name='unused.json')
    (tmp_path / 'annotations').mkdir()
    (tmp_path / 'images' / 'train' / 'unused.json').rename(
        tmp_path / 'annotations' / 'instances_train.json')
    ds = _build(
        tmp_path, ann_file='annotations/instances_train.json',
        data_prefix=dict(img_path='images/train'), empty_label=1)
    assert len(ds) == 3
    assert all(osp.isfile(ds[i]['img_path']) for i in range(3))


def test_polygons_rle_and_crowd_rasterised(tmp_path):
    fortran = np.asfortranarray
    m = np.zeros((32, 32), np.uint8)
    m[20:30, 0:5] = 1
    compressed = mask_utils.encode(fortran(m))
    compressed['counts'] = compressed['counts'].decode('ascii')
    m2 = np.zeros((32, 32), np.uint8)
    m2[0:3, 25:32] = 1
    # uncompressed RLE: column-major run lengths starting with zeros
    flat = m2.flatten(order='F')
    counts, cur, run = [], 0, 0
    for v in flat:
        if v != cur:
            counts.append(run)
            cur, run = v, 0
        run += 1
    counts.append(run)
    anns = [
        _ann(0, 0, 1, [_square(2, 2, 10)]),
        _ann(1, 0, 1, compressed),
        _ann(2, 0, 1, dict(size=[32, 32], counts=counts)),
        _ann(3, 0, 1, [_square(14, 14, 4)], iscrowd=1),
    ]
    ds = _build(_write(tmp_path / 'train', anns), empty_label=0)
    mask = _mask(ds, 0)
    assert mask.dtype == np.uint8 and mask.shape == (32, 32)
    assert (mask[2:12, 2:12] == 1).all()
    assert (mask[20:30, 0:5] == 1).all()
    assert (mask[0:3, 25:32] == 1).all()
    assert (mask[14:18, 14:18] == 255).all()  # crowd -> ignore
    assert set(np.unique(mask)) == {0, 1, 255}


def test_presence_mode(tmp_path):
    ds = _build(_write(tmp_path / 'train', GOOD), label_mode='presence')
    labels = sorted((osp.basename(ds[i]['img_path']), ds[i]['gt_label'])
                    for i in range(3))
    assert labels == [('img0.jpg', 1), ('img1.jpg', 1), ('img2.jpg', 0)]


def test_category_mode_errors(tmp_path):
    root = _write(tmp_path / 'a', GOOD)
    with pytest.raises(BadSampleError, match='img2.jpg.*empty_label'):
        _build(root)  # empty_label=None: an image without annotation
    disagree = GOOD + [_ann(5, 0, 2, [_square(20, 20, 4)])]
    with pytest.raises(BadSampleError, match=r'img0.jpg.*\[0, 5\].*disagree'):
        _build(_write(tmp_path / 'b', disagree), empty_label=0)
    with pytest.raises(BadSampleError, match='category_map'):
        _build(_write(tmp_path / 'c', GOOD), category_map={'0': 0},
               empty_label=0)


# ---------------------------------------------------------------- bad input
@pytest.mark.parametrize('kw,pattern', [
    (dict(label_mode='boxes'), r'label_mode.*boxes'),
    (dict(on_bad_sample='ignore'), r'on_bad_sample.*ignore'),
])
def test_invalid_options(tmp_path, kw, pattern):
    root = _write(tmp_path / 'train', GOOD)
    with pytest.raises(ValueError, match=pattern):
        _build(root, **kw)


def test_missing_images_key_names_the_file(tmp_path):
    root = _write(tmp_path / 'train', GOOD)
    ann = root / '_annotations.coco.json'
    coco = json.loads(ann.read_text())
    del coco['images']
    ann.write_text(json.dumps(coco))
    with pytest.raises(BadSampleError,
                       match=r'_annotations.coco.json.*"images"'):
        _build(root)


def test_missing_test_split_says_how_to_use_valid(tmp_path):
    _write(tmp_path / 'valid', GOOD)
    with pytest.raises(FileNotFoundError,
                       match=r'test/_annotations.coco.json.*no test/ split'
                       r'.*test_dataloader.dataset.ann_file=valid/'):
        DATASETS.build(dict(
            type='CocoTumorDataset', data_root=str(tmp_path), pipeline=[],
            ann_file='test/_annotations.coco.json',
            data_prefix=dict(img_path='test')))


def test_missing_json(tmp_path):
    with pytest.raises(FileNotFoundError, match='_annotations.coco.json'):
        _build(tmp_path)


def test_unparsable_json(tmp_path):
    (tmp_path / '_annotations.coco.json').write_text('{"images": [')
    with pytest.raises(BadSampleError, match='_annotations.coco.json.*JSON'):
        _build(tmp_path)


BAD_CASES = {
    'polygon_2_points': (
        [_ann(7, 1, 1, [[1, 1, 5, 5]])], r'img1.jpg.*annotation id 7.*2 points'),
    'zero_area': (
        [_ann(8, 1, 1, [[1, 1, 5, 5, 9, 9]])], r'img1.jpg.*id 8.*zero-area'),
    'unknown_image_id': (
        [_ann(9, 42, 1, [_square(1, 1, 3)])], r'annotation id 9.*image_id 42'),
    'unknown_category_id': (
        [_ann(10, 1, 7, [_square(1, 1, 3)])],
        r'img1.jpg.*annotation id 10.*category_id 7'),
    'odd_length_polygon': (
        [_ann(11, 1, 1, [[1, 1, 5, 1, 5, 5, 1]])],
        r'img1.jpg.*annotation id 11.*polygon'),
    'empty_segmentation': (
        [_ann(12, 1, 1, [])], r'img1.jpg.*annotation id 12.*empty'),
    'unsupported_segmentation_type': (
        [_ann(13, 1, 1, 'a string')],
        r'img1.jpg.*annotation id 13.*unsupported segmentation str'),
    'rle_size_differs_from_image': (
        [_ann(14, 1, 1, dict(size=[16, 16], counts=[0, 256]))],
        r'img1.jpg.*annotation id 14.*RLE size \[16, 16\] differs.*'
        r'\[32, 32\]'),
    'zero_area_rle': (  # all background, whatever its 'area' field says
        [_ann(15, 1, 1, dict(size=[32, 32], counts=[1024]))],
        r'img1.jpg.*annotation id 15.*zero-area'),
    'zero_area_compressed_rle': (
        [_ann(16, 1, 1, dict(size=[32, 32], counts=mask_utils.encode(
            np.zeros((32, 32), np.uint8, order='F'))['counts'].decode()))],
        r'img1.jpg.*annotation id 16.*zero-area'),
}


@pytest.mark.parametrize('case', sorted(BAD_CASES))
def test_bad_annotation_error_names_file_image_and_annotation(tmp_path, case):
    anns, pattern = BAD_CASES[case]
    root = _write(tmp_path / 'train', GOOD[:1] + anns)
    with pytest.raises(BadSampleError, match=pattern) as err:
        _build(root, empty_label=0)
    assert '_annotations.coco.json' in str(err.value)


@pytest.mark.parametrize('case', sorted(BAD_CASES))
def test_bad_annotation_skipped_logged_and_counted(tmp_path, case, caplog):
    anns, pattern = BAD_CASES[case]
    root = _write(tmp_path / 'train', GOOD[:1] + anns)
    ds = _build(root, empty_label=0, on_bad_sample='skip')
    assert ds.build_report['skipped'] == 1
    assert len(ds.skipped) == 1
    import re
    assert re.search(pattern, ds.skipped[0])
    names = {osp.basename(ds[i]['img_path']) for i in range(len(ds))}
    assert 'img0.jpg' in names
    if case not in ('unknown_image_id', ):
        assert 'img1.jpg' not in names  # the image with the bad annotation


def _bad_image(root, how):
    if how == 'missing':
        (root / 'img1.jpg').unlink()
    elif how == 'corrupt':
        (root / 'img1.jpg').write_bytes(b'not a jpeg at all')
    elif how == 'wrong_size':
        cv2.imwrite(str(root / 'img1.jpg'), np.zeros((20, 32, 3), np.uint8))


@pytest.mark.parametrize('how,pattern', [
    ('missing', r'img1.jpg \(id 1\).*not found'),
    ('corrupt', r'img1.jpg \(id 1\).*corrupt'),
    ('wrong_size', r'img1.jpg \(id 1\).*32x20 but the JSON says 32x32'),
])
def test_bad_image_files(tmp_path, how, pattern):
    root = _write(tmp_path / 'train', GOOD)
    _bad_image(root, how)
    with pytest.raises(BadSampleError, match=pattern):
        _build(root, empty_label=0)
    ds = _build(root, empty_label=0, on_bad_sample='skip')
    assert len(ds) == 2 and ds.build_report['skipped'] == 1


def test_out_of_image_coordinates_are_clipped_and_counted(tmp_path):
    anns = [_ann(0, 0, 1, [[-5, -5, 40, -5, 40, 10, -5, 10]])]
    ds = _build(_write(tmp_path / 'train', anns), empty_label=0)
    assert ds.build_report['clipped_annotations'] == 1
    info = [ds[i] for i in range(3) if ds[i]['img_id'] == 0][0]
    poly = info['ann_info'][0]['segmentation'][0]
    assert min(poly) >= 0 and max(poly) <= 32
    mask = LoadTumorAnnotations()(dict(info))['gt_seg_map']
    assert mask[0:10, :].all() and not mask[11:, :].any()


def test_build_report_logged(tmp_path, current_logger):
    root = _write(tmp_path / 'train', GOOD + [_ann(7, 2, 1, [[1, 1, 5, 5]])])
    logger = current_logger
    messages = []
    handler_cls = __import__('logging').Handler

    class _Keep(handler_cls):

        def emit(self, record):
            messages.append(record.getMessage())

    h = _Keep()
    logger.addHandler(h)
    try:
        _build(root, empty_label=0, on_bad_sample='skip')
    finally:
        logger.removeHandler(h)
    assert any('skipped:' in m and 'annotation id 7' in m for m in messages)
    assert any('2 images loaded, 1 bad samples skipped' in m
               for m in messages)


def test_dicom_file_names_train_as_jpegs_do(tmp_path):
    """A COCO file whose images are .dcm slices: the dataset checks their
    size from the DICOM header, and the training pipeline gives the same
    image and mask as the PNG copies of the same pixels."""
    pytest.importorskip('pydicom')
    from tests.medical_files import write_dicom_file
    root = tmp_path / 'train'
    images = [dict(id=i, file_name=f'img{i}.png', width=32, height=24)
              for i in range(2)]
    _write(root, GOOD, images=images)
    rng = np.random.default_rng(0)
    for img in images:
        px = rng.integers(0, 256, (24, 32)).astype(np.uint8)
        cv2.imwrite(str(root / img['file_name']), px)
        write_dicom_file(str(root / img['file_name'].replace('.png', '.dcm')),
                         px, WindowCenter=127.5, WindowWidth=255,
                         PixelSpacing=[0.5, 0.5])
    coco = json.load(open(root / '_annotations.coco.json'))
    pipeline = [dict(type='LoadMRIImageFromFile'),
                dict(type='LoadTumorAnnotations'),
                dict(type='Resize', scale=(16, 16), keep_ratio=False),
                dict(type='PackMultiTaskInputs')]
    pngs = DATASETS.build(dict(type='CocoTumorDataset', data_root=str(root),
                               pipeline=pipeline, empty_label=0))
    for img in coco['images']:
        img['file_name'] = img['file_name'].replace('.png', '.dcm')
    json.dump(coco, open(root / '_annotations.coco.json', 'w'))
    dcms = DATASETS.build(dict(type='CocoTumorDataset', data_root=str(root),
                               pipeline=pipeline, empty_label=0))
    assert len(dcms) == len(pngs) == 2
    for a, b in zip(pngs, dcms):
        assert b['data_samples'].img_path.endswith('.dcm')
        assert (a['inputs'] == b['inputs']).all()
        assert (a['data_samples'].gt_sem_seg.data ==
                b['data_samples'].gt_sem_seg.data).all()
    # a size that disagrees with the JSON is caught from the header
    coco['images'][0]['width'] = 40
    json.dump(coco, open(root / '_annotations.coco.json', 'w'))
    with pytest.raises(BadSampleError, match='img0.dcm is 32x24'):
        DATASETS.build(dict(type='CocoTumorDataset', data_root=str(root),
                            pipeline=[], empty_label=0))


def test_missing_data_root_says_how_to_get_the_data(tmp_path):
    from mmseg.registry import DATASETS
    root = str(tmp_path / 'data' / 'brain-tumor-coco')
    with pytest.raises(FileNotFoundError) as e:
        DATASETS.build(dict(
            type='CocoTumorDataset', data_root=root,
            ann_file='train/_annotations.coco.json',
            data_prefix=dict(img_path='train'), pipeline=[]))
    msg = str(e.value)
    assert f'{root}/train/_annotations.coco.json' in msg
    assert 'brain_tumor_coco.py' in msg and 'BRAIN_TUMOR_DATA_ROOT' in msg
