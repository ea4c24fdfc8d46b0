"""Segment and classify images: an overlay per image and one JSON file.

    python tools/infer.py IMAGE_OR_DIR --config CONFIG --checkpoint CKPT \
        --out-dir work_dirs/infer [--device cuda] [--jsonl]

Unreadable files are reported and skipped; the run goes on.
"""
import argparse
import json
import os
import os.path as osp
import sys

import cv2
from mmengine.utils import ProgressBar

from mtnet_plugin.apis import TumorInferencer
from mtnet_plugin.engine.hooks import draw_overlay


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('inputs', help='an image file or a folder of images')
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--device', default='cpu')
    p.add_argument('--jsonl', action='store_true',
                   help='write results.jsonl (one line per image) instead '
                   'of results.json')
    return p.parse_args()


def main():
    args = parse_args()
    inferencer = TumorInferencer(args.config, args.checkpoint, args.device)
    os.makedirs(args.out_dir, exist_ok=True)
    files = TumorInferencer.list_images(args.inputs) if osp.isdir(
        args.inputs) else [args.inputs]
    records, failed = [], []
    bar = ProgressBar(len(files)) if len(files) > 1 else None
    for path in files:
        try:
            (res, ) = inferencer(path)
        except Exception as e:  # unreadable or undecodable: skip, report
            failed.append(dict(path=path, error=str(e)))
            print(f'\nskipped {path}: {e}', file=sys.stderr)
        else:
            img = cv2.imread(path, cv2.IMREAD_COLOR)
            overlay = draw_overlay(
                img, res['mask'], None, res['class_index'],
                res['class_probs'][res['class_index']],
                class_names=inferencer.cls_classes)
            name = osp.splitext(osp.basename(path))[0] + '_overlay.png'
            cv2.imwrite(osp.join(args.out_dir, name), overlay)
            res = {k: v for k, v in res.items() if k != 'mask'}
            res['overlay'] = name
            records.append(res)
        if bar is not None:
            bar.update()
    if args.jsonl:
        out = osp.join(args.out_dir, 'results.jsonl')
        with open(out, 'w') as f:
            for r in records:
                f.write(json.dumps(r) + '\n')
    else:
        out = osp.join(args.out_dir, 'results.json')
        with open(out, 'w') as f:
            json.dump(dict(results=records, skipped=failed), f, indent=2)
    print(f'\n{len(records)} images done, {len(failed)} skipped; results in '
          f'{out}')


if __name__ == '__main__':
    main()
