"""Fit the temperature of the class logits on valid/ and store it with the
weights (temperature scaling, Guo et al. 2017).

    python tools/analysis_tools/calibrate_temperature.py CONFIG CHECKPOINT \
        --out checkpoints/efficient_mtnet_320_brain_tumor.pth \
        [--plot docs/reliability_diagram.png] [--tta] [--json FILE]

Runs the model over the config's val_dataloader dataset (valid/) at T = 1,
fits the T that minimises the negative log-likelihood of the true class
(a 1-D search over log T; the argmax, hence the accuracy, does not change),
and reports ECE (10 bins), NLL and the share of images at >= 0.999, before
and after. Since T is fitted and measured on the same images, it also
reports a 2-fold cross-fit ECE (T fitted on one half, measured on the
other). The output checkpoint holds the buffer ``cls_temperature`` (every
backend applies it: ``MultiTaskEncoderDecoder.classify``, hence the ONNX
export) and ``meta['calibration']``; it is written like
``publish_model.py`` writes (temporary file, ``<stem>-<sha8>.pth``), with
``meta['config']`` set to CONFIG and the training commit kept.
"""
import argparse
import importlib.util
import json
import os
import os.path as osp

import numpy as np
import torch
from mmengine.config import Config

from mtnet_plugin.apis import TumorInferencer
from mtnet_plugin.evaluation.metrics.calibration_error import (
    calibration_bins, expected_calibration_error)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


def nll(log_probs: np.ndarray, labels: np.ndarray, t: float) -> float:
    z = log_probs / t
    z = z - z.max(1, keepdims=True)
    logp = z - np.log(np.exp(z).sum(1, keepdims=True))
    return float(-logp[np.arange(len(labels)), labels].mean())


def fit_temperature(log_probs: np.ndarray, labels: np.ndarray) -> float:
    """argmin over T of the NLL: a log-spaced grid on [0.05, 50], then a
    finer one around the best point (deterministic, no optimiser state)."""
    grid = np.exp(np.linspace(np.log(0.05), np.log(50), 801))
    best = grid[int(np.argmin([nll(log_probs, labels, t) for t in grid]))]
    fine = best * np.exp(np.linspace(-0.01, 0.01, 201))
    return float(fine[int(np.argmin([nll(log_probs, labels, t)
                                      for t in fine]))])


def scaled(log_probs: np.ndarray, t: float) -> np.ndarray:
    z = log_probs / t
    z = np.exp(z - z.max(1, keepdims=True))
    return z / z.sum(1, keepdims=True)


def summary(probs: np.ndarray, labels: np.ndarray) -> dict:
    conf, pred = probs.max(1), probs.argmax(1)
    p_true = np.clip(probs[np.arange(len(labels)), labels], 1e-12, 1)
    return dict(
        ECE=round(expected_calibration_error(conf, pred == labels), 5),
        NLL=round(float(-np.log(p_true).mean()), 5),
        overconfident_pct=round(100 * float((conf >= 0.999).mean()), 2),
        accuracy=round(100 * float((pred == labels).mean()), 2),
        wrong_conf=[round(float(c), 4) for c in conf[pred != labels]])


def cross_fit(log_probs, labels) -> dict:
    """ECE and NLL of the pooled held-out halves: T fitted on even-indexed
    images scores the odd ones, and vice versa."""
    idx = np.arange(len(labels))
    probs = np.zeros_like(log_probs)
    for fit, held in ((idx % 2 == 0, idx % 2 == 1),
                      (idx % 2 == 1, idx % 2 == 0)):
        t = fit_temperature(log_probs[fit], labels[fit])
        probs[held] = scaled(log_probs[held], t)
    res = summary(probs, labels)
    return dict(ECE=res['ECE'], NLL=res['NLL'])


