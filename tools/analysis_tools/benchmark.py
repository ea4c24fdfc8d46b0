"""Latency / throughput of a segmentor's forward, optionally against a peer.

Times the tensor-mode forward (``_forward``: for EfficientMTNet both the
segmentation and the classification branch) on random input: no dataset and
no checkpoint needed. Warm-up runs first; with ``--compare`` the two models
are timed alternately in the same process, so both see the same machine
state, and the ratio of medians is printed.

Examples:
    # CPU, batch 1, 2 threads, against mmseg's Fast-SCNN
    python tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py \
        --device cpu --threads 2 --repeat 30 \
        --compare configs/fast_scnn_peer_640.py
    # GPU, batch 32, bf16 autocast
    python tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py \
        --device cuda --batch-size 32 --bf16
"""
import argparse
import contextlib
import logging
import time

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS


def build(config, checkpoint=None, cfg_options=None, device='cpu',
          channels_last=False):
    cfg = Config.fromfile(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.pop('auxiliary_head', None)  # training only
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    model = model.to(device).eval()
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def _sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_once(model, x, device, autocast):
    _sync(device)
    t0 = time.perf_counter()
    with torch.no_grad(), autocast():
        model(x, mode='tensor')
    _sync(device)
    return time.perf_counter() - t0


def summarise(times, batch):
    t = np.asarray(times) * 1000
    med = float(np.median(t))
    return dict(
        median_ms=med,
        p90_ms=float(np.percentile(t, 90)),
        images_per_s=batch * 1000 / med)


def run(models, shape, batch, device, repeat, warmup, dtype=None,
        channels_last=False):
    """Time ``models`` (name -> model) alternately; return name -> stats."""
    x = torch.randn(batch, 3, *shape, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    if dtype is None:
        autocast = contextlib.nullcontext
    else:
        def autocast():
            return torch.autocast(device.split(':')[0], dtype=dtype)
    times = {name: [] for name in models}
    for _ in range(warmup):
        for model in models.values():
            time_once(model, x, device, autocast)
    for _ in range(repeat):
        for name, model in models.items():
            times[name].append(time_once(model, x, device, autocast))
    return {name: summarise(t, batch) for name, t in times.items()}


def parse_args():
    p = argparse.ArgumentParser(description='Forward latency benchmark')
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', default=None)
    p.add_argument('--shape', type=int, nargs=2, default=[640, 640],
                   metavar=('H', 'W'))
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None,
                   help='torch CPU threads (default: torch decides)')
    p.add_argument('--repeat', type=int, default=30)
    p.add_argument('--warmup', type=int, default=5)
    prec = p.add_mutually_exclusive_group()
    prec.add_argument('--fp16', action='store_true', help='fp16 autocast')
    prec.add_argument('--bf16', action='store_true', help='bf16 autocast')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compare', default=None,
                   help='another model config timed alternately')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def main():
    args = parse_args()
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    import mtnet_plugin  # noqa: F401
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True
    models = {
        'model': build(args.config, args.checkpoint, args.cfg_options,
                       args.device, args.channels_last)
    }
    if args.compare:
        models['compare'] = build(args.compare, None, None, args.device,
                                  args.channels_last)
    dtype = torch.float16 if args.fp16 else (
        torch.bfloat16 if args.bf16 else None)
    stats = run(models, args.shape, args.batch_size, args.device,
                args.repeat, args.warmup, dtype, args.channels_last)
    names = dict(model=args.config, compare=args.compare)
    h, w = args.shape
    print(f'device={args.device} threads={torch.get_num_threads()} '
          f'batch={args.batch_size} shape={h}x{w} '
          f'precision={"fp16" if args.fp16 else "bf16" if args.bf16 else "fp32"}'
          f' repeat={args.repeat} warmup={args.warmup}')
    for key, s in stats.items():
        print(f'{names[key]}: median {s["median_ms"]:.2f} ms, '
              f'p90 {s["p90_ms"]:.2f} ms, {s["images_per_s"]:.1f} images/s')
    if 'compare' in stats:
        ratio = stats['model']['median_ms'] / stats['compare']['median_ms']
        print(f'ratio (model / compare, medians): {ratio:.2f}')


if __name__ == '__main__':
    main()
