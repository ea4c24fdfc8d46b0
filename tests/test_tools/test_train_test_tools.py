"""tools/train.py and tools/test.py end to end, on tiny synthetic data."""
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import time

import pytest
import torch

from mtnet_plugin.datasets.synthetic_mri import generate_dataset

from ..conftest import REPO

PY = sys.executable
CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-12e_synthetic-256x256.py')


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('tiny_synthetic')
    generate_dataset(
        str(root), dict(train=16, valid=4, test=4), size=64, seed=5)
    return str(root)


def _options(data_root, **extra):
    opts = {
        'train_dataloader.dataset.data_root': data_root,
        'val_dataloader.dataset.data_root': data_root,
        'test_dataloader.dataset.data_root': data_root,
        'train_dataloader.batch_size': 4,
        'train_dataloader.num_workers': 0,
        'train_dataloader.persistent_workers': False,
        'val_dataloader.num_workers': 0,
        'val_dataloader.persistent_workers': False,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
        'default_hooks.logger.interval': 1,
        'default_hooks.checkpoint.interval': 1,
        'default_hooks.checkpoint.max_keep_ckpts': -1,
        'param_scheduler': '[]',
    }
    opts.update(extra)
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def _env():
    env = dict(os.environ, PYTHONUNBUFFERED='1', OMP_NUM_THREADS='1')
    env['PYTHONPATH'] = REPO + os.pathsep + env.get('PYTHONPATH', '')
    return env


def test_train_then_test_with_overlays(tiny_data, tmp_path):
    work = tmp_path / 'work'
    subprocess.run(
        [PY, osp.join(REPO, 'tools', 'train.py'), CONFIG, '--work-dir',
         str(work)] + _options(
             tiny_data, **{'train_cfg.max_epochs': 2,
                           'train_cfg.val_interval': 1}),
        check=True, env=_env(), capture_output=True, text=True)
    best = sorted(work.glob('best_tumor_Dice_epoch_*.pth'))
    assert len(best) == 1
    out = subprocess.run(
        [PY, osp.join(REPO, 'tools', 'test.py'), CONFIG, str(best[0]),
         '--work-dir', str(tmp_path / 't'), '--show-dir',
         str(tmp_path / 'ov'), '--out', str(tmp_path / 'm.json')] +
        _options(tiny_data),
        check=True, env=_env(), capture_output=True, text=True).stdout
    metrics = json.load(open(tmp_path / 'm.json'))['metrics']
    for key in ('mIoU', 'mDice', 'tumor_IoU', 'tumor_Dice', 'accuracy/top1',
                'single-label/precision', 'single-label/recall',
                'single-label/f1-score', 'confusion/gt_0_pred_0'):
        assert key in metrics and f'  {key}' in out
    assert len(list((tmp_path / 'ov').glob('*.png'))) == 4
    # The values are those of the checkpoint's predictions: recompute them
    # here from predict() with plain numpy.
    inter = pred_area = gt_area = correct = 0
    cells = {}
    for sample in _predict_test_split(best[0], tiny_data):
        p = sample.pred_sem_seg.data.numpy() == 1
        g = sample.gt_sem_seg.data.numpy() == 1
        inter, pred_area, gt_area = (inter + (p & g).sum(),
                                     pred_area + p.sum(), gt_area + g.sum())
        gt, pr = int(sample.gt_label), int(sample.pred_label)
        correct += gt == pr
        cells[(gt, pr)] = cells.get((gt, pr), 0) + 1
    assert gt_area > 0
    dice = 200 * inter / (pred_area + gt_area) if pred_area + gt_area else 0
    assert metrics['tumor_Dice'] == pytest.approx(dice, abs=0.01)
    assert metrics['accuracy/top1'] == pytest.approx(100 * correct / 4)
    for gt in (0, 1):
        for pr in (0, 1):
            assert metrics[f'confusion/gt_{gt}_pred_{pr}'] == \
                cells.get((gt, pr), 0)
    assert 0 <= metrics['mIoU'] <= 100


def _predict_test_split(ckpt, data_root):
    from mmengine.config import Config
    from mmengine.dataset import pseudo_collate
    from mmengine.registry import init_default_scope
    from mmengine.runner import load_checkpoint
    from mmseg.registry import DATASETS, MODELS
    cfg = Config.fromfile(CONFIG)
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model).eval()
    load_checkpoint(model, str(ckpt), map_location='cpu')
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = data_root
    dataset = DATASETS.build(ds_cfg)
    out = []
    with torch.no_grad():
        for i in range(len(dataset)):
            out += model.test_step(pseudo_collate([dataset[i]]))
    return out


