"""Export EfficientMTNet to ONNX (both outputs; batch, height and width
dynamic) and check it against ``predict()`` with onnxruntime.

    python tools/deployment/pytorch2onnx.py CONFIG CHECKPOINT --out model.onnx \
        [--images IMG_OR_DIR ...] [--check-sizes 320 640] [--static]

The graph takes the *preprocessed* batch ``input`` (N, 3, H, W) float32: RGB,
normalised with the config's ``data_preprocessor`` mean/std and padded to
multiples of 32, as ``model.data_preprocessor`` produces it. Outputs:
``seg_logits`` (N, num_classes, H, W), resized to the input as mmseg does,
and ``cls_logits`` (N, num_image_classes). ``TumorInferencer(...,
backend='onnxruntime', onnx_file=...)`` (``tools/infer.py --onnx``) does the
pre- and post-processing.

Parity check: the images (default: synthetic MRI slices) go through the
config's test pipeline with its resize set to each of ``--check-sizes``;
the masks and classes of onnxruntime (through the inferencer's shared
post-processing) are compared with ``model.predict()`` (the path of
``tools/test.py``). The tool exits non-zero when a class differs or fewer
than ``--min-identical`` of the mask pixels are identical.
"""
import argparse
import copy
import logging
import os.path as osp
import sys
import tempfile

import cv2
import numpy as np
import torch
from mmengine.logging import MMLogger

from mtnet_plugin.apis import TumorInferencer, export_onnx, init_model
from mtnet_plugin.apis.inference import inference_input_shape


def with_input_size(cfg, size):
    """A copy of ``cfg`` whose test pipeline resizes to ``size`` x
    ``size``."""
    cfg = copy.deepcopy(cfg)
    for t in cfg.test_pipeline:
        if t['type'] == 'Resize':
            t['scale'] = (size, size)
    return cfg


def synthetic_images(folder, num, size=640):
    from mtnet_plugin.datasets.synthetic_mri import render_slice
    rng = np.random.default_rng(0)
    paths = []
    for i in range(num):
        img, _ = render_slice(rng, size, kind=i % 2)
        paths.append(osp.join(folder, f'synthetic_{i}.png'))
        cv2.imwrite(paths[-1], img)
    return paths


def check_against_predict(model, onnx_file, images, sizes):
    """Per input size: images, classes that differ, identical mask pixel
    fraction, for onnxruntime vs ``model.predict()``."""
    reports = []
    for size in sizes:
        cfg = with_input_size(model.cfg, size)
        ort = TumorInferencer(
            model, cfg=cfg, backend='onnxruntime', onnx_file=onnx_file,
            num_workers=0)
        same = total = class_diff = 0
        for path in images:
            with torch.no_grad():
                (ref, ) = model.test_step(ort.collate(path))
            (res, ) = ort(path)
            ref_mask = ref.pred_sem_seg.data[0].cpu().numpy() == 1
            same += int((ref_mask == (res['mask'] == 1)).sum())
            total += ref_mask.size
            class_diff += int(int(ref.pred_label) != res['class_index'])
        reports.append(
            dict(size=size, images=len(images), class_mismatch=class_diff,
                 identical=same / total))
    return reports


def parse_args(argv=None):
    p = argparse.ArgumentParser(description='Export to ONNX and verify')
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', default='efficient_mtnet.onnx')
    p.add_argument('--static', action='store_true',
                   help='fix the graph to (1, 3, H, W) of the config\'s '
                   'input size instead of dynamic batch, height and width')
    p.add_argument('--opset', type=int, default=17)
    p.add_argument('--images', nargs='+', default=None,
                   help='images or folders for the parity check (default: '
                   'synthetic slices)')
    p.add_argument('--num-images', type=int, default=8,
                   help='at most this many images per size')
    p.add_argument('--check-sizes', type=int, nargs='+', default=None,
                   help='network input sizes of the parity check (default: '
                   "the config's and, for a dynamic export, twice it)")
    p.add_argument('--min-identical', type=float, default=0.999)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    model = init_model(args.config, args.checkpoint)
    h, w = inference_input_shape(model.cfg)
    export_onnx(model, args.out, (h, w), dynamic=not args.static,
                opset=args.opset)
    print(f'exported {args.out}: input (N, 3, H, W) '
          f'{"fixed to 1x3x%dx%d" % (h, w) if args.static else "with N, H, W dynamic (H, W multiples of 32)"}')
    sizes = args.check_sizes or ([h] if args.static else [h, 2 * h])
    with tempfile.TemporaryDirectory() as tmp:
        if args.images:
            images = []
            for item in args.images:
                images += TumorInferencer.list_images(item) if osp.isdir(
                    item) else [item]
        else:
            images = synthetic_images(tmp, args.num_images)
        images = images[:args.num_images]
        reports = check_against_predict(model, args.out, images, sizes)
    ok = True
    for r in reports:
        good = (r['class_mismatch'] == 0
                and r['identical'] >= args.min_identical)
        ok &= good
        print(f'input {r["size"]}x{r["size"]}, {r["images"]} images: '
              f'onnxruntime vs predict(): classes differing '
              f'{r["class_mismatch"]}, identical mask pixels '
              f'{100 * r["identical"]:.3f} % -> {"OK" if good else "FAIL"}')
    if not ok:
        sys.exit(1)


if __name__ == '__main__':
    from mtnet_plugin.utils import exit_on_mismatch
    exit_on_mismatch(main)
