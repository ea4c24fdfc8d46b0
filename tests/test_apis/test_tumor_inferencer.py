import json
import os
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from mtnet_plugin.apis import TumorInferencer
from mtnet_plugin.datasets.synthetic_mri import generate_dataset

from ..conftest import REPO, load_tool, run_tool

CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-12e_synthetic-256x256.py')


@pytest.fixture(scope='module')
def images(tmp_path_factory):
    root = tmp_path_factory.mktemp('infer')
    generate_dataset(str(root), dict(test=3), size=96, seed=2)
    return str(root / 'test')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    path = str(tmp_path_factory.mktemp('ckpt') / 'model.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict()), path)
    return path


def _check(res, h, w):
    """Structure only; the values are checked on a real image below."""
    assert res['mask'].shape == (h, w) and res['mask'].dtype == np.uint8
    assert set(np.unique(res['mask'])) <= {0, 1}
    assert sum(res['class_probs']) == pytest.approx(1.0, abs=1e-5)
    assert res['class_name'] in ('0', '1')


def _real_tumor_image():
    """A valid/ image with a large tumor box, and that box."""
    import json
    from ..conftest import REAL_DATA
    ann_file = osp.join(REAL_DATA, 'valid', '_annotations.coco.json')
    if not osp.isfile(ann_file):
        pytest.skip('real data absent')
    coco = json.load(open(ann_file, encoding='utf-8-sig'))
    images = {i['id']: i for i in coco['images']}
    ann = max(coco['annotations'], key=lambda a: a['bbox'][2] * a['bbox'][3])
    img = images[ann['image_id']]
    cats = {c['id']: c['name'] for c in coco['categories']}
    return (osp.join(REAL_DATA, 'valid', img['file_name']), ann['bbox'],
            cats[ann['category_id']])


def test_values_on_a_real_tumor_with_the_shipped_weights(shipped):
    """Area, percentage, bbox and class describe the lesion that is
    there: compared with the annotation, not with the implementation."""
    config, ckpt = shipped
    path, (bx, by, bw, bh), category = _real_tumor_image()
    (res, ) = TumorInferencer(config, ckpt, backend='pytorch')(path)
    h, w = res['mask'].shape
    assert (h, w) == cv2.imread(path).shape[:2]
    gt_area = bw * bh
    assert 0.6 * gt_area < res['tumor_area_px'] < 1.5 * gt_area
    assert res['tumor_area_pct'] == pytest.approx(
        100 * res['tumor_area_px'] / (h * w))
    assert 0.6 * 100 * gt_area / (h * w) < res['tumor_area_pct']
    # the mask is on the lesion: Dice > 0.5 against the labelled box
    label = np.zeros((h, w), bool)
    label[int(by):int(np.ceil(by + bh)), int(bx):int(np.ceil(bx + bw))] = True
    mask = res['mask'].astype(bool)
    assert 2 * (mask & label).sum() / (mask.sum() + label.sum()) > 0.5
    # and the box is the mask's extent, in (x, y) image coordinates
    ys, xs = np.nonzero(mask)
    assert res['bbox'] == [xs.min(), ys.min(), xs.max(), ys.max()]
    assert res['class_name'] == category
    assert max(res['class_probs']) > 0.9


def test_file_array_list_and_folder(images, checkpoint):
    inf = TumorInferencer(CONFIG, checkpoint, backend='pytorch')
    files = TumorInferencer.list_images(images)
    (one, ) = inf(files[0])
    _check(one, 96, 96)
    assert one['tumor_area_px'] == int(one['mask'].sum())
    assert one['path'] == files[0]
    arr = cv2.imread(files[0])
    (from_array, ) = inf(arr)
    assert from_array['path'] is None
    assert np.array_equal(from_array['mask'], one['mask'])
    assert from_array['class_probs'] == pytest.approx(one['class_probs'])
    grey = cv2.resize(arr[..., 0], (120, 80))  # other size, 2-D
    (g, ) = inf(grey)
    _check(g, 80, 120)
    folder = inf(images, batch_size=2)
    assert [r['path'] for r in folder] == files
    a, b = inf(files[1]), inf(files[1])
    assert np.array_equal(a[0]['mask'], b[0]['mask'])
    assert a[0]['class_probs'] == b[0]['class_probs']


def test_infer_cli_skips_unreadable_files(images, checkpoint, tmp_path):
    import shutil
    folder = tmp_path / 'in'
    shutil.copytree(images, folder)
    (folder / 'broken.jpg').write_bytes(b'not an image')
    out = tmp_path / 'out'
    proc = subprocess.run([
        sys.executable, osp.join(REPO, 'tools', 'infer.py'), str(folder),
        '--config', CONFIG, '--checkpoint', checkpoint, '--out-dir', str(out)
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'skipped' in proc.stderr and 'broken.jpg' in proc.stderr
    results = json.load(open(out / 'results.json'))
    assert len(results['results']) == 3
    assert [osp.basename(s['path']) for s in results['skipped']] == \
        ['broken.jpg']
    for r in results['results']:
        assert (out / r['overlay']).is_file()
        assert set(r) >= {'class_index', 'class_name', 'class_probs',
                          'tumor_area_px', 'tumor_area_pct', 'bbox'}


def _valid_images(n):
    from ..conftest import REAL_DATA
    folder = osp.join(REAL_DATA, 'valid')
    if not osp.isdir(folder):
        pytest.skip('real data absent')
    return TumorInferencer.list_images(folder)[:n]


def _predict(inferencer, paths):
    """model.predict() (the path of tools/test.py) on the same batch."""
    with torch.no_grad():
        return inferencer.model.test_step(inferencer.collate(paths))


@pytest.mark.parametrize('backend', [
    'pytorch', 'onnxruntime',
    pytest.param('compile', marks=pytest.mark.slow)
])
def test_every_backend_agrees_with_predict_on_real_images(
        shipped, backend, tmp_path):
    """Same class, >= 99.9 % identical mask pixels, for 12 valid images
    with the shipped weights, batched by 4."""
    if backend == 'onnxruntime':
        pytest.importorskip('onnxruntime')
    config, ckpt = shipped
    local = tmp_path / osp.basename(ckpt)  # the ONNX cache goes beside it
    import shutil
    shutil.copy(ckpt, local)
    paths = _valid_images(12)
    inf = TumorInferencer(config, str(local), backend=backend)
    assert inf.backend.name == backend
    results = inf(paths, batch_size=4)
    same = total = 0
    for path, res, ref in zip(paths, results, _predict(inf, paths)):
        assert res['path'] == path
        assert res['class_index'] == int(ref.pred_label)
        ref_mask = ref.pred_sem_seg.data[0].numpy().astype(np.uint8)
        assert res['mask'].shape == ref_mask.shape
        same += int((res['mask'] == ref_mask).sum())
        total += ref_mask.size
    assert same / total >= 0.999
    tumors = sum(r['tumor_area_px'] > 0 for r in results)
    assert 0 < tumors < len(results) + 1  # not all-empty masks


def test_batched_equals_one_by_one_and_errors_are_skipped(
        images, checkpoint, tmp_path):
    import shutil
    folder = tmp_path / 'in'
    shutil.copytree(images, folder)
    (folder / 'b_broken.png').write_bytes(b'not an image')
    inf = TumorInferencer(CONFIG, checkpoint, backend='pytorch',
                          num_workers=2)
    files = TumorInferencer.list_images(str(folder))
    out = list(inf.iter_results(files, batch_size=2, skip_errors=True,
                                keep_image=True))
    assert [r['path'] for r in out] == files  # order kept, error in place
    bad = [r for r in out if 'error' in r]
    assert len(bad) == 1 and 'b_broken.png' in bad[0]['error']
    good = [r for r in out if 'error' not in r]
    for r in good:
        (single, ) = inf(r['path'])
        assert np.array_equal(single['mask'], r['mask'])
        assert single['class_probs'] == pytest.approx(r['class_probs'],
                                                      abs=1e-5)
        assert r['image'].shape == (96, 96, 3) and r['image'].dtype == \
            np.uint8
    with pytest.raises(IOError, match='b_broken.png'):
        inf(files)  # without skip_errors the file at fault is named


def test_infer_cli_onnxruntime_batched(images, checkpoint, tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    out = tmp_path / 'out'
    ckpt = tmp_path / 'model.pth'
    import shutil
    shutil.copy(checkpoint, ckpt)
    code, _, err = run_tool('infer.py', [
        images, '--config', CONFIG, '--checkpoint', str(ckpt), '--out-dir',
        str(out), '--batch-size', '2', '--jsonl'
    ], capsys)
    assert code == 0, err[-2000:]
    assert 'backend onnxruntime' in err  # the CPU default
    assert list(tmp_path.glob('model.*.onnx'))  # cached beside the weights
    lines = [json.loads(x) for x in open(out / 'results.jsonl')]
    ref = TumorInferencer(CONFIG, checkpoint, backend='pytorch')(images)
    assert [r['path'] for r in lines] == [r['path'] for r in ref]
    for got, want in zip(lines, ref):
        assert got['class_index'] == want['class_index']
        assert abs(got['tumor_area_px'] - want['tumor_area_px']) <= \
            0.001 * want['mask'].size
        assert (out / got['overlay']).is_file()


def test_infer_cli_int8(images, shipped, tmp_path, capsys):
    """--backend onnxruntime-int8 calibrates on --calib-images, caches the
    file beside the weights, and --onnx with that file runs it under
    auto; masks and classes stay close to fp32's. (The shipped weights:
    the int8 load check compares masks, which random weights leave
    near-tied.)"""
    pytest.importorskip('onnxruntime')
    import shutil
    config, shipped_ckpt = shipped
    ckpt = tmp_path / 'model.pth'
    shutil.copy(shipped_ckpt, ckpt)

    def infer(out, *extra):
        code, _, err = run_tool('infer.py', [
            images, '--config', config, '--checkpoint', str(ckpt),
            '--out-dir', str(tmp_path / out), '--no-overlays', *extra
        ], capsys)
        assert code == 0, err[-2000:]
        return err, json.load(open(tmp_path / out /
                                   'results.json'))['results']

    err, q = infer('q', '--backend', 'onnxruntime-int8', '--calib-images',
                   images, '--num-calib', '2')
    assert 'backend onnxruntime-int8' in err
    assert 'peak RSS' in err.splitlines()[-1]
    files = list(tmp_path.glob('model.*.int8-*.onnx'))
    assert len(files) == 1
    err, again = infer('a', '--onnx', str(files[0]))
    assert 'backend onnxruntime-int8' in err  # auto: the file is int8
    assert [r['class_index'] for r in again] == [r['class_index'] for r in q]
    ref = TumorInferencer(config, str(ckpt), backend='pytorch')(images)
    for got, want in zip(q, ref):
        assert got['class_index'] == want['class_index']
        assert abs(got['class_probs'][0] - want['class_probs'][0]) < 0.1
    # calibration options belong to the int8 backend
    with pytest.raises(SystemExit):
        load_tool('infer.py').parse_args([
            images, '--config', config, '--checkpoint', str(ckpt),
            '--out-dir', 'o', '--backend', 'onnxruntime', '--num-calib', '4'
        ])


@pytest.mark.parametrize('extra,message', [
    (['--backend', 'tensorrt'], 'invalid choice'),
    (['--onnx', 'missing.onnx'], 'missing.onnx'),
    (['--backend', 'pytorch', '--onnx', CONFIG], 'the onnxruntime backends'),
])
def test_infer_cli_bad_backend_options(images, checkpoint, tmp_path, extra,
                                       message, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)  # 'missing.onnx' is relative
    code, _, err = run_tool('infer.py', [
        images, '--config', CONFIG, '--checkpoint', checkpoint, '--out-dir',
        str(tmp_path / 'o')
    ] + extra, capsys)
    assert code != 0
    assert message in err.splitlines()[-1]
    assert not (tmp_path / 'o').exists()  # refused before any work


def test_infer_cli_exit_status_tells_when_nothing_was_read(
        images, checkpoint, tmp_path, capsys):
    bad = tmp_path / 'in'
    bad.mkdir()
    (bad / 'garbage.nii.gz').write_bytes(b'not a nifti' * 10)
    cli = load_tool('infer.py').cli
    args = ['--config', CONFIG, '--checkpoint', checkpoint, '--backend',
            'pytorch', '--no-overlays']
    # the only input unreadable: status 1, the results file lists it
    assert cli([str(bad / 'garbage.nii.gz'), '--out-dir',
                str(tmp_path / 'a')] + args) == 1
    err = capsys.readouterr().err
    assert 'error: 1 of 1 inputs could not be read' in err
    skipped = json.load(open(tmp_path / 'a' / 'results.json'))['skipped']
    assert [osp.basename(s['path']) for s in skipped] == ['garbage.nii.gz']
    # one good input among bad ones: status 0, or 1 with --strict
    import shutil
    shutil.copy(osp.join(images, sorted(os.listdir(images))[0]),
                bad / 'good.png')
    assert cli([str(bad), '--out-dir', str(tmp_path / 'b')] + args) == 0
    assert cli([str(bad), '--out-dir', str(tmp_path / 'c'), '--strict'] +
               args) == 1
    assert 'error: 1 of 2 inputs' in capsys.readouterr().err


def test_infer_cli_refuses_a_checkpoint_of_another_model(
        images, tmp_path, capsys):
    from mmengine.config import Config
    from mmseg.registry import MODELS
    cfg = Config.fromfile(CONFIG).model
    cfg.backbone.stage_channels = (64, 96, 160)
    cfg.neck.in_channels = [64, 64, 96, 160]
    cfg.cls_head.in_channels = 160
    wide = str(tmp_path / 'wide.pth')
    torch.save(dict(state_dict=MODELS.build(cfg).state_dict()), wide)
    code = load_tool('infer.py').cli([
        images, '--config', CONFIG, '--checkpoint', wide, '--out-dir',
        str(tmp_path / 'o'), '--backend', 'pytorch'
    ])
    err = capsys.readouterr().err
    assert code == 1
    assert 'Traceback' not in err
    line = [x for x in err.splitlines() if x.startswith('error:')]
    assert len(line) == 1 and 'wide.pth' in line[0] and \
        'size mismatches' in line[0] and CONFIG in line[0]


def test_infer_cli_save_masks_writes_0_255_pngs_of_the_image_size(
        images, checkpoint, tmp_path, capsys):
    out = tmp_path / 'out'
    code, _, err = run_tool('infer.py', [
        images, '--config', CONFIG, '--checkpoint', checkpoint, '--out-dir',
        str(out), '--backend', 'pytorch', '--save-masks', '--no-overlays'
    ], capsys)
    assert code == 0, err[-2000:]
    ref = TumorInferencer(CONFIG, checkpoint, backend='pytorch')(images)
    records = json.load(open(out / 'results.json'))['results']
    assert len(records) == len(ref) == 3
    for rec, want in zip(records, ref):
        png = cv2.imread(str(out / rec['mask_png']), cv2.IMREAD_UNCHANGED)
        assert rec['mask_png'] == osp.splitext(
            osp.basename(rec['path']))[0] + '_mask.png'
        assert png.dtype == np.uint8 and png.shape == want['mask'].shape
        assert set(np.unique(png)) <= {0, 255}
        np.testing.assert_array_equal(png == 255, want['mask'] == 1)
