"""Accuracy of inference backends on a labelled split, and their agreement
image by image (e.g. int8 against fp32 onnxruntime).

    python tools/analysis_tools/compare_backends.py CONFIG CHECKPOINT \
        --backend onnxruntime onnxruntime-int8 [--threads 2] \
        [--csv per_image.csv] [--json report.json] \
        [--num-calib 64] [--float-islands stem nmf final_resize cls_head] \
        [--calib-method minmax] [--record]

Every backend runs the same ``TumorInferencer`` pre- and post-processing
over the config's ``val_dataloader`` dataset (valid/ by default; another
split with ``--cfg-options``). Per backend: tumor Dice and IoU (the tumor
class alone, areas summed over the split as mmseg's ``IoUMetric`` does, at
the images' own size), accuracy and the confusion matrix. Against the
first backend, per image: same class or not, and the Dice between the two
masks (1 when both are empty); ``--csv`` writes that table, ``--json`` the
summary.

The accuracy rule (``INT8_RULE``: tumor Dice within 0.5 point and accuracy
within one image) is printed for every backend against the first.
``--record`` (with ``--backend onnxruntime onnxruntime-int8``) writes the
int8 validation record beside the checkpoint,
``<stem>.int8-valid-<kernels>.json``: the weights' sha256, the
quantization settings, the calibration set's key, both backends' figures,
whether the rule is met, and the CPU with its class of int8 kernels
(``int8_kernels``: VNNI's exact sums and AVX2's saturating ones score the
same file differently; one record per class, so validating on a CPU of
another class keeps this one).
``--backend auto`` runs int8 on CPU only where the record of this CPU's
class (or a record written before records named a class,
``<stem>.int8-valid.json``) matches
(``mtnet_plugin.apis.backends.default_backend``).
"""
import argparse
import csv
import json
import logging
import os
import os.path as osp

import numpy as np
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger

from mtnet_plugin.apis import TumorInferencer
from mtnet_plugin.apis.onnx_export import file_sha256
from mtnet_plugin.apis.backends import cpu_model
from mtnet_plugin.apis.onnx_quantize import (INT8_RULE, int8_kernels,
                                             int8_record_path)

DICE_TOLERANCE = INT8_RULE['max_dice_drop']  # points of tumor Dice
ACCURACY_TOLERANCE_IMAGES = INT8_RULE['max_extra_wrong_images']


def ground_truth(cfg):
    """(image paths, (H, W) uint8 masks, labels) of the val dataset."""
    from mmseg.registry import DATASETS, TRANSFORMS
    ds = DATASETS.build(dict(cfg.val_dataloader.dataset, pipeline=[]))
    load = TRANSFORMS.build(dict(type='LoadTumorAnnotations'))
    paths, masks, labels = [], [], []
    for i in range(len(ds)):
        info = ds.get_data_info(i)
        paths.append(info['img_path'])
        labels.append(int(info['gt_label']))
        masks.append(load(dict(info))['gt_seg_map'] == 1)
    return paths, masks, np.array(labels)


def mask_dice(a: np.ndarray, b: np.ndarray) -> float:
    total = int(a.sum()) + int(b.sum())
    return 1.0 if total == 0 else 2.0 * int((a & b).sum()) / total


def mask_box(mask: np.ndarray):
    """[x0, y0, x1, y1] (inclusive) of a mask's tumor pixels, or None."""
    ys, xs = np.nonzero(mask)
    return None if xs.size == 0 else (xs.min(), ys.min(), xs.max(), ys.max())


def box_iou(a, b) -> float:
    """IoU of two inclusive pixel boxes; two empty masks agree (1), one
    empty and one not do not (0)."""
    if a is None or b is None:
        return float(a is None and b is None)
    w = min(a[2], b[2]) - max(a[0], b[0]) + 1
    h = min(a[3], b[3]) - max(a[1], b[1]) + 1
    inter = max(w, 0) * max(h, 0)
    area = lambda r: (r[2] - r[0] + 1) * (r[3] - r[1] + 1)  # noqa: E731
    return inter / (area(a) + area(b) - inter)


