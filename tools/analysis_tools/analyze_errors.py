"""Where a checkpoint's tumor Dice goes, on a labelled split: missed
lesions, boundaries of found ones, blobs elsewhere; by lesion size and by
image class.

    python tools/analysis_tools/analyze_errors.py CONFIG CHECKPOINT \
        [--split valid|train] [--tta] [--backend pytorch] \
        [--csv per_image.csv] [--json breakdown.json]

The split is read through the config's ``val_dataloader`` dataset with its
``ann_file`` and image folder set to ``<split>/``; ``--split train``
measures how much of the valid/ gap is over-fitting (eval mode, no
augmentation, the same decoding). The kinds of error and the "Dice
without" ceilings are defined in :mod:`mtnet_plugin.evaluation.
error_breakdown`. Tumor Dice is the tumor class alone, areas summed over
the split as mmseg does.
"""
import argparse
import csv
import importlib.util
import json
import os
import os.path as osp

from mmengine.config import DictAction

from mtnet_plugin.apis import TumorInferencer
from mtnet_plugin.evaluation.error_breakdown import (KINDS, image_errors,
                                                     resolution_ceiling,
                                                     summarize)

_spec = importlib.util.spec_from_file_location(
    'compare_backends', osp.join(osp.dirname(__file__),
                                 'compare_backends.py'))
_cmp = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_cmp)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument(
        '--split',
        help='folder of the export to read (valid, train); default: the '
        "config's val_dataloader as it is")
    p.add_argument('--backend', default='pytorch')
    p.add_argument('--tta', action='store_true',
                   help='flip test-time augmentation (as tools/test.py)')
    p.add_argument('--threads', type=int)
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--size-edges', type=int, nargs='+',
                   default=[5000, 15000],
                   help='lesion areas (px) cutting the per-size table')
    p.add_argument(
        '--label-ceiling', type=int, nargs='+', default=[],
        metavar='SIZE',
        help='also score the labels after a round trip through a SIZE x '
        'SIZE map (e.g. 80: the decode head\'s 1/4 of a 320 input)')
    p.add_argument('--csv', help='per-image table')
    p.add_argument('--json', help='the breakdown as JSON')
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    cfg = _cmp.setup(args)
    if args.split:
        ds = cfg.val_dataloader.dataset
        ds.ann_file = f'{args.split}/_annotations.coco.json'
        ds.data_prefix = dict(img_path=args.split)
    paths, masks, labels = _cmp.ground_truth(cfg)
    inferencer = TumorInferencer(
        cfg, args.checkpoint, backend=args.backend, tta=args.tta)
    rows = []
    for path, gt, label, res in zip(
            paths, masks, labels,
            inferencer.iter_results(paths, args.batch_size)):
        classifies = res['class_index'] is not None  # not an mmseg peer
        row = dict(image=osp.basename(path), label=int(label),
                   pred_class=int(res['class_index']) if classifies else None,
                   class_prob=round(max(res['class_probs']), 4)
                   if classifies else None)
        row.update(image_errors(res['mask'] == 1, gt))
        rows.append(row)
    report = summarize(rows, args.size_edges)
    classified = [r for r in rows if r['pred_class'] is not None]
    wrong = sum(r['label'] != r['pred_class'] for r in classified)
    by_class = {}  # per image class (the export's category): its recall
    for c in sorted({r['label'] for r in classified}):
        of_c = [r for r in classified if r['label'] == c]
        missed = sum(r['pred_class'] != c for r in of_c)
        by_class[str(c)] = dict(
            images=len(of_c), wrong=missed,
            accuracy=round(100.0 * (1 - missed / len(of_c)), 2))
    report.update(
        config=args.config, checkpoint=args.checkpoint,
        dataset=cfg.val_dataloader.dataset.ann_file, tta=args.tta,
        accuracy=round(100.0 * (1 - wrong / len(classified)), 2)
        if classified else None,
        wrong=wrong if classified else None,
        accuracy_by_class=by_class or None,
        label_ceiling={
            str(n): round(resolution_ceiling(masks, n), 2)
            for n in args.label_ceiling
        })
    print(json.dumps(report, indent=2))
    print(f'tumor Dice {report["tumor_Dice"]:.2f} on {len(rows)} images '
          f'({report["missed"]} lesions missed, {report["missed_empty"]} of '
          'them with an empty mask; '
          f'{report["multi_component"]} masks in several pieces); '
          'error pixels: ' +
          ', '.join(f'{k} {report["error_share"][k]:.1f}%' for k in KINDS) +
          '; Dice without each: ' +
          ', '.join(f'{k} {report["dice_without"][k]:.2f}' for k in KINDS) +
          f'; found lesions fill {report["box_fill_median"]} of their '
          'predicted box (median)' + ''.join(
              f'; labels through {n}x{n}: {d:.2f}'
              for n, d in report['label_ceiling'].items()) + ''.join(
              f'; class {c}: {v["accuracy"]:.2f} % right ({v["wrong"]} of '
              f'{v["images"]} wrong)'
              for c, v in (report['accuracy_by_class'] or {}).items()))
    if args.json:
        _atomic_write(args.json, lambda f: json.dump(report, f, indent=2))
    if args.csv and rows:
        def write_csv(f):  # smallest lesions first
            w = csv.DictWriter(f, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(sorted(rows, key=lambda r: r['gt_px']))
        _atomic_write(args.csv, write_csv)
    return report


def _atomic_write(path, write):
    tmp = path + '.tmp'
    with open(tmp, 'w', newline='') as f:
        write(f)
    os.replace(tmp, path)


if __name__ == '__main__':
    from mtnet_plugin.utils import exit_on_mismatch
    exit_on_mismatch(main)
