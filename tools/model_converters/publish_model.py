"""Strip a training checkpoint for release, the OpenMMLab way.

Keeps ``state_dict`` and a small ``meta`` (epoch, iter, mmengine version,
dataset meta), drops optimizer and message hub, writes to a temporary file
first and renames it to ``<out-stem>-<first 8 hex of sha256>.pth`` only when
complete (a killed run leaves no half-written checkpoint).

    python tools/model_converters/publish_model.py IN.pth OUT.pth
"""
import argparse
import hashlib
import os
import os.path as osp

import torch

import mtnet_plugin  # noqa: F401  (safe torch.load of mmengine checkpoints)

KEEP_META = ('epoch', 'iter', 'mmengine_version', 'dataset_meta', 'seed',
             'experiment_name', 'time')


def publish(in_file: str, out_file: str) -> str:
    ckpt = torch.load(in_file, map_location='cpu')
    meta = {k: v for k, v in ckpt.get('meta', {}).items() if k in KEEP_META}
    slim = dict(state_dict=ckpt['state_dict'], meta=meta)
    tmp = out_file + '.tmp'
    torch.save(slim, tmp)
    with open(tmp, 'rb') as f:
        sha = hashlib.sha256(f.read()).hexdigest()
    stem = osp.splitext(out_file)[0]
    final = f'{stem}-{sha[:8]}.pth'
    os.replace(tmp, final)
    return final


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('in_file')
    p.add_argument('out_file')
    args = p.parse_args()
    final = publish(args.in_file, args.out_file)
    print(f'published {final} ({osp.getsize(final) / 1e6:.2f} MB)')


if __name__ == '__main__':
    main()
