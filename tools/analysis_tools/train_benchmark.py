"""Training throughput (images/s) of a config, optionally against a peer.

Two modes:

- ``step``: ``model.train_step`` (data preprocessor, forward, losses,
  backward, optimizer step) on a synthetic batch of the config's training
  size: random greyscale slices with one rectangular lesion each. Measures
  the model's step alone.
- ``loader``: the same ``train_step`` fed by the config's real training
  dataloader (its workers, pipeline and collate), i.e. the training loop
  without hooks. Measures what a run gets.

Each run times ``--iters`` iterations after ``--warmup`` untimed ones; the
median images/s of ``--runs`` runs is printed. With ``--compare`` the two
configs are timed alternately, run by run, in the same process, and the
ratio of medians is printed.

Examples:
    python tools/analysis_tools/train_benchmark.py \
        configs/efficient_mtnet/efficient_mtnet_1xb8-45e_brain-tumor-320x320.py --threads 2 --mode step
    python tools/analysis_tools/train_benchmark.py \
        configs/efficient_mtnet/efficient_mtnet_1xb8-45e_brain-tumor-320x320.py --mode step \
        --compare configs/efficient_mtnet/efficient_mtnet_1xb8-45e_brain-tumor-320x320.py \
        --compare-cfg-options model.decode_head.acc_seg=none
    python tools/analysis_tools/train_benchmark.py CONFIG --device cuda \
        --mode loader --amp
"""
import argparse
import contextlib
import copy
import logging
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope
from mmengine.runner import Runner
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


def load_cfg(path, cfg_options=None):
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def train_size(cfg):
    """(H, W) the training pipeline produces (its Resize/RandomCrop)."""
    size = None
    for t in cfg.train_dataloader.dataset.pipeline:
        inner = t.get('transforms', [t]) if isinstance(t, dict) else [t]
        for s in inner:
            if s.get('type') in ('Resize', 'RandomResize') and \
                    isinstance(s.get('scale'), (tuple, list)):
                size = tuple(s['scale'])[::-1]  # scale is (W, H)
            if s.get('type') == 'RandomCrop':
                size = tuple(s['crop_size'])
    return size or tuple(cfg.get('crop_size', (512, 512)))


def synthetic_batch(batch_size, size, seed=0):
    """What the dataloader yields: uint8 (3, H, W) images and samples with
    a rectangular lesion mask and an image label."""
    gen = np.random.default_rng(seed)
    h, w = size
    inputs, samples = [], []
    for _ in range(batch_size):
        grey = gen.integers(0, 120, (h, w), dtype=np.uint8)
        mask = np.zeros((h, w), dtype=np.uint8)
        bh, bw = gen.integers(h // 10, h // 4), gen.integers(w // 10, w // 4)
        y, x = gen.integers(0, h - bh), gen.integers(0, w - bw)
        mask[y:y + bh, x:x + bw] = 1
        grey[mask == 1] += 100
        inputs.append(torch.from_numpy(np.repeat(grey[None], 3, 0)))
        s = SegDataSample(metainfo=dict(img_shape=size, ori_shape=size,
                                        pad_shape=size))
        s.gt_sem_seg = PixelData(data=torch.from_numpy(mask)[None].long())
        s.set_field(torch.tensor([int(gen.integers(0, 2))]), 'gt_label')
        samples.append(s)
    return dict(inputs=inputs, data_samples=samples)


class Trainee:
    """A model, its optimizer wrapper and a batch source of one config."""

    def __init__(self, cfg, mode, device, amp, batch_size=None):
        init_default_scope(cfg.get('default_scope', 'mmseg'))
        self.model = MODELS.build(cfg.model).to(device).train()
        optim_cfg = copy.deepcopy(cfg.optim_wrapper)
        if amp:
            optim_cfg.type = 'AmpOptimWrapper'
            optim_cfg.loss_scale = 'dynamic'
        self.optim = build_optim_wrapper(self.model, optim_cfg)
        loader_cfg = copy.deepcopy(cfg.train_dataloader)
        if batch_size:
            loader_cfg.batch_size = batch_size
        self.batch_size = loader_cfg.batch_size
        self.mode = mode
        if mode == 'step':
            batch = synthetic_batch(self.batch_size, train_size(cfg))
            self.next_batch = lambda: batch
        else:
            loader = Runner.build_dataloader(loader_cfg)
            self._loader = loader

            def forever():
                while True:
                    yield from loader

            it = forever()
            self.next_batch = lambda: next(it)
        self.device = device

    def step(self):
        self.model.train_step(self.next_batch(), self.optim)

    def sync(self):
        if self.device.startswith('cuda'):
            torch.cuda.synchronize()


def time_run(trainee, iters):
    trainee.sync()
    t0 = time.perf_counter()
    for _ in range(iters):
        trainee.step()
    trainee.sync()
    return iters * trainee.batch_size / (time.perf_counter() - t0)


def parse_args():
    p = argparse.ArgumentParser(description='Training throughput benchmark')
    p.add_argument('config')
    p.add_argument('--mode', choices=['step', 'loader'], default='step')
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads (default: torch decides)')
    p.add_argument('--batch-size', type=int, default=None,
                   help='default: the config\'s train batch size')
    p.add_argument('--iters', type=int, default=10,
                   help='timed iterations per run')
    p.add_argument('--runs', type=int, default=5)
    p.add_argument('--warmup', type=int, default=3)
    p.add_argument('--amp', action='store_true', help='AmpOptimWrapper')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compare', default=None,
                   help='another config, timed alternately')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    p.add_argument('--compare-cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def main():
    args = parse_args()
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    import mtnet_plugin  # noqa: F401
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True
    torch.manual_seed(0)
    specs = {'model': (args.config, args.cfg_options)}
    if args.compare:
        specs['compare'] = (args.compare, args.compare_cfg_options)
    trainees = {}
    for name, (path, opts) in specs.items():
        trainees[name] = Trainee(
            load_cfg(path, opts), args.mode, args.device, args.amp,
            args.batch_size)
        if args.channels_last:
            trainees[name].model.to(memory_format=torch.channels_last)
    for t in trainees.values():
        for _ in range(args.warmup):
            t.step()
    rates = {name: [] for name in trainees}
    for _ in range(args.runs):
        for name, t in trainees.items():
            rates[name].append(time_run(t, args.iters))
    print(f'mode={args.mode} device={args.device} '
          f'threads={torch.get_num_threads()} amp={args.amp} '
          f'iters={args.iters} runs={args.runs} warmup={args.warmup}')
    medians = {}
    for name, r in rates.items():
        path, opts = specs[name]
        medians[name] = float(np.median(r))
        extra = f' {opts}' if opts else ''
        print(f'{path}{extra}: batch {trainees[name].batch_size}, median '
              f'{medians[name]:.2f} images/s (runs: '
              f'{", ".join(f"{x:.2f}" for x in r)})')
    if 'compare' in medians:
        print(f'ratio (model / compare, median images/s): '
              f'{medians["model"] / medians["compare"]:.2f}')


if __name__ == '__main__':
    with contextlib.suppress(KeyboardInterrupt):
        main()
