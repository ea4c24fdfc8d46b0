"""mmengine checkpoints load on torch>=2.6 with ``weights_only`` left on."""
import os
import pickle

import numpy as np
import pytest
import torch
import torch.nn as nn
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner

import mtnet_plugin  # noqa: F401  (registers the allow-list)
from mtnet_plugin.utils import checkpoint_safe_globals


class _TinyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(2, 1)

    def forward(self, inputs, labels=None, mode='tensor'):
        out = self.linear(torch.stack(inputs) if isinstance(inputs, list)
                          else inputs)
        if mode == 'loss':
            return dict(loss=((out - labels)**2).mean())
        if mode == 'predict':
            return [dict(pred=o, label=t) for o, t in zip(out, labels)]
        return out


class _ToyDataset(torch.utils.data.Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)), labels=torch.ones(1))


class _MSEMetric(BaseMetric):

    def process(self, data_batch, data_samples):
        for s in data_samples:
            self.results.append(float((s['pred'] - s['label'])**2))

    def compute_metrics(self, results):
        return dict(mse=sum(results) / len(results))


class _RecordStart(Hook):
    """Records the iteration counter and Adam's step when training starts."""

    def __init__(self):
        self.start_iter = None
        self.adam_step = None

    def before_train(self, runner):
        self.start_iter = runner.iter
        state = runner.optim_wrapper.optimizer.state
        self.adam_step = (float(next(iter(state.values()))['step'])
                          if state else 0)


def _runner(work_dir, max_iters, **kwargs):
    loader = dict(
        dataset=_ToyDataset(),
        batch_size=2,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'))
    return Runner(
        model=_TinyModel(),
        experiment_name=f'{os.path.basename(str(work_dir))}_{id(kwargs)}',
        work_dir=str(work_dir),
        train_dataloader=loader,
        optim_wrapper=dict(optimizer=dict(type='Adam', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        test_dataloader=loader,
        test_cfg=dict(),
        test_evaluator=_MSEMetric(),
        default_hooks=dict(
            checkpoint=dict(
                type='CheckpointHook', interval=2, by_epoch=False)),
        **kwargs)


def test_checkpoint_needs_only_allow_listed_globals(tmp_path):
    runner = _runner(tmp_path / 'a', max_iters=2)
    runner.train()
    ckpt = tmp_path / 'a' / 'iter_2.pth'
    assert ckpt.is_file()
    # Something outside the defaults is really in there (so the test would
    # fail without the allow-list) ...
    torch.serialization.clear_safe_globals()
    try:
        unsafe = torch.serialization.get_unsafe_globals_in_checkpoint(
            str(ckpt))
        assert 'mmengine.logging.history_buffer.HistoryBuffer' in unsafe
        with pytest.raises(pickle.UnpicklingError):
            torch.load(str(ckpt))
    finally:
        torch.serialization.add_safe_globals(checkpoint_safe_globals())
    # ... and with it, nothing is left that torch would refuse.
    assert torch.serialization.get_unsafe_globals_in_checkpoint(
        str(ckpt)) == []
    ckpt_dict = torch.load(str(ckpt))  # weights_only=True, the default
    assert ckpt_dict['meta']['iter'] == 2


def test_train_save_resume_and_test(tmp_path):
    first = _runner(tmp_path / 'run', max_iters=2)
    first.train()
    saved_weight = first.model.linear.weight.detach().clone()
    ckpt = tmp_path / 'run' / 'iter_2.pth'

    record = _RecordStart()
    resumed = _runner(
        tmp_path / 'run', max_iters=4, resume=True, load_from=str(ckpt),
        custom_hooks=[record])
    resumed.train()
    assert record.start_iter == 2  # iteration counter restored
    assert record.adam_step == 2.0  # optimizer state restored
    assert resumed.iter == 4
    assert (tmp_path / 'run' / 'iter_4.pth').is_file()

    tester = _runner(tmp_path / 'test', max_iters=2, load_from=str(ckpt))
    metrics = tester.test()
    assert torch.equal(tester.model.linear.weight.detach(), saved_weight)
    # the metric is that of the loaded weights, not of a fresh init
    with torch.no_grad():
        w, b = saved_weight, tester.model.linear.bias
        preds = [float(w @ torch.full((2, ), float(i)) + b) for i in range(8)]
    expected = sum((p - 1.0)**2 for p in preds) / 8
    assert metrics['mse'] == pytest.approx(expected, rel=1e-5)


class _Exploit:
    """Its pickle calls a function at load time (here: writes a file)."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f'touch {self.marker}', ))


def test_code_running_pickle_is_refused(tmp_path):
    marker = tmp_path / 'pwned'
    bad = tmp_path / 'bad.pth'
    torch.save({'state_dict': {}, 'meta': _Exploit(marker)}, str(bad))
    with pytest.raises(pickle.UnpicklingError, match='system'):
        torch.load(str(bad))
    # mmengine's own loader goes through the same refusal.
    from mmengine.runner import load_checkpoint
    with pytest.raises(pickle.UnpicklingError):
        load_checkpoint(nn.Linear(1, 1), str(bad))
    assert not marker.exists()


def test_restricted_getattr_refuses_other_lookups(tmp_path):

    class _GetattrExploit:

        def __reduce__(self):
            # getattr(np.ndarray, '__init__') would be the first step of a
            # walk to os.system through __globals__.
            return (getattr, (np.ndarray, '__init__'))

    bad = tmp_path / 'getattr.pth'
    torch.save({'x': _GetattrExploit()}, str(bad))

    with pytest.raises(pickle.UnpicklingError, match='getattr'):
        torch.load(str(bad))
