"""tools/dataset_converters/brain_tumor_coco.py: the download (zip or
folder) laid out as data/brain-tumor-coco, with clear errors."""
import json
import os
import os.path as osp
import shutil
import zipfile

import pytest

from mtnet_plugin.datasets.synthetic_mri import generate_dataset

from ..conftest import load_tool, run_tool


@pytest.fixture(scope='module')
def export(tmp_path_factory):
    """A small export in the Roboflow layout, nested one folder deep as
    Kaggle's archive is, with its README beside the splits."""
    root = tmp_path_factory.mktemp('download') / 'Brain Tumor'
    generate_dataset(str(root), dict(train=4, valid=2, test=2), size=32,
                     seed=1)
    (root / 'README.roboflow.txt').write_text('exported from roboflow')
    return root


def _zip(folder, out):
    with zipfile.ZipFile(out, 'w') as z:
        for base, _, files in os.walk(folder):
            for f in files:
                path = osp.join(base, f)
                z.write(path, osp.relpath(path, osp.dirname(folder)))
    return str(out)


def test_zip_and_folder_give_the_configs_layout(export, tmp_path, capsys):
    archive = _zip(str(export), tmp_path / 'archive.zip')
    for src, out in ((archive, tmp_path / 'a'), (str(export), tmp_path / 'b')):
        code, stdout, err = run_tool('dataset_converters/brain_tumor_coco.py',
                                     [src, '--out', str(out)], capsys)
        assert code == 0, err
        assert 'train/ 4 images' in stdout and 'valid/ 2 images' in stdout
        for split, n in (('train', 4), ('valid', 2), ('test', 2)):
            coco = json.load(open(out / split / '_annotations.coco.json'))
            assert len(coco['images']) == n
            for img in coco['images']:
                assert (out / split / img['file_name']).is_file()
        assert not list(out.glob('*.tmp*'))
    # the dataset reads what it wrote
    from mmseg.registry import DATASETS
    ds = DATASETS.build(dict(
        type='CocoTumorDataset', data_root=str(tmp_path / 'a'),
        ann_file='valid/_annotations.coco.json',
        data_prefix=dict(img_path='valid'), pipeline=[]))
    assert len(ds) == 2


def test_existing_output_needs_force(export, tmp_path, capsys):
    out = tmp_path / 'o'
    argv = [str(export), '--out', str(out)]
    assert run_tool('dataset_converters/brain_tumor_coco.py', argv,
                    capsys)[0] == 0
    code, _, err = run_tool('dataset_converters/brain_tumor_coco.py', argv,
                            capsys)
    assert code == 1 and '--force' in err and str(out / 'test') in err
    assert run_tool('dataset_converters/brain_tumor_coco.py',
                    argv + ['--force'], capsys)[0] == 0


@pytest.mark.parametrize('case', [
    'not_zip', 'no_export', 'missing_image', 'bad_json', 'no_valid', 'absent'
])
def test_a_wrong_download_names_the_file_and_writes_nothing(
        export, tmp_path, capsys, case):
    src = tmp_path / 'src'
    shutil.copytree(export, src)
    if case == 'not_zip':
        bad = tmp_path / 'data.zip'
        bad.write_bytes(b'PK not really a zip')
        arg, expect = str(bad), 'data.zip is not a zip archive'
    elif case == 'no_export':
        # a zip of images without any annotation file
        os.remove(src / 'valid' / '_annotations.coco.json')
        arg, expect = _zip(str(src / 'valid'), tmp_path / 'images.zip'), \
            'not the Roboflow COCO export'
    elif case == 'missing_image':
        name = json.load(open(src / 'valid' /
                              '_annotations.coco.json'))['images'][0][
                                  'file_name']
        os.remove(src / 'valid' / name)
        arg, expect = str(src), f'e.g. {name}'
    elif case == 'bad_json':
        (src / 'train' / '_annotations.coco.json').write_text('{broken')
        arg, expect = str(src), 'train/_annotations.coco.json is not readable'
    elif case == 'no_valid':
        shutil.rmtree(src / 'valid')
        arg, expect = str(src), 'no valid/_annotations.coco.json'
    else:
        arg, expect = str(tmp_path / 'nowhere.zip'), 'nowhere.zip not found'
    out = tmp_path / 'out'
    code, _, err = run_tool('dataset_converters/brain_tumor_coco.py',
                            [arg, '--out', str(out)], capsys)
    assert code == 1
    line = err.strip().splitlines()[-1]
    assert line.startswith('error: ') and expect in line, line
    assert not out.exists()
    assert load_tool('dataset_converters/brain_tumor_coco.py')  # importable