def scores(preds, classes, masks, labels) -> dict:
    """Tumor Dice and IoU of the masks; accuracy, wrong images and the
    confusion matrix of the classes (None for a segmentation-only model,
    ``classes`` None)."""
    inter = sum(int((p & g).sum()) for p, g in zip(preds, masks))
    area_p = sum(int(p.sum()) for p in preds)
    area_g = sum(int(g.sum()) for g in masks)
    out = dict(
        tumor_Dice=round(100 * 2 * inter / (area_p + area_g), 2),
        tumor_IoU=round(100 * inter / (area_p + area_g - inter), 2),
        accuracy=None, wrong=None, confusion=None)
    if classes is not None:
        conf = np.zeros((2, 2), int)
        for t, c in zip(labels, classes):
            conf[t, c] += 1
        out.update(
            accuracy=round(100 * float((classes == labels).mean()), 2),
            wrong=int((classes != labels).sum()),
            confusion=conf.tolist())
    return out


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--backend', nargs='+',
                   default=['onnxruntime', 'onnxruntime-int8'])
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--num-calib', type=int, default=None)
    p.add_argument('--float-islands', nargs='*', default=None)
    p.add_argument('--calib-method', default=None)
    p.add_argument('--calib-images', default=None)
    p.add_argument('--csv', help='per-image agreement table')
    p.add_argument('--json', help='summary as JSON')
    p.add_argument('--record', action='store_true',
                   help='write the int8 validation record beside the '
                   'checkpoint (read by --backend auto)')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    args = p.parse_args(argv)
    if args.record and args.backend != ['onnxruntime', 'onnxruntime-int8']:
        p.error('--record needs --backend onnxruntime onnxruntime-int8')
    return args


