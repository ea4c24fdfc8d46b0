"""Train a (multi-task) segmentor: mmseg's tools/train.py, plus CPU
distributed training (gloo) and the plugin's checkpoint safety.

    python tools/train.py configs/efficient_mtnet_640.py
    python tools/train.py CONFIG --work-dir work_dirs/x --resume
    torchrun --nproc_per_node=2 tools/train.py CONFIG --launcher pytorch
"""
import argparse
import os
import os.path as osp

import torch
from mmengine.config import Config, DictAction
from mmengine.logging import print_log
from mmengine.runner import Runner

import mtnet_plugin  # noqa: F401  (registers modules, safe checkpoints)
from mtnet_plugin.utils import (checkpoint_mismatches, describe_mismatches,
                                init_cpu_dist_if_needed, read_state_dict)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a segmentor')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume',
        action='store_true',
        default=False,
        help='resume from the latest checkpoint in the work_dir')
    parser.add_argument(
        '--amp',
        action='store_true',
        default=False,
        help='automatic mixed precision (needs a GPU)')
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
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def log_load_from_summary(model, checkpoint):
    """One line on how ``load_from`` (fine-tuning) fits the model; the load
    itself stays mmengine's lenient one."""
    mismatches = checkpoint_mismatches(model, read_state_dict(checkpoint)[0],
                                       ignore_prefixes=())
    summary = describe_mismatches(mismatches)
    print_log(
        f'load_from {checkpoint}: ' +
        (f'loaded leniently, {summary}' if summary else 'fits the model'),
        logger='current')


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir', None) is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        # mmengine's AmpOptimWrapper asserts a CUDA-like device
        if not torch.cuda.is_available():
            raise SystemExit('--amp needs a GPU')
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    cfg.resume = args.resume
    init_cpu_dist_if_needed(cfg, args.launcher)

    runner = Runner.from_cfg(cfg)
    if cfg.get('load_from') and not cfg.resume:
        log_load_from_summary(runner.model, cfg.load_from)
    runner.train()
    rank = int(os.environ.get('RANK', 0))
    print(f'[rank {rank}] training finished at iteration {runner.iter}',
          flush=True)
    # leave the process group before the interpreter tears down its
    # threads: a gloo group left to exit handlers can abort a rank at exit
    # ("terminate called without an active exception")
    if torch.distributed.is_available() and \
            torch.distributed.is_initialized():
        torch.distributed.barrier()
        torch.distributed.destroy_process_group()


if __name__ == '__main__':
    main()
