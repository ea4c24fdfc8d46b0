"""Latency / throughput of a segmentor's forward per inference backend,
optionally against a peer, and the infer CLI's images/s on a folder.

Times what each backend of ``TumorInferencer`` runs on a preprocessed batch
(for EfficientMTNet both the segmentation and the classification branch,
seg logits resized to the input) on random input: no dataset needed, a
checkpoint optional. Warm-up runs first; every model and backend is timed
in rotation in the same process (``--block`` calls each, see :func:`run`),
so all see the same machine state, and the ratio of medians to the peer (``--compare``, run eagerly) is printed.

Examples:
    # CPU, batch 1, 2 threads: every backend against mmseg's Fast-SCNN
    python tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py \
        --device cpu --threads 2 --repeat 30 \
        --backend pytorch onnxruntime compile \
        --compare configs/fast_scnn/fast_scnn_brain-tumor-640x640.py
    # and the infer CLI end to end on a folder (median of 3 runs)
    python tools/analysis_tools/benchmark.py CONFIG CKPT --threads 2 \
        --backend onnxruntime --folder data/some_640px_jpegs --repeat 0
    # GPU, batch 1, CUDA graphs; batch 32 with bf16 autocast
    python tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py \
        --device cuda --backend compile --compile-mode reduce-overhead
    python tools/analysis_tools/benchmark.py configs/efficient_mtnet_640.py \
        --device cuda --batch-size 32 --bf16 --backend pytorch compile
"""
import argparse
import contextlib
import logging
import os.path as osp
import re
import subprocess
import sys
import time

import numpy as np
import torch
from mmengine.config import DictAction
from mmengine.logging import MMLogger

from mtnet_plugin.apis import BACKENDS, build_backend, init_model


def build(config, checkpoint=None, cfg_options=None, device='cpu',
          channels_last=False):
    """The inference model of ``config`` (no auxiliary heads)."""
    model = init_model(config, checkpoint, device, cfg_options)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


def eager(model, dtype=None):
    """``model``'s tensor-mode forward as a callable, under autocast when
    ``dtype`` is given (how the peer runs)."""
    device_type = next(model.parameters()).device.type

    def forward(x):
        ctx = contextlib.nullcontext() if dtype is None else torch.autocast(
            device_type, dtype=dtype)
        with torch.no_grad(), ctx:
            return model(x, mode='tensor')

    return forward


def _sync(device):
    if device.startswith('cuda'):
        torch.cuda.synchronize()


def time_once(fn, x, device):
    _sync(device)
    t0 = time.perf_counter()
    fn(x)
    _sync(device)
    return time.perf_counter() - t0


def summarise(times, batch):
    t = np.asarray(times) * 1000
    med = float(np.median(t))
    return dict(
        median_ms=med,
        p90_ms=float(np.percentile(t, 90)),
        images_per_s=batch * 1000 / med)


def run(models, shape, batch, device, repeat, warmup, channels_last=False,
        block=1):
    """Time ``models`` (name -> callable on an (N, 3, H, W) batch) in
    rotation; return name -> stats of ``repeat`` timed calls each.

    With ``block`` > 1 each model runs ``block`` + 1 calls in a row and the
    first is not timed: onnxruntime's worker threads spin for a while after
    a call (its default, good for latency), which would otherwise slow the
    next model's first call down and bias the comparison.
    """
    x = torch.randn(batch, 3, *shape, device=device)
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    times = {name: [] for name in models}
    for _ in range(warmup):
        for fn in models.values():
            time_once(fn, x, device)
    while any(len(t) < repeat for t in times.values()):
        for name, fn in models.items():
            if block > 1:
                time_once(fn, x, device)  # switch-over call, not timed
            for _ in range(min(block, repeat - len(times[name]))):
                times[name].append(time_once(fn, x, device))
    return {name: summarise(t, batch) for name, t in times.items()}


