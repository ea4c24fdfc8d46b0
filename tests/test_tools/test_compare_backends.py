"""compare_backends.py: per-backend accuracy on a labelled split, the
per-image agreement table, and the int8 validation record auto reads."""
import csv
import json
import os.path as osp
import shutil

import pytest
from mtnet_plugin.apis import default_backend
from mtnet_plugin.apis.onnx_export import file_sha256
from mtnet_plugin.apis.onnx_quantize import int8_kernels, int8_record_path

from ..conftest import load_tool, shipped_checkpoint

compare_backends = load_tool('analysis_tools/compare_backends.py')

# the shipped weights (int8's load check compares masks: random weights
# give near-tied logits), on the synthetic split
CONFIG, SHIPPED = shipped_checkpoint() or (None, None)


def test_dice_iou_accuracy_against_hand_counts():
    import numpy as np
    gt = [np.zeros((4, 4), bool), np.zeros((4, 4), bool)]
    gt[0][:2, :2] = True  # 4 px
    pred = [np.zeros((4, 4), bool), np.zeros((4, 4), bool)]
    pred[0][:2, :1] = True  # 2 px inside
    pred[1][3, 3] = True  # 1 px false positive
    s = compare_backends.scores(pred, np.array([1, 0]), gt,
                                np.array([1, 1]))
    # I = 2, P = 3, G = 4: Dice 4/7, IoU 2/5
    assert s['tumor_Dice'] == round(100 * 4 / 7, 2)
    assert s['tumor_IoU'] == 40.0
    assert s['accuracy'] == 50.0 and s['wrong'] == 1
    assert s['confusion'] == [[0, 0], [1, 1]]
    assert compare_backends.mask_dice(gt[1], gt[1]) == 1.0  # both empty


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    pytest.importorskip('onnxruntime')
    if SHIPPED is None:
        pytest.skip('no shipped checkpoint')
    path = str(tmp_path_factory.mktemp('cmp') / 'w.pth')
    shutil.copy(SHIPPED, path)
    return path


def _run(checkpoint, synthetic_root, tmp_path, *extra):
    return compare_backends.main([
        CONFIG, checkpoint, '--cfg-options',
        f'val_dataloader.dataset.data_root={synthetic_root}',
        'val_dataloader.dataset.ann_file=valid/_annotations.coco.json',
        'val_dataloader.dataset.data_prefix.img_path=valid',
        f'train_dataloader.dataset.data_root={synthetic_root}',
        '--csv', str(tmp_path / 'agree.csv'), '--json',
        str(tmp_path / 'r.json'), *extra
    ])


def test_identical_backends_agree_everywhere(checkpoint, synthetic_root,
                                             tmp_path):
    report = _run(checkpoint, synthetic_root, tmp_path, '--backend',
                  'pytorch', 'onnxruntime')
    a, b = (report['backends'][k] for k in ('pytorch', 'onnxruntime'))
    assert report['images'] == 8
    assert b['same_class'] == 8
    assert b['mask_dice_min'] >= 0.99
    assert abs(a['tumor_Dice'] - b['tumor_Dice']) <= 0.05
    assert b['meets_rule']
    rows = list(csv.DictReader(open(tmp_path / 'agree.csv')))
    assert len(rows) == 8 and {r['backend'] for r in rows} == {'onnxruntime'}
    assert json.load(open(tmp_path / 'r.json'))['images'] == 8


def test_int8_record_is_what_auto_reads(checkpoint, synthetic_root,
                                        tmp_path):
    ckpt = str(tmp_path / 'w.pth')
    shutil.copy(checkpoint, ckpt)
    report = _run(ckpt, synthetic_root, tmp_path, '--backend',
                  'onnxruntime', 'onnxruntime-int8', '--record')
    # one record per class of int8 kernels, named after this CPU's
    assert not osp.exists(int8_record_path(ckpt))
    record = json.load(open(int8_record_path(ckpt, int8_kernels())))
    assert record['checkpoint_sha256'] == file_sha256(ckpt)
    assert record['meets_rule'] == \
        report['backends']['onnxruntime-int8']['meets_rule']
    assert record['settings']['num_calib'] == 64
    assert record['int8_kernels'] == int8_kernels() and record['cpu']
    assert record['int8']['tumor_Dice'] == \
        report['backends']['onnxruntime-int8']['tumor_Dice']
    # auto reads it with the config that calibrates on the same images
    from mmengine.config import Config
    cfg = Config.fromfile(CONFIG)
    cfg.train_dataloader.dataset.data_root = synthetic_root
    cfg.train_dataloader.dataset.data_prefix.img_path = 'train'
    expected = 'onnxruntime-int8' if record['meets_rule'] else 'onnxruntime'
    assert default_backend('cpu', ckpt, cfg) == expected
    with pytest.raises(SystemExit):
        compare_backends.parse_args([CONFIG, ckpt, '--backend', 'pytorch',
                                     'onnxruntime', '--record'])


def test_box_iou_between_backends():
    import numpy as np

    from ..conftest import load_tool
    tool = load_tool('analysis_tools/compare_backends.py')
    a = np.zeros((10, 10), bool)
    a[2:6, 2:6] = True  # box (2, 2, 5, 5): 16 px
    b = np.zeros((10, 10), bool)
    b[4:8, 4:8] = True  # overlaps a on (4, 4, 5, 5): 4 px
    assert tool.mask_box(a) == (2, 2, 5, 5)
    assert tool.box_iou(tool.mask_box(a), tool.mask_box(b)) == \
        pytest.approx(4 / 28)
    assert tool.box_iou(tool.mask_box(a), tool.mask_box(a)) == 1.0
    empty = np.zeros((10, 10), bool)
    assert tool.box_iou(tool.mask_box(empty), tool.mask_box(empty)) == 1.0
    assert tool.box_iou(tool.mask_box(a), tool.mask_box(empty)) == 0.0


def test_segmentation_only_peer_is_compared_on_its_masks(synthetic_root,
                                                         tmp_path):
    """An mmseg peer (no class head): Dice and the mask agreement between
    backends are reported, the class fields are None, and the rule is
    judged on the Dice alone."""
    pytest.importorskip('onnxruntime')
    from ..conftest import REPO
    peer = osp.join(REPO, 'configs', 'ddrnet',
                    'ddrnet_23-slim_1xb8-45e_brain-tumor-320x320.py')
    weights = osp.join(REPO, 'checkpoints',
                       'ddrnet_23-slim_320_brain_tumor-112b47a8.pth')
    if not osp.isfile(weights):
        pytest.skip('no DDRNet-23-slim checkpoint')
    path = str(tmp_path / 'peer.pth')
    shutil.copy(weights, path)
    report = compare_backends.main([
        peer, path, '--backend', 'pytorch', 'onnxruntime', '--cfg-options',
        f'val_dataloader.dataset.data_root={synthetic_root}',
        'val_dataloader.dataset.ann_file=valid/_annotations.coco.json',
        'val_dataloader.dataset.data_prefix.img_path=valid',
        '--json', str(tmp_path / 'r.json')
    ])
    ort = report['backends']['onnxruntime']
    torch_run = report['backends']['pytorch']
    assert torch_run['accuracy'] is None and torch_run['confusion'] is None
    assert ort['same_class'] is None and ort['max_abs_prob_diff'] is None
    assert ort['mask_dice_median'] > 0.99
    assert abs(ort['tumor_Dice'] - torch_run['tumor_Dice']) < 0.5
    assert ort['meets_rule'] is True