@pytest.mark.slow
def test_resume_after_sigkill(tiny_data, tmp_path):
    work = tmp_path / 'work'
    cmd = [PY, osp.join(REPO, 'tools', 'train.py'), CONFIG, '--work-dir',
           str(work)]
    proc = subprocess.Popen(
        cmd + _options(tiny_data, **{'train_cfg.max_epochs': 100,
                                     'train_cfg.val_interval': 100}),
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 300
        while not (work / 'last_checkpoint').exists():
            assert proc.poll() is None, 'training died before a checkpoint'
            assert time.time() < deadline, 'no checkpoint within 300 s'
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    saved = (work / 'last_checkpoint').read_text().strip()
    saved_epoch = torch.load(saved)['meta']['epoch']
    assert saved_epoch >= 1
    out = subprocess.run(
        cmd + ['--resume'] + _options(
            tiny_data, **{'train_cfg.max_epochs': saved_epoch + 1,
                          'train_cfg.val_interval': 100}),
        check=True, env=_env(), capture_output=True, text=True)
    log = out.stdout + out.stderr
    assert f'resumed epoch: {saved_epoch}, iter: {saved_epoch * 4}' in log
    assert f'Epoch(train) [{saved_epoch + 1}][' in log
    assert f'Epoch(train) [{saved_epoch}][' not in log  # not redone
    final = torch.load(str(work / f'epoch_{saved_epoch + 1}.pth'))
    assert final['meta']['iter'] == (saved_epoch + 1) * 4


@pytest.mark.slow
def test_two_process_cpu_training(tiny_data, tmp_path):
    work = tmp_path / 'work'
    # through the user-facing script, with its multi-node variables set
    # to a one-node run
    env = dict(_env(), PYTHON=PY, NNODES='1', NODE_RANK='0',
               MASTER_ADDR='127.0.0.1', PORT='29517')
    out = subprocess.run(
        ['bash', osp.join(REPO, 'tools', 'dist_train.sh'), CONFIG, '2',
         '--work-dir', str(work)] +
        _options(tiny_data, **{'train_cfg.max_epochs': 1,
                               'train_cfg.val_interval': 100,
                               'train_dataloader.batch_size': 2}),
        env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    # 16 images, 2 ranks x batch 2 -> 4 iterations per epoch
    assert '[rank 0] training finished at iteration 4' in out.stdout
    assert '[rank 1] training finished at iteration 4' in out.stdout
    # validation at the last epoch also ran distributed (gloo collect)
    ckpts = sorted(p.name for p in work.glob('*.pth'))
    assert ckpts == ['best_tumor_Dice_epoch_1.pth', 'epoch_1.pth']
    log = out.stdout + out.stderr
    assert log.count('Saving checkpoint at 1 epochs') == 1
    state = torch.load(str(work / 'epoch_1.pth'))['state_dict']
    assert not any(k.startswith('module.') for k in state)


@pytest.mark.parametrize('script,positional', [
    ('dist_train.sh', ['cfg.py', '4']),
    ('dist_test.sh', ['cfg.py', 'ckpt.pth', '4']),
])
def test_dist_scripts_pass_multi_node_settings_to_torchrun(script,
                                                           positional):
    """PYTHON=echo prints the torchrun command line instead of running."""
    env = dict(os.environ, PYTHON='echo', NNODES='2', NODE_RANK='1',
               MASTER_ADDR='10.1.2.3', PORT='29999')
    out = subprocess.run(
        ['bash', osp.join(REPO, 'tools', script)] + positional + ['--x'],
        env=env, capture_output=True, text=True, check=True).stdout.split()
    assert out[:2] == ['-m', 'torch.distributed.run']
    for flag in ('--nnodes=2', '--node_rank=1', '--master_addr=10.1.2.3',
                 '--nproc_per_node=4', '--master_port=29999'):
        assert flag in out
    tool_name = script.replace('dist_', '').replace('.sh', '.py')
    tool = next(i for i, a in enumerate(out) if a.endswith(tool_name))
    assert out[tool + 1:] == positional[:-1] + ['--launcher', 'pytorch',
                                                '--x']
    # defaults: one node, local master
    env = dict(os.environ, PYTHON='echo')
    for k in ('NNODES', 'NODE_RANK', 'MASTER_ADDR', 'PORT'):
        env.pop(k, None)
    out = subprocess.run(
        ['bash', osp.join(REPO, 'tools', script)] + positional, env=env,
        capture_output=True, text=True, check=True).stdout.split()
    for flag in ('--nnodes=1', '--node_rank=0', '--master_addr=127.0.0.1',
                 '--master_port=29500'):
        assert flag in out


def _wide_checkpoint(path):
    """A checkpoint of the same family with wider last stage: the
    mismatch a user meets pairing a wide checkpoint with the standard
    config."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    init_default_scope('mmseg')
    cfg = Config.fromfile(CONFIG).model
    cfg.backbone.stage_channels = (64, 96, 160)
    cfg.neck.in_channels = [64, 64, 96, 160]
    cfg.cls_head.in_channels = 160
    torch.save(dict(state_dict=MODELS.build(cfg).state_dict(), meta={}),
               path)
    return str(path)


def test_test_tool_refuses_a_checkpoint_of_another_model(
        tiny_data, tmp_path, capsys):
    from mtnet_plugin.utils import exit_on_mismatch

    from ..conftest import load_tool
    wide = _wide_checkpoint(tmp_path / 'wide.pth')
    tool = load_tool('test.py')
    argv = [CONFIG, wide, '--work-dir', str(tmp_path / 'w')] + \
        _options(tiny_data)
    with pytest.raises(SystemExit) as e:
        exit_on_mismatch(tool.main, argv)
    msg = str(e.value.code)
    assert msg.startswith('error: ') and '\n' not in msg
    assert 'wide.pth' in msg and CONFIG in msg and 'size mismatches' in msg
    assert 'Test metrics' not in capsys.readouterr().out  # nothing ran
    # --allow-partial: mmengine's lenient load, said in the log
    metrics = tool.main(argv + ['--allow-partial'])
    assert 'tumor_Dice' in metrics
    out = capsys.readouterr()
    assert '--allow-partial' in out.out + out.err
