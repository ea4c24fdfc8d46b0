"""Cache the output of a deterministic pipeline prefix in memory."""
import copy
from typing import List, Optional

import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class CachedCompose(BaseTransform):
    """Run ``transforms`` once per image and serve later calls from memory.

    Meant for the deterministic head of a training pipeline: load, decode,
    rasterise the annotation and resize to the training size. Everything
    random (flip, rotation, photometric distortion, crops) stays after it in
    the config, so every epoch still sees fresh augmentation. At 320x320 the
    1502 training images of the real export take about 0.6 GB (images and
    masks, uint8); at 640x640 about 2.4 GB.

    The cache lives in the process that runs the pipeline: each dataloader
    worker fills its own during the first epoch, and keeps it when
    ``persistent_workers=True`` (otherwise it is rebuilt every epoch, which
    is the uncached cost). Served samples are copies, so downstream
    transforms that write in place cannot change the cache.

    Args:
        transforms (list[dict]): Deterministic transforms whose output
            depends only on the sample's ``img_path`` (and its annotations).
        max_items (int | None): Entries kept at most; the rest is computed
            on every call. None means no limit. Default: None.

    Required keys: ``img_path`` and whatever ``transforms`` need.
    Added keys: whatever ``transforms`` add.
    """

    def __init__(self, transforms: List[dict], max_items: Optional[int] = None):
        self.transforms = Compose(transforms)
        self.max_items = max_items
        self._cache = {}
        self.hits = 0
        self.misses = 0

    def transform(self, results: dict) -> Optional[dict]:
        key = results['img_path']
        cached = self._cache.get(key)
        if cached is not None:
            self.hits += 1
            return self._copy(cached)
        self.misses += 1
        out = self.transforms(results)
        if out is None:  # e.g. an unreadable image under ignore_empty
            return None
        if self.max_items is None or len(self._cache) < self.max_items:
            self._cache[key] = self._copy(out)
            if len(self._cache) == self.max_items:
                print_log(
                    f'[CachedCompose] cache full ({self.max_items} items); '
                    'later images are computed on every call',
                    logger='current')
        return out

    @staticmethod
    def _copy(results: dict) -> dict:
        """Copy arrays (cheap, uint8) and containers; share the rest."""
        out = {}
        for k, v in results.items():
            if isinstance(v, np.ndarray):
                out[k] = v.copy()
            elif isinstance(v, (list, dict, tuple)):
                out[k] = copy.deepcopy(v)
            else:
                out[k] = v
        return out

    def __repr__(self):
        return (f'{self.__class__.__name__}(transforms={self.transforms}, '
                f'max_items={self.max_items})')
