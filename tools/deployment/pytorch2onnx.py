"""Export EfficientMTNet to ONNX (both outputs) and check it against
PyTorch with onnxruntime.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx \
        [--shape 640 640] [--dynamic-batch] [--num-images 4] [--bench 20]

The ONNX graph takes the *preprocessed* batch (N, 3, H, W) float32: RGB,
normalised with the config's ``data_preprocessor`` mean/std, as
``model.data_preprocessor`` produces it. Outputs: ``seg_logits``
(N, num_classes, H, W), bilinearly resized to the input size as mmseg does,
and ``cls_logits`` (N, num_image_classes).

Parity check on synthetic MRI slices (real-looking inputs, not noise):
max |logit difference| <= --atol (1e-4) for both outputs, identical argmax
masks and identical classes; the tool exits non-zero otherwise.
"""
import argparse
import logging
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS


class ExportWrapper(nn.Module):
    """(N, 3, H, W) preprocessed -> (seg logits at H x W, class logits)."""

    def __init__(self, model):
        super().__init__()
        self.model = model

    def forward(self, x):
        seg, cls = self.model._forward(x)
        seg = F.interpolate(
            seg, size=x.shape[2:], mode='bilinear',
            align_corners=self.model.align_corners)
        return seg, cls


def build_model(config, checkpoint):
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    cfg.model.pop('auxiliary_head', None)
    cfg.model.train_cfg = None
    model = MODELS.build(cfg.model)
    if checkpoint:
        load_checkpoint(model, checkpoint, map_location='cpu')
    return model.eval()


def sample_inputs(model, shape, num):
    """Synthetic MRI slices through the model's data preprocessor."""
    from mtnet_plugin.datasets.synthetic_mri import render_slice
    rng = np.random.default_rng(0)
    imgs = []
    for i in range(num):
        img, _ = render_slice(rng, max(shape), kind=i % 2)
        img = img[:shape[0], :shape[1]]
        imgs.append(torch.from_numpy(np.repeat(img[None], 3, axis=0)))
    data = model.data_preprocessor(dict(inputs=imgs), training=False)
    return data['inputs'].float()


def export(model, out, shape, dynamic_batch=False, opset=17):
    wrapper = ExportWrapper(model).eval()
    dummy = torch.zeros(1, 3, *shape)
    dynamic_axes = None
    if dynamic_batch:
        dynamic_axes = {
            'input': {0: 'batch'},
            'seg_logits': {0: 'batch'},
            'cls_logits': {0: 'batch'}
        }
    torch.onnx.export(
        wrapper, (dummy, ), out, input_names=['input'],
        output_names=['seg_logits', 'cls_logits'],
        dynamic_axes=dynamic_axes, opset_version=opset, dynamo=False)
    import onnx
    onnx.checker.check_model(onnx.load(out))
    return wrapper


def check_parity(wrapper, out, inputs, atol=1e-4, dynamic_batch=False):
    """Return a dict of differences; raise AssertionError on failure."""
    import onnxruntime as ort
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    batches = [inputs] if dynamic_batch else [x[None] for x in inputs]
    report = dict(seg_max_abs=0.0, cls_max_abs=0.0, mask_mismatch=0,
                  class_mismatch=0)
    for x in batches:
        with torch.no_grad():
            seg_t, cls_t = (t.numpy() for t in wrapper(x))
        seg_o, cls_o = sess.run(None, {'input': x.numpy()})
        report['seg_max_abs'] = max(report['seg_max_abs'],
                                    float(np.abs(seg_t - seg_o).max()))
        report['cls_max_abs'] = max(report['cls_max_abs'],
                                    float(np.abs(cls_t - cls_o).max()))
        report['mask_mismatch'] += int(
            (seg_t.argmax(1) != seg_o.argmax(1)).sum())
        report['class_mismatch'] += int(
            (cls_t.argmax(1) != cls_o.argmax(1)).sum())
    ok = (report['seg_max_abs'] <= atol and report['cls_max_abs'] <= atol
          and report['mask_mismatch'] == 0 and report['class_mismatch'] == 0)
    report['ok'] = ok
    return report


def bench(wrapper, out, shape, repeat, threads):
    """Median CPU latency (ms) of PyTorch and onnxruntime, batch 1."""
    import onnxruntime as ort
    torch.set_num_threads(threads)
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(out, opts,
                                providers=['CPUExecutionProvider'])
    x = torch.randn(1, 3, *shape)
    t_pt, t_ort = [], []
    for i in range(repeat + 3):  # 3 warm-ups, then alternate
        t0 = time.perf_counter()
        with torch.no_grad():
            wrapper(x)
        t1 = time.perf_counter()
        sess.run(None, {'input': x.numpy()})
        t2 = time.perf_counter()
        if i >= 3:
            t_pt.append(t1 - t0)
            t_ort.append(t2 - t1)
    return (float(np.median(t_pt) * 1000), float(np.median(t_ort) * 1000))


def parse_args():
    p = argparse.ArgumentParser(description='Export to ONNX and verify')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', default='efficient_mtnet.onnx')
    p.add_argument('--shape', type=int, nargs=2, default=[640, 640],
                   metavar=('H', 'W'))
    p.add_argument('--dynamic-batch', action='store_true')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--num-images', type=int, default=4)
    p.add_argument('--atol', type=float, default=1e-4)
    p.add_argument('--bench', type=int, default=0,
                   help='also time PyTorch vs onnxruntime (runs, batch 1)')
    p.add_argument('--threads', type=int, default=2)
    return p.parse_args()


def main():
    args = parse_args()
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    import mtnet_plugin  # noqa: F401
    model = build_model(args.config, args.checkpoint)
    shape = tuple(args.shape)
    wrapper = export(model, args.out, shape, args.dynamic_batch, args.opset)
    inputs = sample_inputs(model, shape, args.num_images)
    report = check_parity(wrapper, args.out, inputs, args.atol,
                          args.dynamic_batch)
    print(f'exported {args.out} (input 1x3x{shape[0]}x{shape[1]}'
          f'{", dynamic batch" if args.dynamic_batch else ""})')
    print(f'onnxruntime vs PyTorch on {args.num_images} synthetic slices: '
          f'max |seg logit diff| {report["seg_max_abs"]:.2e}, max |class '
          f'logit diff| {report["cls_max_abs"]:.2e}, mask pixels differing '
          f'{report["mask_mismatch"]}, classes differing '
          f'{report["class_mismatch"]} -> {"OK" if report["ok"] else "FAIL"}')
    if args.bench:
        pt, ort_ms = bench(wrapper, args.out, shape, args.bench,
                           args.threads)
        print(f'CPU latency, batch 1, {args.threads} threads, median of '
              f'{args.bench}: PyTorch {pt:.1f} ms, onnxruntime {ort_ms:.1f} '
              f'ms (ratio {ort_ms / pt:.2f})')
    if not report['ok']:
        sys.exit(1)


if __name__ == '__main__':
    main()
