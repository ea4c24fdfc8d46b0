import json
import os.path as osp
import subprocess
import sys

import cv2
import numpy as np
import pytest
import torch

from mtnet_plugin.apis import TumorInferencer
from mtnet_plugin.datasets.synthetic_mri import generate_dataset

from ..conftest import REPO

CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet_demo_synthetic.py')


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
    assert res['mask'].shape == (h, w) and res['mask'].dtype == np.uint8
    assert res['tumor_area_px'] == int(res['mask'].sum())
    assert res['tumor_area_pct'] == pytest.approx(
        100 * res['tumor_area_px'] / (h * w))
    assert sum(res['class_probs']) == pytest.approx(1.0, abs=1e-5)
    assert res['class_index'] == int(np.argmax(res['class_probs']))
    assert res['class_name'] == ('0', '1')[res['class_index']]
    if res['tumor_area_px']:
        x0, y0, x1, y1 = res['bbox']
        ys, xs = np.nonzero(res['mask'])
        assert (x0, y0, x1, y1) == (xs.min(), ys.min(), xs.max(), ys.max())
    else:
        assert res['bbox'] is None


def test_file_array_list_and_folder(images, checkpoint):
    inf = TumorInferencer(CONFIG, checkpoint)
    files = TumorInferencer.list_images(images)
    (one, ) = inf(files[0])
    _check(one, 96, 96)
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
