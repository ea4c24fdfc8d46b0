"""Latency / throughput of a segmentor's forward per inference backend,
optionally against a peer, and the infer CLI's images/s on a folder.

Times what each backend of ``TumorInferencer`` runs on a preprocessed batch
(for EfficientMTNet both the segmentation and the classification branch,
seg logits resized to the input) on random input: no dataset needed, a
checkpoint optional. Warm-up runs first; every model and backend is timed
in rotation in the same process (``--block`` calls each after a ``--settle-ms``
pause, see :func:`run`),
so all see the same machine state. The peer (``--compare``) runs through
the same backends as the model (its own ONNX export, fp32 and int8, for the
onnxruntime ones), and the ratio of medians per backend is printed.

Peers (``--compare``, one or more configs) have random weights (seed 0)
unless ``--compare-checkpoint`` gives theirs: timings do not depend on the
weights, and a peer without weights skips its int8 file's load-time
agreement check. int8 calibrates on ``--num-calib`` images of the model
config's training set (or ``--calib-images``), the peers on the same ones.

Examples:
    # CPU, batch 1, 2 threads: every backend against mmseg's Fast-SCNN
    python tools/analysis_tools/benchmark.py CONFIG CKPT \
        --device cpu --threads 2 --repeat 30 \
        --backend pytorch onnxruntime onnxruntime-int8 \
        --compare configs/fast_scnn/fast_scnn_brain-tumor-640x640.py
    # the trained peers with their weights, at the shipped input size
    python tools/analysis_tools/benchmark.py CONFIG CKPT --shape 320 320 \
        --threads 2 --backend onnxruntime onnxruntime-int8 \
        --compare PEER_CONFIG [PEER_CONFIG ...] \
        --compare-checkpoint PEER_CKPT [PEER_CKPT ...]
    # where the time goes against the peer: the same network without its
    # SE gates, without the NMF, without both (timing only: random outputs)
    python tools/analysis_tools/benchmark.py CONFIG CKPT --shape 640 640 \
        --threads 2 --backend onnxruntime --without se nmf se+nmf \
        --compare configs/fast_scnn/fast_scnn_1xb8-45e_brain-tumor-320x320.py
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
from mtnet_plugin.apis.backends import SETTLE_S
from mtnet_plugin.apis.onnx_quantize import FLOAT_ISLANDS


def build(config, checkpoint=None, cfg_options=None, device='cpu',
          channels_last=False):
    """The inference model of ``config`` (no auxiliary heads)."""
    model = init_model(config, checkpoint, device, cfg_options)
    if channels_last:
        model = model.to(memory_format=torch.channels_last)
    return model


#: What ``--without`` can take out of EfficientMTNet, for timing only.
WITHOUT_PARTS = {
    'se': 'every Squeeze-and-Excitation gate (learning-to-downsample and '
    'inverted residuals)',
    'nmf': 'the NMF of both Hamburgers (their 1x1 convolutions stay)',
    'cls': 'the classification branch (its head; the backbone is shared)',
    'up': 'the decode head\'s x2 stage (it predicts at 1/8)',
}


def without(model, parts):
    """A copy of ``model`` with ``parts`` (keys of :data:`WITHOUT_PARTS`)
    taken out, to see what each costs. Its outputs mean nothing: it exists
    to be timed beside the whole network."""
    import copy
    import types

    import torch.nn as nn
    from mmseg.models.utils import SELayer

    from mtnet_plugin.models.utils import DeterministicHamburger
    model = copy.deepcopy(model)
    unknown = set(parts) - set(WITHOUT_PARTS)
    if unknown:
        raise ValueError(f'--without: unknown part(s) {sorted(unknown)}; '
                         f'choose from {sorted(WITHOUT_PARTS)}')
    found = dict.fromkeys(parts, False)
    for module in list(model.modules()):
        for name, child in list(module.named_children()):
            if 'se' in parts and isinstance(child, SELayer):
                setattr(module, name, nn.Identity())
                found['se'] = True
            if 'nmf' in parts and isinstance(child, DeterministicHamburger):
                child.ham = nn.Identity()
                found['nmf'] = True
    if 'cls' in parts and getattr(model, 'cls_head', None) is not None:
        def seg_only(self, inputs, data_samples=None):
            return self.decode_head.forward(self.extract_feat(inputs))

        # a bound method, so that a deep copy (the ONNX export makes one)
        # runs the copy's weights rather than this model's
        model._forward = types.MethodType(seg_only, model)
        found['cls'] = True
    head = model.decode_head
    if 'up' in parts and len(getattr(head, 'up_convs', ())):
        head.up_convs = nn.ModuleList()
        head.skip_convs, head.skip_in_index = nn.ModuleDict(), {}
        head.conv_seg = nn.Conv2d(head.channels, head.out_channels, 1)
        found['up'] = True
    missing = [p for p, ok in found.items() if not ok]
    if missing:
        raise ValueError(f'--without: {type(model).__name__} has no '
                         f'{", ".join(missing)} to take out')
    return model.eval()


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
        block=1, settle=0.0):
    """Time ``models`` (name -> callable on an (N, 3, H, W) batch) in
    rotation; return name -> stats of ``repeat`` timed calls each.

    With ``block`` > 1 each model runs ``block`` + 1 calls in a row and the
    first is not timed. Each model's turn begins with a pause of ``settle``
    seconds: onnxruntime's worker threads spin for tens of milliseconds
    after a call (its default, good for latency) and slow the next model's
    calls down meanwhile, which biases the comparison and spreads the
    ratios of repeated runs (see ``SETTLE_S`` in
    ``mtnet_plugin/apis/backends.py``).
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
            if settle:
                time.sleep(settle)
            if block > 1:
                time_once(fn, x, device)  # switch-over call, not timed
            for _ in range(min(block, repeat - len(times[name]))):
                times[name].append(time_once(fn, x, device))
    return {name: summarise(t, batch) for name, t in times.items()}


