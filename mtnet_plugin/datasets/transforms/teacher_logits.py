"""A frozen teacher's segmentation logits, computed once, as a map that
moves with the image."""
import os.path as osp
from typing import Optional

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmseg.registry import TRANSFORMS

CACHE_TOOL = 'tools/analysis_tools/cache_teacher_logits.py'


def load_teacher_cache(cache_file: str) -> dict:
    """The cache written by ``tools/analysis_tools/cache_teacher_logits.py``:
    ``logits`` (N, C, h, w) float16, ``index`` {image file name: row},
    ``input_size`` (H, W) of the images the teacher saw, and its
    ``teacher_config`` / ``teacher_checkpoint``."""
    if not osp.isfile(cache_file):
        raise FileNotFoundError(
            f'teacher logits cache not found: {cache_file}; write it once '
            f'with python {CACHE_TOOL} CONFIG (the config whose '
            'LoadTeacherLogits names this file)')
    with np.load(cache_file, allow_pickle=False) as z:
        names = [str(n) for n in z['names']]
        return dict(
            logits=z['logits'],
            index={n: i for i, n in enumerate(names)},
            input_size=tuple(int(v) for v in z['input_size']),
            teacher_config=str(z['teacher_config']),
            teacher_checkpoint=str(z['teacher_checkpoint']))


@TRANSFORMS.register_module()
class LoadTeacherLogits(BaseTransform):
    """Add a frozen teacher's segmentation logits of this image, read from a
    cache, as a (H, W, C) float32 map on the image's grid.

    Put it after the pipeline's deterministic head (load, resize: the
    images the cache was computed on) and before the geometric
    augmentation: the map joins ``seg_fields``, so ``RandomFlip`` and
    ``RandomRotate`` move it with the image (rotation pads it with
    ``seg_pad_val``, 0: equal logits, no preference where the image is
    padded). Photometric changes do not touch it: the targets are the
    teacher's answer on the undistorted image. ``PackMultiTaskInputs``
    packs it as the sample's ``teacher_logits``, which
    :class:`~mtnet_plugin.models.DistillMultiTaskEncoderDecoder` uses
    instead of running the teacher.

    The cache (``tools/analysis_tools/cache_teacher_logits.py CONFIG``)
    holds the teacher's logits at its own output size (DDRNet: 1/8 of the
    input), keyed by image file name; they are resized (bilinear) to the
    image here. Read once per process.

    Required keys: ``img_path``, ``img_shape``. Added keys:
    ``teacher_logits`` (H, W, C) float32, ``seg_fields``.

    Args:
        cache_file (str): The cache.

    Raises:
        KeyError: naming the image and the cache, for an image the cache
            has no logits for (a cache of another dataset or split).
        ValueError: when the image's size is not the one the teacher saw.
    """

    def __init__(self, cache_file: str):
        self.cache_file = cache_file
        self._cache: Optional[dict] = None

    def transform(self, results: dict) -> dict:
        if self._cache is None:
            self._cache = load_teacher_cache(self.cache_file)
        cache = self._cache
        name = osp.basename(results['img_path'])
        row = cache['index'].get(name)
        if row is None:
            raise KeyError(
                f'{self.cache_file} has no teacher logits for {name} '
                f'({results["img_path"]}); rewrite it with python '
                f'{CACHE_TOOL} CONFIG')
        h, w = results['img_shape'][:2]
        if (h, w) != cache['input_size']:
            raise ValueError(
                f'{results["img_path"]} is {h}x{w} here but the teacher '
                f'logits in {self.cache_file} are of {cache["input_size"]} '
                'images: put LoadTeacherLogits right after the resize')
        logits = cache['logits'][row].astype(np.float32).transpose(1, 2, 0)
        resized = cv2.resize(logits, (w, h), interpolation=cv2.INTER_LINEAR)
        results['teacher_logits'] = resized.reshape(h, w, logits.shape[2])
        results.setdefault('seg_fields', [])
        if 'teacher_logits' not in results['seg_fields']:
            results['seg_fields'].append('teacher_logits')
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(cache_file={self.cache_file!r})'
