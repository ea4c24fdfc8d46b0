"""Strip a training checkpoint for release, the OpenMMLab way.

Keeps ``state_dict`` (with mmengine's ``EMAHook`` that is the averaged
model) and a small ``meta`` (epoch, iter, seed, mmengine version, dataset
meta, plus the ``config`` and git ``commit`` that produced it), drops
optimizer, EMA copy and message hub, writes to a temporary file first and
renames it to ``<out-stem>-<first 8 hex of sha256>.pth`` only when complete
(a killed run leaves no half-written checkpoint).

    python tools/model_converters/publish_model.py IN.pth OUT.pth \
        --config configs/efficient_mtnet/efficient_mtnet_1xb8-jitter-45e_brain-tumor-320x320.py --commit b0bcdfd
"""
import argparse
import hashlib
import os
import os.path as osp
import subprocess

import torch

import mtnet_plugin  # noqa: F401  (safe torch.load of mmengine checkpoints)

KEEP_META = ('epoch', 'iter', 'mmengine_version', 'dataset_meta', 'seed',
             'experiment_name', 'time', 'calibration')


def git_commit() -> str:
    """The checkout's HEAD, or 'unknown' outside a git checkout."""
    try:
        return subprocess.run(
            ['git', 'rev-parse', 'HEAD'], capture_output=True, text=True,
            check=True, cwd=osp.dirname(osp.abspath(__file__))).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return 'unknown'


def publish(in_file: str, out_file: str, config: str = None,
            commit: str = None) -> str:
    ckpt = torch.load(in_file, map_location='cpu')
    meta = {k: v for k, v in ckpt.get('meta', {}).items() if k in KEEP_META}
    if config is not None:
        meta['config'] = config
    meta['commit'] = commit or git_commit()
    slim = dict(state_dict=ckpt['state_dict'], meta=meta)
    os.makedirs(osp.dirname(osp.abspath(out_file)), exist_ok=True)
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
    p.add_argument('--config', help='the config that trained it (stored in '
                   'meta, relative to the repository)')
    p.add_argument('--commit', help='the commit that trained it (default: '
                   'the current HEAD)')
    args = p.parse_args()
    final = publish(args.in_file, args.out_file, args.config, args.commit)
    print(f'published {final} ({osp.getsize(final) / 1e6:.2f} MB)')


if __name__ == '__main__':
    main()
