"""Plot a run's validation tumor Dice and training loss per epoch.

Reads the ``vis_data/scalars.json`` that mmengine's ``LocalVisBackend``
writes in ``WORK_DIR/<timestamp>/`` (one JSON line per logged training
iteration and one per validation) and draws one PNG with the mean training
loss per epoch and the validation ``--metric`` (default tumor_Dice). A run
resumed with ``--resume`` writes one file per start: give them in order; an
epoch found in a later file replaces the same epoch of an earlier one (the
epochs after the last checkpoint are trained again).

    python tools/analysis_tools/plot_training_curve.py \
        work_dirs/efficient_mtnet_1xb8-jitter-45e_brain-tumor-320x320/20261129_003157/vis_data/scalars.json \
        --out docs/efficient_mtnet_320_2core_curve.png
"""
import argparse
import json
from collections import defaultdict

import matplotlib

matplotlib.use('Agg')
import matplotlib.pyplot as plt  # noqa: E402


def read_curves(paths, metric='tumor_Dice'):
    """Returns ({epoch: mean training loss}, {epoch: validation metric}).

    ``paths`` is one ``scalars.json`` or several of one run in the order
    they were written; an epoch in a later file replaces the earlier one's.
    """
    if isinstance(paths, str):
        paths = [paths]
    loss, val = {}, {}
    for path in paths:
        losses, vals = defaultdict(list), {}
        with open(path) as f:
            for line in f:
                rec = json.loads(line)
                if metric in rec:
                    vals[int(rec['step'])] = float(rec[metric])
                elif 'loss' in rec and 'epoch' in rec:
                    losses[int(rec['epoch'])].append(float(rec['loss']))
        loss.update({e: sum(v) / len(v) for e, v in losses.items()})
        val.update(vals)
    return dict(sorted(loss.items())), dict(sorted(val.items()))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('scalars', nargs='+',
                   help='vis_data/scalars.json of a run (several, in order, '
                   'for a resumed run)')
    p.add_argument('--out', required=True, help='PNG to write')
    p.add_argument('--metric', default='tumor_Dice')
    p.add_argument('--title', default=None)
    args = p.parse_args()
    loss, val = read_curves(args.scalars, args.metric)
    fig, ax1 = plt.subplots(figsize=(7, 4), dpi=120)
    ax1.plot(list(val), list(val.values()), 'o-', color='tab:red',
             label=f'valid {args.metric}')
    ax1.set_xlabel('epoch')
    ax1.set_ylabel(f'valid {args.metric} (%)', color='tab:red')
    ax1.grid(alpha=0.3)
    for e, v in val.items():
        if e == max(val, key=val.get):
            ax1.annotate(f'{v:.2f}', (e, v), textcoords='offset points',
                         xytext=(-10, 8))
    ax2 = ax1.twinx()
    ax2.plot(list(loss), list(loss.values()), '-', color='tab:blue',
             label='training loss (epoch mean)')
    ax2.set_ylabel('training loss', color='tab:blue')
    fig.legend(loc='center right', bbox_to_anchor=(0.88, 0.5))
    ax1.set_title(args.title or args.scalars[-1])
    fig.tight_layout()
    fig.savefig(args.out)
    print(f'wrote {args.out}: {len(val)} validations, best {args.metric} '
          f'{max(val.values()):.2f} at epoch {max(val, key=val.get)}')


if __name__ == '__main__':
    main()
