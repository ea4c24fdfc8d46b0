"""Plateau LR and early stopping (the 640 schedule's) across a kill and
--resume."""
import os
import signal
import subprocess
import sys
import time

import torch

# A toy Runner whose validation score never improves; argv: work_dir
# max_epochs resume early_stopping_type
_TRAIN = '''
import sys, time
import torch, torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.model import BaseModel
from mmengine.runner import Runner
import mtnet_plugin  # noqa: F401

class Tiny(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(inputs)
        if mode == 'loss':
            time.sleep(0.25)  # epochs long enough to be killed in
            return dict(loss=((out - labels) ** 2).mean())
        return [dict(pred=o) for o in out]

class Data(torch.utils.data.Dataset):
    def __len__(self):
        return 4
    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)), labels=torch.ones(1))

class Flat(BaseMetric):  # the monitored score stalls from the start
    def process(self, data_batch, data_samples):
        self.results.append(0)
    def compute_metrics(self, results):
        return dict(tumor_Dice=50.0)

loader = dict(dataset=Data(), batch_size=2,
              sampler=dict(type='DefaultSampler', shuffle=False),
              collate_fn=dict(type='default_collate'))
work, epochs, resume, hook = sys.argv[1], int(sys.argv[2]), \\
    sys.argv[3] == '1', sys.argv[4]
runner = Runner(
    model=Tiny(), work_dir=work, train_dataloader=loader,
    val_dataloader=loader, val_evaluator=[Flat()], val_cfg=dict(),
    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.08)),
    # the 640 schedule's plateau LR and early stopping, shorter patience
    param_scheduler=[dict(type='ReduceOnPlateauLR', monitor='tumor_Dice',
                          rule='greater', factor=0.5, patience=1,
                          by_epoch=True)],
    custom_hooks=[dict(type=hook, monitor='tumor_Dice', rule='greater',
                       patience=4)],
    train_cfg=dict(by_epoch=True, max_epochs=epochs, val_interval=1),
    default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook',
                                       interval=1)),
    default_scope='mmseg', resume=resume)
runner.train()
lr = runner.optim_wrapper.get_lr()['lr'][0]
print(f'stopped after epoch {runner.epoch} lr {lr}')
'''


def _cmd(work, resume, hook, epochs=20):
    return [sys.executable, '-c', _TRAIN, str(work), str(epochs),
            '1' if resume else '0', hook]


def _train(work, resume, hook):
    out = subprocess.run(_cmd(work, resume, hook), capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout.strip().splitlines()[-1]


def _kill_after_epoch_3(work, hook):
    proc = subprocess.Popen(_cmd(work, False, hook),
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 120
        while not (work / 'epoch_3.pth').exists():
            assert proc.poll() is None, 'training ended before epoch 3'
            assert time.time() < deadline
            time.sleep(0.02)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (work / 'epoch_4.pth').exists()


def test_uninterrupted_reference(tmp_path):
    # val 1 sets the best; vals 2-5 bring no gain -> stop after epoch 5;
    # plateau (patience 1): no gain at vals 2,3 -> halve at 3; 4,5 -> at 5
    assert _train(tmp_path, False, 'ResumableEarlyStoppingHook') == \
        'stopped after epoch 5 lr 0.02'


def test_state_survives_kill_and_resume(tmp_path):
    """Killed in epoch 4, resumed from epoch_3.pth. mmengine writes
    epoch_3.pth before validation 3, so it holds 1 validation without gain
    (for both the plateau LR and early stopping) and the initial LR; the
    resumed run does not redo validation 3 and continues the counts: vals
    4-6 bring no gain -> LR halved at 4 and 6, stop after epoch 6, one
    epoch later than the uninterrupted run (the lost validation)."""
    _kill_after_epoch_3(tmp_path, 'ResumableEarlyStoppingHook')
    ckpt = torch.load(str(tmp_path / 'epoch_3.pth'), weights_only=False)
    assert ckpt['meta']['early_stopping']['wait_count'] == 1
    assert ckpt['param_schedulers'][0]['num_bad_epochs'] == 1
    assert _train(tmp_path, True, 'ResumableEarlyStoppingHook') == \
        'stopped after epoch 6 lr 0.02'


def test_mmengine_hook_forgets_its_state_on_resume(tmp_path):
    """What the plugin's hook fixes: with mmengine's own, the resumed run
    restarts its patience from zero and trains longer than it should."""
    _kill_after_epoch_3(tmp_path, 'EarlyStoppingHook')
    last = _train(tmp_path, True, 'EarlyStoppingHook')
    assert int(last.split()[3]) > 6, last