def folder_images_per_s(args, backend, runs):
    """Median images/s of ``tools/infer.py`` on ``args.folder`` (overlays
    and JSON written, as users run it), each run a fresh process."""
    import tempfile
    infer = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                     'infer.py')
    rates = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as out:
            cmd = [
                sys.executable, infer, args.folder, '--config', args.config,
                '--checkpoint', args.checkpoint, '--out-dir', out,
                '--backend', backend, '--device', args.device,
                '--batch-size', str(args.folder_batch_size)
            ]
            if args.threads:
                cmd += ['--threads', str(args.threads)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            found = re.search(r'\(([0-9.]+) images/s', proc.stderr)
            if proc.returncode != 0 or not found:
                raise RuntimeError(f'{" ".join(cmd)} failed:\n'
                                   f'{proc.stderr[-2000:]}')
            rates.append(float(found.group(1)))
    return float(np.median(rates)), rates


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Forward latency benchmark')
    p.add_argument('config')
    p.add_argument('checkpoint', nargs='?', default=None)
    p.add_argument('--shape', type=int, nargs=2, default=[640, 640],
                   metavar=('H', 'W'))
    p.add_argument('--batch-size', type=int, default=1)
    p.add_argument('--device', default='cpu')
    p.add_argument('--threads', type=int, default=None,
                   help='torch / onnxruntime CPU threads (default: torch '
                   'decides)')
    p.add_argument('--repeat', type=int, default=30)
    p.add_argument('--warmup', type=int, default=5)
    p.add_argument('--block', type=int, default=5,
                   help='consecutive timed calls per model before the next '
                   'one runs (plus one untimed switch-over call)')
    p.add_argument('--backend', nargs='+', default=['pytorch'],
                   choices=BACKENDS,
                   help='inference backends of the model, timed alternately')
    p.add_argument('--compile-mode', default='default',
                   choices=('default', 'reduce-overhead', 'max-autotune'),
                   help='torch.compile mode of the compile backend '
                   '(reduce-overhead: CUDA graphs)')
    p.add_argument('--onnx', default=None,
                   help='exported .onnx of the onnxruntime backend')
    prec = p.add_mutually_exclusive_group()
    prec.add_argument('--fp16', action='store_true',
                      help='fp16 autocast (PyTorch backends and the peer)')
    prec.add_argument('--bf16', action='store_true',
                      help='bf16 autocast (PyTorch backends and the peer)')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compare', default=None,
                   help='another model config, run eagerly, timed '
                   'alternately')
    p.add_argument('--folder', default=None,
                   help='also run tools/infer.py on this folder per backend '
                   'and report its images/s (needs CHECKPOINT)')
    p.add_argument('--folder-runs', type=int, default=3)
    p.add_argument('--folder-batch-size', type=int, default=8)
    p.add_argument('--eval-steps', type=int, nargs='+', default=None,
                   help='time one model per NMF eval_steps value (both '
                   'Hamburgers), in rotation')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.folder and not args.checkpoint:
        p.error('--folder needs CHECKPOINT')
    return args


def main(argv=None):
    args = parse_args(argv)
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    if args.threads:
        torch.set_num_threads(args.threads)
    if args.device.startswith('cuda'):
        torch.backends.cudnn.benchmark = True
    precision = 'fp16' if args.fp16 else 'bf16' if args.bf16 else 'fp32'
    variants = {None: args.cfg_options}  # eval_steps -> cfg options
    for k in args.eval_steps or []:
        variants[k] = dict(args.cfg_options or {}, **{
            f'model.{head}.ham_kwargs.eval_steps': k
            for head in ('decode_head', 'cls_head')
        })
    if args.eval_steps:
        del variants[None]
    fns = {}
    for steps, options in variants.items():
        model = build(args.config, args.checkpoint, options, args.device,
                      args.channels_last)
        for name in args.backend:
            key = name if steps is None else f'{name} eval_steps={steps}'
            t0 = time.perf_counter()
            fns[key] = build_backend(
                name, model,
                precision='fp32' if name == 'onnxruntime' else precision,
                compile_mode=args.compile_mode,
                onnx_file=args.onnx if name == 'onnxruntime' else None,
                checkpoint=args.checkpoint, threads=args.threads)
            if name == 'compile':  # compile now, not in the timed runs
                fns[key](torch.randn(args.batch_size, 3, *args.shape,
                                     device=args.device))
                print(f'{key}: first call took '
                      f'{time.perf_counter() - t0:.0f} s (compiling)')
    if args.compare:
        dtype = dict(fp32=None, fp16=torch.float16,
                     bf16=torch.bfloat16)[precision]
        fns['compare'] = eager(
            build(args.compare, None, None, args.device, args.channels_last),
            dtype)
    h, w = args.shape
    print(f'device={args.device} threads={torch.get_num_threads()} '
          f'batch={args.batch_size} shape={h}x{w} precision={precision} '
          f'(onnxruntime: fp32) repeat={args.repeat} warmup={args.warmup} '
          f'block={args.block}')
    if args.repeat > 0:
        stats = run(fns, args.shape, args.batch_size, args.device,
                    args.repeat, args.warmup, args.channels_last, args.block)
        for key, s in stats.items():
            label = args.compare if key == 'compare' else \
                f'{args.config} [{key}]'
            print(f'{label}: median {s["median_ms"]:.2f} ms, p90 '
                  f'{s["p90_ms"]:.2f} ms, {s["images_per_s"]:.1f} images/s')
        if 'compare' in stats:
            for key in stats:
                if key == 'compare':
                    continue
                ratio = stats[key]['median_ms'] / stats['compare'][
                    'median_ms']
                print(f'ratio [{key}] / compare (medians): {ratio:.2f}')
    if args.folder:
        for name in args.backend:
            med, rates = folder_images_per_s(args, name, args.folder_runs)
            print(f'tools/infer.py {args.folder} --backend {name} '
                  f'--batch-size {args.folder_batch_size}: median {med:.1f} '
                  f'images/s end to end (runs: '
                  f'{", ".join(f"{r:.1f}" for r in rates)})')


if __name__ == '__main__':
    main()