def reliability_diagram(before, after, labels, out: str, t: float):
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fig, axes = plt.subplots(1, 2, figsize=(9, 4.2), sharey=True)
    for ax, probs, title in ((axes[0], before, 'T = 1 (as trained)'),
                             (axes[1], after, f'T = {t:.3f} (fitted)')):
        conf, pred = probs.max(1), probs.argmax(1)
        count, mconf, acc = calibration_bins(conf, pred == labels)
        centres = (np.arange(10) + 0.5) / 10
        keep = count > 0
        ax.bar(centres[keep], acc[keep], width=0.1, edgecolor='k',
               color='#4c72b0', label='accuracy')
        ax.bar(centres[keep], mconf[keep] - acc[keep], bottom=acc[keep],
               width=0.1, edgecolor='r', color='none', hatch='//',
               label='gap to confidence')
        ax.plot([0, 1], [0, 1], 'k--', lw=1)
        for c, n, a in zip(centres[keep], count[keep], acc[keep]):
            ax.text(c, min(a, 0.95) + 0.02, str(int(n)), ha='center',
                    fontsize=7)
        ece = expected_calibration_error(conf, pred == labels)
        ax.set_title(f'{title}: ECE {ece:.4f}')
        ax.set_xlabel('top-1 probability (bin; n above)')
        ax.set_xlim(0.4, 1.0)
    axes[0].set_ylabel('accuracy in bin')
    axes[0].legend(loc='upper left', fontsize=8)
    fig.suptitle('valid/, 429 images: image-class reliability', fontsize=10)
    fig.tight_layout()
    tmp = out + '.tmp.png'
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, out)


def load_publisher():
    spec = importlib.util.spec_from_file_location(
        'publish_model',
        osp.join(REPO, 'tools', 'model_converters', 'publish_model.py'))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out', help='calibrated checkpoint: OUT stem + sha8')
    p.add_argument('--plot', help='reliability diagram PNG')
    p.add_argument('--json', help='write the figures as JSON')
    p.add_argument('--tta', action='store_true',
                   help='fit on the flip-TTA probabilities (what '
                   'tools/test.py --tta and TumorInferencer(tta=True) give)')
    p.add_argument('--batch-size', type=int, default=8)
    args = p.parse_args(argv)

    cfg = Config.fromfile(args.config)
    inferencer = TumorInferencer(cfg, args.checkpoint, backend='pytorch',
                                 tta=args.tta)
    model = inferencer.model
    old_t = float(model.cls_temperature)
    model.cls_temperature.fill_(1.0)  # raw logits
    from mmseg.registry import DATASETS
    ds = DATASETS.build(dict(cfg.val_dataloader.dataset, pipeline=[]))
    infos = [ds.get_data_info(i) for i in range(len(ds))]
    labels = np.array([int(i['gt_label']) for i in infos])
    probs = np.array([
        r['class_probs'] for r in inferencer.iter_results(
            [i['img_path'] for i in infos], args.batch_size)
    ], dtype=np.float64)
    log_probs = np.log(np.clip(probs, 1e-300, 1))
    t = fit_temperature(log_probs, labels)
    after = scaled(log_probs, t)
    report = dict(
        config=args.config, checkpoint=args.checkpoint,
        dataset=cfg.val_dataloader.dataset.get('ann_file'),
        images=len(labels), tta=args.tta, temperature=round(t, 4),
        previous_temperature=old_t, before=summary(probs, labels),
        after=summary(after, labels),
        after_cross_fit=cross_fit(log_probs, labels))
    print(json.dumps(report, indent=2))
    if args.plot:
        reliability_diagram(probs, after, labels, args.plot, t)
        print(f'reliability diagram -> {args.plot}')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=2)
    if args.out:
        ckpt = torch.load(args.checkpoint, map_location='cpu')
        ckpt['state_dict']['cls_temperature'] = torch.tensor(t)
        meta = ckpt.setdefault('meta', {})
        meta['calibration'] = {
            k: report[k] for k in ('temperature', 'dataset', 'images', 'tta')
        }
        meta['calibration'].update(
            ECE_before=report['before']['ECE'],
            ECE_after=report['after']['ECE'],
            ECE_after_cross_fit=report['after_cross_fit']['ECE'])
        os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
        tmp = args.out + '.calibrating.pth'
        torch.save(ckpt, tmp)
        try:
            # meta names the config given here (the weights' config), and
            # keeps the commit that trained them
            config = osp.abspath(args.config)
            if config.startswith(REPO + os.sep):
                config = osp.relpath(config, REPO)
            final = load_publisher().publish(tmp, args.out, config,
                                             meta.get('commit'))
        finally:
            if osp.exists(tmp):
                os.remove(tmp)
        print(f'calibrated checkpoint -> {final}')
    return report


if __name__ == '__main__':
    from mtnet_plugin.utils import exit_on_mismatch
    exit_on_mismatch(main)
