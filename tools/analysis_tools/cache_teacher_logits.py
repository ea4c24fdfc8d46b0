"""Run a distillation config's frozen teacher once over the training images
and keep its segmentation logits, so that training reads them instead of
running the teacher at every step.

    python tools/analysis_tools/cache_teacher_logits.py CONFIG \
        [--out FILE.npz] [--batch-size 16] [--threads N]

CONFIG is a ``DistillMultiTaskEncoderDecoder`` config whose training
pipeline has ``LoadTeacherLogits(cache_file=...)`` after its deterministic
head (``CachedCompose``: load and resize); the teacher sees exactly the
images that head produces, and its logits are written to that
``cache_file`` (or ``--out``): an ``.npz`` with ``logits`` (N, C, h, w)
float16 at the teacher's output size, ``names`` (image file names),
``input_size``, ``teacher_config`` and ``teacher_checkpoint``. Written to
a temporary name and renamed. ``LoadTeacherLogits`` then applies each
sample's own flip and rotation to them.

A list of teachers (``model.teacher = [dict(...), dict(...)]``) is cached
as their ensemble, as the live teachers would give it: the log of their
mean softmax at the finest teacher's resolution (``ensemble_logits``);
``teacher_config`` / ``teacher_checkpoint`` then join theirs with " + ".
A teacher with ``flip=True`` is cached as the mean softmax of each image
and its mirror (``run_teachers``); its config is then followed by
" (flip)".
"""
import argparse
import os
import os.path as osp
import time

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS

import mtnet_plugin  # noqa: F401  (registers the plugin's modules)
from mtnet_plugin.apis.inference import init_model
from mtnet_plugin.models.segmentors import DistillMultiTaskEncoderDecoder
from mtnet_plugin.utils.progress import progress


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('--out', help='default: the cache_file that the config\'s '
                   'LoadTeacherLogits names')
    p.add_argument('--batch-size', type=int, default=16)
    p.add_argument('--threads', type=int, default=None)
    return p.parse_args(argv)


def deterministic_head(pipeline: list) -> tuple:
    """(the transforms the teacher's images go through, the
    LoadTeacherLogits entry) of a training pipeline."""
    types = [t['type'] for t in pipeline]
    if 'LoadTeacherLogits' not in types:
        raise ValueError('the training pipeline has no LoadTeacherLogits: '
                         'nothing would read the cache')
    at = types.index('LoadTeacherLogits')
    head = []
    for t in pipeline[:at]:
        head += t['transforms'] if t['type'] == 'CachedCompose' else [t]
    random = [t['type'] for t in head if t['type'].startswith('Random') or
              t['type'] == 'PhotoMetricDistortion']
    if random:
        raise ValueError(f'{random} come before LoadTeacherLogits: the '
                         'cache must be of the deterministic head only')
    return head, pipeline[at]


def main(argv=None):
    args = parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    teacher_cfgs = DistillMultiTaskEncoderDecoder.teacher_configs(
        cfg.model.get('teacher'), args.config)
    dataset_cfg = cfg.train_dataloader.dataset
    head, loader = deterministic_head(dataset_cfg.pipeline)
    out = args.out or loader['cache_file']
    dataset_cfg = dict(dataset_cfg, pipeline=head +
                       [dict(type='PackMultiTaskInputs')])
    dataset = DATASETS.build(dataset_cfg)
    teachers = [init_model(t['config'], t['checkpoint'])
                for t in teacher_cfgs]
    teacher = teachers[0]  # its preprocessor (the student's: checked live)
    names, logits, input_size = [], [], None
    bar = progress(len(dataset), None, 'images')
    t0 = time.perf_counter()
    with torch.no_grad():
        for start in range(0, len(dataset), args.batch_size):
            batch = [dataset[i] for i in range(
                start, min(start + args.batch_size, len(dataset)))]
            data = teacher.data_preprocessor(pseudo_collate(batch), False)
            size = tuple(data['inputs'].shape[-2:])
            if input_size not in (None, size):
                raise ValueError(f'images of several sizes ({input_size}, '
                                 f'{size}): the head must resize them')
            input_size = size
            result = DistillMultiTaskEncoderDecoder.run_teachers(
                teachers, data['inputs'], [t['flip'] for t in teacher_cfgs])
            logits.append(result.half().numpy())
            names += [osp.basename(s.img_path) for s in data['data_samples']]
            bar.update(len(batch))
    if len(set(names)) != len(names):
        raise ValueError('two training images share a file name: the cache '
                         'is keyed by it')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = out[:-4] + '.part.npz'
    np.savez(
        tmp,
        logits=np.concatenate(logits),
        names=np.array(names),
        input_size=np.array(input_size),
        teacher_config=np.array(' + '.join(
            t['config'] + (' (flip)' if t['flip'] else '')
            for t in teacher_cfgs)),
        teacher_checkpoint=np.array(' + '.join(t['checkpoint']
                                               for t in teacher_cfgs)))
    os.replace(tmp, out)
    shape = np.concatenate(logits).shape
    print(f'{len(names)} images, logits {shape[1:]} each at input '
          f'{input_size[0]}x{input_size[1]}, in '
          f'{time.perf_counter() - t0:.0f} s: {out}')
    return out


if __name__ == '__main__':
    main()