def setup(args) -> Config:
    """Quiet mmengine's logger, apply ``--threads`` and return the config
    with ``--cfg-options`` merged (shared with analyze_errors.py)."""
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    if args.threads:
        import torch
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = setup(args)
    paths, masks, labels = ground_truth(cfg)
    int8 = {
        k: v for k, v in dict(
            num_calib=args.num_calib, float_islands=args.float_islands,
            method=args.calib_method,
            calib_images=args.calib_images).items() if v is not None
    }
    runs = {}
    for name in args.backend:
        inferencer = TumorInferencer(
            cfg, args.checkpoint, backend=name,
            int8_options=int8 if name == 'onnxruntime-int8' else None)
        results = list(inferencer.iter_results(paths, args.batch_size))
        runs[name] = dict(
            file=getattr(inferencer.backend, 'onnx_file', None),
            settings=getattr(inferencer.backend, 'settings', None),
            calibration_key=getattr(inferencer.backend, 'calibration_key',
                                    None),
            masks=[r['mask'] == 1 for r in results],
            # None for a segmentation-only model (an mmseg peer)
            classes=None if results[0]['class_index'] is None else
            np.array([r['class_index'] for r in results]),
            probs=None if results[0]['class_probs'] is None else
            np.array([r['class_probs'] for r in results]))
    ref_name = args.backend[0]
    ref = runs[ref_name]
    report = dict(config=args.config, checkpoint=args.checkpoint,
                  dataset=cfg.val_dataloader.dataset.get('ann_file'),
                  images=len(paths), int8_options=int8, backends={})
    rows = []
    for name, run in runs.items():
        s = scores(run['masks'], run['classes'], masks, labels)
        s['file'] = run['file']
        if name != ref_name:
            dice = np.array([mask_dice(a, b) for a, b in
                             zip(ref['masks'], run['masks'])])
            has_classes = ref['classes'] is not None
            same = run['classes'] == ref['classes'] if has_classes else \
                np.ones(len(paths), bool)
            base = scores(ref['masks'], ref['classes'], masks, labels)
            s['against'] = ref_name
            s['same_class'] = int(same.sum()) if has_classes else None
            boxes = np.array([box_iou(mask_box(a), mask_box(b)) for a, b in
                              zip(ref['masks'], run['masks'])])
            s['box_iou_mean'] = round(float(boxes.mean()), 4)
            s['mask_dice_median'] = round(float(np.median(dice)), 4)
            s['mask_dice_p05'] = round(float(np.percentile(dice, 5)), 4)
            s['mask_dice_min'] = round(float(dice.min()), 4)
            s['images_mask_dice_below_0.9'] = int((dice < 0.9).sum())
            s['max_abs_prob_diff'] = round(
                float(np.abs(run['probs'] - ref['probs']).max()), 4) \
                if has_classes else None
            # a segmentation-only model is judged on the Dice alone
            s['meets_rule'] = bool(
                base['tumor_Dice'] - s['tumor_Dice'] <= DICE_TOLERANCE and
                (not has_classes or s['wrong'] - base['wrong'] <=
                 ACCURACY_TOLERANCE_IMAGES))
            for i in np.argsort(dice):
                rows.append(dict(
                    backend=name, against=ref_name,
                    image=osp.basename(paths[i]), label=int(labels[i]),
                    class_ref=int(ref['classes'][i])
                    if has_classes else None,
                    class_backend=int(run['classes'][i])
                    if has_classes else None,
                    same_class=bool(same[i]) if has_classes else None,
                    mask_dice_between=round(float(dice[i]), 4),
                    box_iou_between=round(float(boxes[i]), 4),
                    tumor_px_ref=int(ref['masks'][i].sum()),
                    tumor_px_backend=int(run['masks'][i].sum()),
                    dice_vs_truth_ref=round(
                        mask_dice(ref['masks'][i], masks[i]), 4),
                    dice_vs_truth_backend=round(
                        mask_dice(run['masks'][i], masks[i]), 4)))
        report['backends'][name] = s
    print(json.dumps(report, indent=2))
    for name, s in report['backends'].items():
        line = (f'{name}: tumor Dice {s["tumor_Dice"]:.2f}, IoU '
                f'{s["tumor_IoU"]:.2f}, ' +
                (f'accuracy {s["accuracy"]:.2f} ({s["wrong"]} wrong)'
                 if s['accuracy'] is not None else 'no image classes'))
        if 'against' in s:
            same_class = (f'same class {s["same_class"]}/{len(paths)}, '
                          if s['same_class'] is not None else '')
            line += (f'; against {s["against"]}: {same_class}mean box IoU '
                     f'{s["box_iou_mean"]:.4f}, mask Dice median '
                     f'{s["mask_dice_median"]:.4f}, min '
                     f'{s["mask_dice_min"]:.4f}; rule (Dice within '
                     f'{DICE_TOLERANCE}, accuracy within '
                     f'{ACCURACY_TOLERANCE_IMAGES} image): '
                     f'{"met" if s["meets_rule"] else "NOT met"}')
        print(line)
    if args.csv and rows:
        tmp = args.csv + '.tmp'
        with open(tmp, 'w', newline='') as f:
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        os.replace(tmp, args.csv)
    if args.json:
        write_json(report, args.json)
    if args.record:
        int8 = report['backends']['onnxruntime-int8']
        run = runs['onnxruntime-int8']
        if run['calibration_key'] is None:
            raise SystemExit('--record: the int8 file was not made here '
                             '(--calib-images/--num-calib, not a given file)')
        keys = ('tumor_Dice', 'tumor_IoU', 'accuracy', 'wrong', 'confusion')
        record = dict(
            checkpoint=osp.basename(args.checkpoint),
            checkpoint_sha256=file_sha256(args.checkpoint),
            config=args.config, dataset=report['dataset'],
            images=report['images'], settings=run['settings'],
            calibration_key=run['calibration_key'], rule=INT8_RULE,
            fp32={k: report['backends']['onnxruntime'][k] for k in keys},
            int8={k: int8[k] for k in keys},
            agreement={k: int8[k] for k in (
                'same_class', 'mask_dice_median', 'mask_dice_p05',
                'mask_dice_min', 'images_mask_dice_below_0.9',
                'max_abs_prob_diff')},
            meets_rule=int8['meets_rule'],
            cpu=cpu_model(), int8_kernels=int8_kernels(),
            command='python tools/analysis_tools/compare_backends.py '
            f'{args.config} {args.checkpoint} --backend onnxruntime '
            'onnxruntime-int8 --record')
        path = int8_record_path(args.checkpoint, int8_kernels())
        write_json(record, path)
        print(f'int8 validation record -> {path}')
    return report


def write_json(obj, path):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(obj, f, indent=2)
    os.replace(tmp, path)


if __name__ == '__main__':
    from mtnet_plugin.utils import exit_on_mismatch
    exit_on_mismatch(main)
