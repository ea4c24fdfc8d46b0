"""Score a distillation config's teachers, alone and as the ensemble the
student learns from, on a labelled split.

    python tools/analysis_tools/score_teachers.py CONFIG \
        [--split valid] [--batch-size 8] [--threads N] [--json out.json]

CONFIG is a ``DistillMultiTaskEncoderDecoder`` config whose
``model.teacher`` is one teacher or a list. Each teacher runs its own
``predict`` (its logits resized to each image's original size, as
``tools/test.py`` scores it) over the split, read through CONFIG's
``val_dataloader`` with its ``ann_file`` and image folder set to
``<split>/``. The ensemble is the mean of the teachers' softmax (what
``ensemble_logits`` gives the student). Printed per model: the tumor class
alone (Dice, IoU; areas summed over the split, as mmseg does) beside the
mean Dice that includes the background. A teacher with ``flip=True`` is
scored as the student would learn from it: the mean softmax of each image
and its mirror.
"""
import argparse
import json
import os.path as osp

import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import Runner

import mtnet_plugin  # noqa: F401  (registers the plugin's modules)
from mtnet_plugin.apis.inference import init_model
from mtnet_plugin.models.segmentors import DistillMultiTaskEncoderDecoder
from mtnet_plugin.models.utils import ensemble_logits
from mtnet_plugin.utils.progress import progress


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--split', default=None,
                   help="folder of the export (valid, train); default: the "
                   "config's val_dataloader as it is")
    p.add_argument('--batch-size', type=int, default=8)
    p.add_argument('--threads', type=int, default=None)
    p.add_argument('--json', default=None, help='write the scores here')
    return p.parse_args(argv)


def _scores(inter, pred, gt) -> dict:
    """Dice and IoU (percent) per class from summed areas (C, )."""
    dice = 200 * inter / (pred + gt).clamp_min(1)
    iou = 100 * inter / (pred + gt - inter).clamp_min(1)
    return dict(tumor_Dice=round(float(dice[1]), 2),
                tumor_IoU=round(float(iou[1]), 2),
                mDice=round(float(dice.mean()), 2))


def predict_logits(teacher, batch: dict, flip: bool = False) -> list:
    """Per image, the teacher's segmentation logits (C, H, W) at its
    original size (``predict``); with ``flip`` the log of the mean softmax
    of the image and its mirror, whose logits are mirrored back."""
    logits = [r.seg_logits.data
              for r in teacher.predict(batch['inputs'],
                                       batch['data_samples'])]
    if not flip:
        return logits
    for sample in batch['data_samples']:
        if tuple(sample.img_shape) != tuple(batch['inputs'].shape[-2:]):
            raise ValueError(
                f'{sample.img_path}: flip needs unpadded inputs (image '
                f'{tuple(sample.img_shape)}, batch '
                f'{tuple(batch["inputs"].shape[-2:])})')
    mirrored = teacher.predict(batch['inputs'].flip(-1),
                               batch['data_samples'])
    return [ensemble_logits([a[None], r.seg_logits.data.flip(-1)[None]])[0]
            for a, r in zip(logits, mirrored)]


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    teacher_cfgs = DistillMultiTaskEncoderDecoder.teacher_configs(
        cfg.model.get('teacher'), args.config)
    names = [osp.splitext(osp.basename(t['checkpoint']))[0] +
             (' (flip)' if t['flip'] else '') for t in teacher_cfgs]
    teachers = [init_model(t['config'], t['checkpoint'])
                for t in teacher_cfgs]
    loader_cfg = cfg.val_dataloader.copy()
    loader_cfg.update(batch_size=args.batch_size, num_workers=0,
                      persistent_workers=False)
    if args.split:
        loader_cfg.dataset.update(
            ann_file=f'{args.split}/_annotations.coco.json',
            data_prefix=dict(img_path=args.split))
    loader = Runner.build_dataloader(loader_cfg)
    keys = names + (['ensemble'] if len(teachers) > 1 else [])
    num_classes = None
    sums = {}
    bar = progress(len(loader.dataset), None, 'images')
    with torch.no_grad():
        for data in loader:
            per_model = []
            for teacher, t in zip(teachers, teacher_cfgs):
                batch = teacher.data_preprocessor(data, False)
                per_model.append(predict_logits(teacher, batch, t['flip']))
            for i, sample in enumerate(data['data_samples']):
                gt = sample.gt_sem_seg.data[0].long()
                logits = [m[i] for m in per_model]
                if num_classes is None:
                    num_classes = logits[0].shape[0]
                    sums = {k: torch.zeros(3, num_classes, dtype=torch.float64)
                            for k in keys}
                preds = [x.argmax(0) for x in logits]
                if len(teachers) > 1:
                    preds.append(ensemble_logits(
                        [x[None] for x in logits])[0].argmax(0))
                valid = gt != 255
                for key, pred in zip(keys, preds):
                    for c in range(num_classes):
                        p, g = (pred == c) & valid, (gt == c) & valid
                        sums[key][:, c] += torch.tensor(
                            [(p & g).sum(), p.sum(), g.sum()],
                            dtype=torch.float64)
            bar.update(len(data['data_samples']))
    scores = {k: _scores(*sums[k]) for k in keys}
    for key in keys:
        s = scores[key]
        print(f'{key}: tumor Dice {s["tumor_Dice"]:.2f}, IoU '
              f'{s["tumor_IoU"]:.2f} (mDice with the background '
              f'{s["mDice"]:.2f})')
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(dict(split=args.split, images=len(loader.dataset),
                           teachers=teacher_cfgs, scores=scores), f,
                      indent=2)
    return scores


if __name__ == '__main__':
    main()
