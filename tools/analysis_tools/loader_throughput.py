"""Images per second through a config's data pipeline, on one core.

Runs ``dataset[i]`` (file read, decode, mask rasterisation, augmentation,
packing) in the main process with OpenCV and torch limited to one thread,
i.e. what one dataloader worker delivers; prints the median of ``--runs``.

    python tools/analysis_tools/loader_throughput.py \
        configs/efficient_mtnet_640.py --split train --num 200
"""
import argparse
import logging
import time

import cv2
import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--split', choices=['train', 'val', 'test'],
                   default='train')
    p.add_argument('--num', type=int, default=200, help='images per run')
    p.add_argument('--runs', type=int, default=3)
    p.add_argument('--cfg-options', nargs='+', action=DictAction)
    return p.parse_args()


def main():
    args = parse_args()
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    import mtnet_plugin  # noqa: F401
    cv2.setNumThreads(1)
    torch.set_num_threads(1)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    t0 = time.perf_counter()
    dataset = DATASETS.build(cfg[f'{args.split}_dataloader'].dataset)
    build_s = time.perf_counter() - t0
    n = min(args.num, len(dataset))
    rates = []
    for r in range(args.runs):
        idx = np.random.default_rng(r).permutation(len(dataset))[:n]
        t0 = time.perf_counter()
        for i in idx:
            dataset[int(i)]
        rates.append(n / (time.perf_counter() - t0))
    print(f'{args.split} dataset: {len(dataset)} images, built in '
          f'{build_s:.2f} s')
    print(f'pipeline throughput on one core: median {np.median(rates):.1f} '
          f'images/s over {args.runs} runs of {n} images '
          f'(runs: {", ".join(f"{x:.1f}" for x in rates)})')


if __name__ == '__main__':
    main()