def folder_images_per_s(args, backend, runs):
    """Median images/s of ``tools/infer.py`` on ``args.folder`` (overlays
    and JSON written, as users run it), each run a fresh process: (median,
    every run's rate, median peak RSS in MiB)."""
    import tempfile
    infer = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                     'infer.py')
    rates, peaks = [], []
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
            for key, value in (('--calib-images', args.calib_images),
                               ('--num-calib', args.num_calib)):
                if value is not None and backend == 'onnxruntime-int8':
                    cmd += [key, str(value)]
            proc = subprocess.run(cmd, capture_output=True, text=True)
            found = re.search(r'\(([0-9.]+) images/s', proc.stderr)
            rss = re.search(r'peak RSS ([0-9.]+) MiB', proc.stderr)
            if proc.returncode != 0 or not found:
                raise RuntimeError(f'{" ".join(cmd)} failed:\n'
                                   f'{proc.stderr[-2000:]}')
            rates.append(float(found.group(1)))
            peaks.append(float(rss.group(1)) if rss else float('nan'))
    return float(np.median(rates)), rates, float(np.median(peaks))


def peer_prefixes(configs) -> dict:
    """Key prefix of each peer -> its config: 'compare' for the first,
    'compare2', 'compare3', ... for the others."""
    return {('compare' if i == 0 else f'compare{i + 1}'): c
            for i, c in enumerate(configs or [])}


def peer_backends(args, model, backend):
    """Each peer (``args.compare``; its ``--compare-checkpoint`` weights,
    else random weights, seed 0) through each backend of ``args.backend``:
    key '<prefix> [name]' -> callable (prefixes: :func:`peer_prefixes`).

    Its onnxruntime export is static, (1, 3, *args.shape), through
    ``torch.export`` (dynamo): mmseg's Fast-SCNN pools to 3x3 and 6x6 bins
    (adaptive average pooling) of maps those do not divide, which the
    TorchScript exporter cannot write. The
    exports go to a temporary folder; images for int8 calibration go
    through the model's test pipeline resized to ``args.shape``.
    """
    import atexit
    import copy
    import shutil
    import tempfile

    from mtnet_plugin.apis import export_onnx
    tmp = tempfile.mkdtemp(prefix='benchmark-peer-')
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    checkpoints = [None if c in (None, 'none') else c for c in (
        args.compare_checkpoint or [None] * len(args.compare))]
    fns = {}
    for (prefix, config), ckpt in zip(peer_prefixes(args.compare).items(),
                                      checkpoints):
        torch.manual_seed(0)
        peer = build(config, ckpt, None, args.device, args.channels_last)
        pipeline = copy.deepcopy(model.cfg.test_pipeline)
        for t in pipeline:
            if t['type'] == 'Resize':
                t['scale'] = tuple(args.shape[::-1])  # (W, H)
        peer.cfg.test_pipeline = pipeline
        peer.cfg.train_dataloader = model.cfg.train_dataloader
        fp32 = None
        if any(n.startswith('onnxruntime') for n in args.backend):
            fp32 = export_onnx(peer, osp.join(tmp, f'{prefix}.onnx'),
                               args.shape, dynamic=False, dynamo=True)
        for name in args.backend:
            key = f'{prefix} [{name}]'
            if name == 'onnxruntime-int8':  # random weights: no mask check
                fns[key] = backend(name, peer, key, None, fp32_file=fp32,
                                   cache_dir=tmp, check=ckpt is not None)
            else:
                fns[key] = backend(name, peer, key, None,
                                   onnx_file=fp32 if name == 'onnxruntime'
                                   else None)
    return fns


