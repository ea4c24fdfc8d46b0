"""Labelled volumes end to end: a short training run on synthetic MSD
volumes, tools/test.py's volume metrics, and tools/infer.py's NIfTI masks
agreeing with them."""
import json
import os
import os.path as osp
import subprocess
import sys

import numpy as np
import pytest

from mtnet_plugin.datasets.synthetic_msd import generate_msd_task

from ..conftest import REPO, run_tool

nib = pytest.importorskip('nibabel')
CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-10e_synthetic-msd-128x128.py')
MSD_CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet',
                      'efficient_mtnet_1xb8-90e_msd-brain-320x320.py')


def _options(root, cache):
    opts = {}
    for split in ('train', 'val', 'test'):
        opts[f'{split}_dataloader.dataset.data_root'] = root
        opts[f'{split}_dataloader.dataset.cache_dir'] = cache
        opts[f'{split}_dataloader.num_workers'] = 0
        opts[f'{split}_dataloader.persistent_workers'] = False
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """(task folder, cache, checkpoint) of the synthetic recipe's 10
    epochs."""
    base = tmp_path_factory.mktemp('msd_e2e')
    root = generate_msd_task(str(base / 'Task'), num_train=20, num_test=2,
                             seed=0)
    cache, work = str(base / 'cache'), str(base / 'work')
    env = dict(os.environ, PYTHONUNBUFFERED='1')
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    run = subprocess.run(
        [sys.executable, osp.join(REPO, 'tools', 'train.py'), CONFIG,
         '--work-dir', work] + _options(root, cache),
        env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return root, cache, osp.join(work, 'epoch_10.pth')


@pytest.mark.slow
def test_short_training_gives_volume_dice_well_above_chance_and_infer_agrees(
        trained, tmp_path, capsys):
    root, cache, ckpt = trained
    out_json = tmp_path / 'metrics.json'
    code, stdout, err = run_tool('test.py', [
        CONFIG, ckpt, '--work-dir', str(tmp_path / 't'), '--out',
        str(out_json)
    ] + _options(root, cache), capsys)
    assert code == 0, err[-3000:]
    result = json.load(open(out_json))
    metrics, cases = result['metrics'], result['cases']
    for key in ('volume_dice', 'volume_error_ml', 'volume_abs_error_ml',
                'tumor_Dice', 'accuracy/top1'):
        assert f'  {key}' in stdout
    # chance: a lesion fills ~2 % of a volume
    assert metrics['volume_dice'] > 0.7, metrics
    assert [c['case_id'] for c in cases] == ['BRATS_021', 'BRATS_022']
    # the same volumes through tools/infer.py: its NIfTI masks' 3D Dice
    out = tmp_path / 'infer'
    code, _, err = run_tool('infer.py', [
        osp.join(root, 'imagesTs'), '--config', CONFIG, '--checkpoint', ckpt,
        '--out-dir', str(out), '--backend', 'pytorch', '--no-overlays'
    ], capsys)
    assert code == 0, err[-3000:]
    for case in cases:
        mask = np.asarray(
            nib.load(str(out / f'{case["case_id"]}_mask.nii.gz')).dataobj)
        label = np.asarray(
            nib.load(osp.join(root, 'labelsTs',
                              case['case_id'] + '.nii.gz')).dataobj) > 0
        dice = 2 * (mask.astype(bool) & label).sum() / (mask.sum() +
                                                         label.sum())
        assert abs(dice - case['dice']) < 0.02, (case, dice)
        record = next(v for v in json.load(open(out / 'results.json'))
                      ['volumes'] if case['case_id'] in v['path'])
        assert record['tumor_volume_ml'] == pytest.approx(
            case['pred_ml'], rel=0.05, abs=0.05)
    # the per-case table as CSV
    csv_out = tmp_path / 'cases.csv'
    code, _, _ = run_tool('test.py', [CONFIG, ckpt, '--work-dir',
                                      str(tmp_path / 't2'), '--out',
                                      str(csv_out)] + _options(root, cache),
                          capsys)
    assert code == 0
    lines = open(csv_out).read().splitlines()
    assert lines[0] == 'case_id,slices,dice,gt_ml,pred_ml,error_ml'
    assert len(lines) == 3


def test_shipped_2d_weights_test_on_a_one_modality_task(shipped, tmp_path,
                                                        capsys):
    """The README's weights load into the MSD config (no mismatch error)
    and test on a one-modality task, printing the volume metrics."""
    root = generate_msd_task(str(tmp_path / 'One'), num_train=3, num_test=1,
                             shape=(48, 48, 6), modalities=('T2', ))
    code, stdout, err = run_tool('test.py', [
        MSD_CONFIG, shipped[1], '--work-dir', str(tmp_path / 'w'),
        '--out', str(tmp_path / 'm.json')
    ] + _options(root, str(tmp_path / 'cache')), capsys)
    assert code == 0, err[-3000:]
    metrics = json.load(open(tmp_path / 'm.json'))['metrics']
    assert 0.0 <= metrics['volume_dice'] <= 1.0
    assert metrics['volume_cases'] == 1
    assert 'volume_dice' in stdout
