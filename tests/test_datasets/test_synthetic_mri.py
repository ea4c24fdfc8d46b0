import json

import numpy as np
from PIL import Image

from mtnet_plugin.datasets.synthetic_mri import generate_dataset, render_slice

from ..conftest import run_tool


def test_deterministic_for_a_seed(tmp_path):
    a = generate_dataset(str(tmp_path / 'a'), dict(train=6), size=64, seed=7)
    b = generate_dataset(str(tmp_path / 'b'), dict(train=6), size=64, seed=7)
    c = generate_dataset(str(tmp_path / 'c'), dict(train=6), size=64, seed=8)
    assert a == b and a != c
    for name in ('00000_synthetic.jpg', '00005_synthetic.jpg'):
        assert (tmp_path / 'a/train' / name).read_bytes() == \
            (tmp_path / 'b/train' / name).read_bytes()


def test_layout_sizes_counts_and_categories(tmp_path):
    out = generate_dataset(
        str(tmp_path), dict(train=20, valid=4, test=6), size=96, seed=0,
        tumor_free_ratio=0.25)
    for split, n in (('train', 20), ('valid', 4), ('test', 6)):
        coco = json.load(open(tmp_path / split / '_annotations.coco.json'))
        assert coco == out[split]
        assert len(coco['images']) == n
        for img in coco['images']:
            with Image.open(tmp_path / split / img['file_name']) as im:
                assert im.size == (96, 96)
    train = out['train']
    # Roboflow-like categories: the unused super-category and "0", "1"
    assert [c['name'] for c in train['categories']] == ['Tumor', '0', '1']
    assert len(train['annotations']) == 15  # 5 of 20 tumor-free
    assert {a['category_id'] for a in train['annotations']} == {1, 2}


def test_two_lesion_kinds_look_different():
    rng = np.random.default_rng(0)
    core = {0: [], 1: []}
    for kind in (0, 1) * 10:
        img, poly = render_slice(rng, 128, kind)
        cx, cy = poly.mean(0).round().astype(int)
        core[kind].append(img[cy - 1:cy + 2, cx - 1:cx + 2].mean())
    # ring-enhancing lesions have a dark core, the others a bright one
    assert np.median(core[0]) < 90 < 150 < np.median(core[1])


def test_cli_writes_hundreds_quickly(tmp_path, capsys):
    code, out, err = run_tool('dataset_converters/make_synthetic_mri.py', [
        str(tmp_path), '--train', '200', '--valid', '50', '--test', '50',
        '--seed', '1'
    ], capsys)
    assert code == 0, err[-2000:]
    assert 'wrote 300 images' in out
    assert len(list((tmp_path / 'train').glob('*.jpg'))) == 200