def without_backends(args, model, backend):
    """'<backend> without=<parts>' -> callable, for each ``--without``
    entry and each backend; the onnxruntime ones run their own export
    (dynamic, as the model's cached export), written to a temporary
    folder."""
    import atexit
    import shutil
    import tempfile

    from mtnet_plugin.apis import export_onnx
    tmp = tempfile.mkdtemp(prefix='benchmark-without-')
    atexit.register(shutil.rmtree, tmp, ignore_errors=True)
    fns = {}
    for entry in args.without:
        variant = without(model, entry.split('+'))
        onnx_file = None
        if 'onnxruntime' in args.backend:
            onnx_file = export_onnx(variant, osp.join(tmp, f'{entry}.onnx'),
                                    args.shape)
        for name in args.backend:
            key = f'{name} without={entry}'
            fns[key] = backend(name, variant, key, None,
                               onnx_file=onnx_file
                               if name == 'onnxruntime' else None)
    return fns


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
    p.add_argument('--settle-ms', type=float, default=SETTLE_S * 1000,
                   help='pause before each model\'s block of calls, so '
                   'that the previous model\'s onnxruntime threads stop '
                   'spinning (0: no pause)')
    p.add_argument('--backend', nargs='+', default=['pytorch'],
                   choices=BACKENDS,
                   help='inference backends of the model, timed alternately')
    p.add_argument('--compile-mode', default='default',
                   choices=('default', 'reduce-overhead', 'max-autotune'),
                   help='torch.compile mode of the compile backend '
                   '(reduce-overhead: CUDA graphs)')
    p.add_argument('--onnx', default=None,
                   help='exported .onnx of the onnxruntime backend')
    p.add_argument('--calib-images', default=None,
                   help='onnxruntime-int8: folder to calibrate on (default: '
                   'the config\'s training images)')
    p.add_argument('--num-calib', type=int, default=None,
                   help='onnxruntime-int8: calibration images (default 64)')
    p.add_argument('--float-islands', nargs='*', default=None,
                   help='onnxruntime-int8: parts kept in float (default: '
                   f'{" ".join(FLOAT_ISLANDS)}; none given: every node '
                   'int8)')
    prec = p.add_mutually_exclusive_group()
    prec.add_argument('--fp16', action='store_true',
                      help='fp16 autocast (PyTorch backends and the peer)')
    prec.add_argument('--bf16', action='store_true',
                      help='bf16 autocast (PyTorch backends and the peer)')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--compare', nargs='+', default=None,
                   help='peer model configs, run through the same backends, '
                   'timed alternately')
    p.add_argument('--compare-checkpoint', nargs='+', default=None,
                   help='the peers\' weights, one per --compare config '
                   '(\'none\' or default: random weights)')
    p.add_argument('--folder', default=None,
                   help='also run tools/infer.py on this folder per backend '
                   'and report its images/s (needs CHECKPOINT)')
    p.add_argument('--folder-runs', type=int, default=3)
    p.add_argument('--folder-batch-size', type=int, default=8)
    p.add_argument('--eval-steps', type=int, nargs='+', default=None,
                   help='time one model per NMF eval_steps value (both '
                   'Hamburgers), in rotation')
    p.add_argument('--without', nargs='+', default=None,
                   metavar='PART[+PART]',
                   help='also time the network without these parts, each '
                   'entry one variant (timing only; parts: ' +
                   ', '.join(f'{k}: {v}' for k, v in WITHOUT_PARTS.items()) +
                   ')')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.without and (
            'onnxruntime-int8' in args.backend or args.onnx):
        p.error('--without times float variants exported on the fly: '
                'leave out onnxruntime-int8 and --onnx')
    if args.folder and not args.checkpoint:
        p.error('--folder needs CHECKPOINT')
    if args.compare_checkpoint and (not args.compare or len(
            args.compare_checkpoint) != len(args.compare)):
        p.error('--compare-checkpoint needs one checkpoint per --compare '
                'config')
    if args.compare and args.batch_size != 1 and any(
            b.startswith('onnxruntime') for b in args.backend):
        p.error('the peer\'s ONNX export is static at batch 1: '
                '--compare with an onnxruntime backend needs --batch-size 1')
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
    int8 = {
        k: v for k, v in dict(calib_images=args.calib_images,
                              num_calib=args.num_calib,
                              float_islands=args.float_islands).items()
        if v is not None
    }

    def backend(name, model, key, checkpoint, onnx_file=None, **extra):
        t0 = time.perf_counter()
        fn = build_backend(
            name, model,
            precision='fp32' if name.startswith('onnxruntime') else precision,
            compile_mode=args.compile_mode, onnx_file=onnx_file,
            checkpoint=checkpoint, threads=args.threads,
            int8_options=dict(int8, **extra)
            if name == 'onnxruntime-int8' else None)
        if name == 'compile':  # compile now, not in the timed runs
            fn(torch.randn(args.batch_size, 3, *args.shape,
                           device=args.device))
            print(f'{key}: first call took '
                  f'{time.perf_counter() - t0:.0f} s (compiling)')
        return fn

    fns = {}
    for steps, options in variants.items():
        model = build(args.config, args.checkpoint, options, args.device,
                      args.channels_last)
        for name in args.backend:
            key = name if steps is None else f'{name} eval_steps={steps}'
            fns[key] = backend(
                name, model, key, args.checkpoint,
                onnx_file=args.onnx if name == 'onnxruntime' else None)
    if args.without:
        fns.update(without_backends(args, model, backend))
    if args.compare:
        fns.update(peer_backends(args, model, backend))
    h, w = args.shape
    print(f'device={args.device} threads={torch.get_num_threads()} '
          f'batch={args.batch_size} shape={h}x{w} precision={precision} '
          f'(onnxruntime: fp32) repeat={args.repeat} warmup={args.warmup} '
          f'block={args.block} settle={args.settle_ms:g} ms')
    if args.repeat > 0:
        stats = run(fns, args.shape, args.batch_size, args.device,
                    args.repeat, args.warmup, args.channels_last, args.block,
                    args.settle_ms / 1000)
        prefixes = peer_prefixes(args.compare)
        for key, s in stats.items():
            prefix = key.split(' [')[0]
            label = key.replace(prefix, prefixes[prefix]) if \
                prefix in prefixes else f'{args.config} [{key}]'
            print(f'{label}: median {s["median_ms"]:.2f} ms, p90 '
                  f'{s["p90_ms"]:.2f} ms, {s["images_per_s"]:.1f} images/s')
        for key in stats:
            for prefix in prefixes:
                peer = f'{prefix} [{key.split(" ")[0]}]'
                if peer in stats and key.split(' [')[0] not in prefixes:
                    ratio = stats[key]['median_ms'] / stats[peer][
                        'median_ms']
                    print(f'ratio [{key}] / {peer} (medians): {ratio:.2f}')
        for key in stats:
            whole = key.split(' ')[0]
            if ' without=' in key and whole in stats:
                ratio = stats[key]['median_ms'] / stats[whole]['median_ms']
                print(f'ratio [{key}] / [{whole}] (medians): {ratio:.2f}')
        if 'onnxruntime' in stats and 'onnxruntime-int8' in stats:
            ratio = stats['onnxruntime-int8']['median_ms'] / stats[
                'onnxruntime']['median_ms']
            print(f'ratio [onnxruntime-int8] / [onnxruntime] (medians): '
                  f'{ratio:.2f}')
    if args.folder:
        for name in args.backend:
            med, rates, rss = folder_images_per_s(args, name,
                                                  args.folder_runs)
            print(f'tools/infer.py {args.folder} --backend {name} '
                  f'--batch-size {args.folder_batch_size}: median {med:.1f} '
                  f'images/s end to end (runs: '
                  f'{", ".join(f"{r:.1f}" for r in rates)}), peak RSS '
                  f'{rss:.0f} MiB')


if __name__ == '__main__':
    from mtnet_plugin.utils import exit_on_mismatch
    exit_on_mismatch(main)
