"""A checkpoint save that fails half-way does not break --resume."""
import subprocess
import sys

import pytest
import torch

pytest.importorskip('resource')

# A tiny Runner with the hook; argv: work_dir max_epochs resume fsize_limit
_TRAIN = '''
import resource, signal, sys
import torch, torch.nn as nn
from mmengine.model import BaseModel
from mmengine.runner import Runner
import mtnet_plugin  # noqa: F401

class Tiny(BaseModel):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)
        self.register_buffer('pad', torch.zeros(20000))  # ~80 kB ckpts
    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(inputs)  # default_collate: (B, 2), (B, 1)
        return dict(loss=((out - labels) ** 2).mean())

class Data(torch.utils.data.Dataset):
    def __len__(self):
        return 4
    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)), labels=torch.ones(1))

work, epochs, resume, limit = sys.argv[1], int(sys.argv[2]), \\
    sys.argv[3] == '1', int(sys.argv[4])
runner = Runner(
    model=Tiny(), work_dir=work,
    train_dataloader=dict(dataset=Data(), batch_size=2,
                          sampler=dict(type='DefaultSampler', shuffle=False),
                          collate_fn=dict(type='default_collate')),
    optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
    train_cfg=dict(by_epoch=True, max_epochs=epochs),
    default_hooks=dict(checkpoint=dict(type='AtomicCheckpointHook',
                                       interval=1, max_keep_ckpts=1)),
    default_scope='mmseg', resume=resume)
if limit:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
runner.train()
print('finished at epoch', runner.epoch)
'''


def _train(work, epochs, resume=False, limit=0):
    return subprocess.run(
        [sys.executable, '-c', _TRAIN, str(work), str(epochs),
         '1' if resume else '0', str(limit)],
        capture_output=True, text=True, timeout=300)


def test_failed_save_keeps_previous_checkpoint_and_resume_works(tmp_path):
    """With max_keep_ckpts=1 mmengine would delete epoch_2.pth before
    writing epoch_3.pth; here it is kept until epoch 3 is safely saved."""
    work = tmp_path / 'work'
    first = _train(work, 2)
    assert first.returncode == 0, first.stderr[-2000:]
    epoch_2 = (work / 'epoch_2.pth').read_bytes()
    assert (work / 'last_checkpoint').read_text().endswith('epoch_2.pth')
    assert not (work / 'epoch_1.pth').exists()  # max_keep_ckpts=1

    # epoch 3's save hits a 40 kB file-size limit half-way
    failed = _train(work, 3, resume=True, limit=40000)
    assert failed.returncode != 0 and 'File too large' in failed.stderr
    assert not (work / 'epoch_3.pth').exists()  # no truncated file
    assert not list(work.glob('.*.part'))  # no temporary left behind
    assert (work / 'epoch_2.pth').read_bytes() == epoch_2
    assert (work / 'last_checkpoint').read_text().endswith('epoch_2.pth')

    resumed = _train(work, 3, resume=True)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert 'resumed epoch: 2' in resumed.stdout + resumed.stderr
    assert 'finished at epoch 3' in resumed.stdout
    ckpt = torch.load(str(work / 'epoch_3.pth'), weights_only=False)
    assert ckpt['meta']['epoch'] == 3
    assert (work / 'last_checkpoint').read_text().endswith('epoch_3.pth')
    assert not (work / 'epoch_2.pth').exists()  # removed after the save
