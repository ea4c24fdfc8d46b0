"""Test a checkpoint: every metric of both tasks, optional overlays.

    python tools/test.py CONFIG CHECKPOINT [--show-dir DIR] [--out FILE]

On a volume dataset (``MSDSliceDataset``) the metrics include the
per-volume ones (``volume_dice``, ``volume_error_ml``) and a per-case table
is printed; ``--out FILE.json`` writes the metrics and that table
(``cases``), ``--out FILE.csv`` the table alone (on 2D data: the metrics,
one per row).

A checkpoint that does not fit the config's model (another architecture,
other heads) stops the run with one error line and exit status 1, before
any metric is computed; the training-only auxiliary heads may be absent or
extra. ``--allow-partial`` keeps mmengine's lenient load instead.
"""
import argparse
import csv
import json
import logging
import numbers
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

import mtnet_plugin  # noqa: F401  (registers modules, safe checkpoints)
from mtnet_plugin.utils import (check_checkpoint_fits, exit_on_mismatch,
                                init_cpu_dist_if_needed)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a segmentor')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='where logs and metrics go')
    parser.add_argument(
        '--out',
        help='write the metrics (and checkpoint, config, the per-volume '
        'table of a volume dataset) as JSON; a .csv name writes the '
        'per-volume table (2D data: the metrics) as CSV')
    parser.add_argument(
        '--show-dir',
        help='write an overlay per image (mask outlines, true and predicted '
        'class with its probability) into this folder')
    parser.add_argument(
        '--tta',
        action='store_true',
        help='test-time augmentation: the config\'s tta_pipeline and '
        'tta_model')
    parser.add_argument(
        '--allow-partial',
        action='store_true',
        help='load a checkpoint that does not fit the model (mmengine\'s '
        'lenient load: what does not match keeps its initial weights)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override settings of the config, key=value')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main(argv=None):
    """Run the test; returns the metrics. A checkpoint that does not fit
    raises :class:`CheckpointMismatchError` (one line)."""
    args = parse_args(argv)
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.tta:
        if not cfg.get('tta_model') or not cfg.get('tta_pipeline'):
            raise ValueError(f'{args.config} has no tta_model/tta_pipeline '
                             'for --tta')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model
    if args.show_dir:
        cfg.custom_hooks = list(cfg.get('custom_hooks', [])) + [
            dict(type='TumorOverlayHook', out_dir=args.show_dir)
        ]
    init_cpu_dist_if_needed(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    if args.allow_partial:
        print_log(
            f'--allow-partial: {args.checkpoint} is loaded leniently; what '
            'does not fit the model keeps its initial weights',
            logger='current', level=logging.WARNING)
    else:
        check_checkpoint_fits(runner.model, args.checkpoint,
                              args.config)
    metrics = runner.test()
    width = max(len(k) for k in metrics)
    print('\n'.join(['Test metrics:'] + [
        f'  {k:<{width}}  {v}' if isinstance(v, numbers.Integral) else
        f'  {k:<{width}}  {float(v):.4f}' for k, v in metrics.items()
    ]))
    if args.show_dir:
        print(f'overlays written to {osp.abspath(args.show_dir)}')
    cases = next((m.per_case for m in runner.test_loop.evaluator.metrics
                  if getattr(m, 'per_case', None)), None)
    if args.out:
        write_out(args, metrics, cases)
    return metrics


def write_out(args, metrics: dict, cases) -> None:
    """``--out``: JSON (metrics, and the per-volume table as ``cases``), or
    CSV (the per-volume table; the metrics on 2D data). Written to a
    temporary name and renamed."""
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    if args.out.endswith('.csv') and cases:
        from mtnet_plugin.evaluation import VolumeDiceMetric
        VolumeDiceMetric.write_table(cases, args.out)
        return
    tmp = args.out + '.part'
    with open(tmp, 'w', newline='') as f:
        if args.out.endswith('.csv'):
            writer = csv.writer(f)
            writer.writerow(['metric', 'value'])
            writer.writerows((k, float(v)) for k, v in metrics.items())
        else:
            out = dict(
                config=args.config,
                checkpoint=args.checkpoint,
                metrics={k: float(v) for k, v in metrics.items()})
            if cases:
                out['cases'] = cases
            json.dump(out, f, indent=2)
    os.replace(tmp, args.out)


if __name__ == '__main__':
    exit_on_mismatch(main)
