"""mmseg's ``Albu``, reproducible with albumentations 2.x."""
import random
from typing import List, Optional

import numpy as np
from mmseg.datasets.transforms import transforms as mmseg_transforms
from mmseg.datasets.transforms.transforms import Albu
from mmseg.registry import TRANSFORMS

ALBU_EXTRA = 'pip install -e ".[albu]"'


@TRANSFORMS.register_module()
class SeededAlbu(Albu):
    """mmseg's ``Albu`` whose random draws follow the run's seed.

    Since albumentations 2.0, every ``Compose`` owns its random generators,
    seeded from the operating system's entropy unless ``Compose(seed=...)``
    is given, and ``np.random.seed`` no longer reaches them. mmseg's ``Albu``
    therefore makes a run with ``randomness=dict(seed=...)`` draw different
    augmentations each time: the recipe would no longer reproduce its
    weights. This subclass re-seeds the albumentations pipeline before each
    sample from numpy's global generator, which mmengine seeds in every
    dataloader worker (``seed + worker_id + rank``). Everything else is
    mmseg's ``Albu``: the same ``transforms`` list of albumentations config
    dicts, ``keymap`` and ``update_pad_shape``.

    albumentations is the optional extra ``.[albu]``; building this
    transform without it raises an ``ImportError`` that names the extra
    (mmseg's own message points at a pip command for albumentations 0.x).

    Args:
        transforms (list[dict]): albumentations transforms as config dicts,
            e.g. ``dict(type='RandomGamma', gamma_limit=(80, 120), p=0.3)``.
        keymap (dict, optional): results key -> albumentations key. Default:
            ``{'img': 'image', 'gt_seg_map': 'mask'}``.
        update_pad_shape (bool): Set ``pad_shape`` from the output image.
            Default: False.
    """

    def __init__(self,
                 transforms: List[dict],
                 keymap: Optional[dict] = None,
                 update_pad_shape: bool = False):
        if not mmseg_transforms.ALBU_INSTALLED:
            raise ImportError(
                'SeededAlbu needs albumentations, the optional extra '
                f'".[albu]": {ALBU_EXTRA}')
        super().__init__(transforms, keymap, update_pad_shape)

    def transform(self, results: dict) -> dict:
        """Draw a seed from numpy's global generator, seed the
        albumentations pipeline with it, then run mmseg's ``Albu``."""
        seed = int(np.random.randint(0, 2**31 - 1))
        self.aug.set_random_state(
            np.random.default_rng(seed), random.Random(seed))
        shape = results['img'].shape[:2]
        results = super().transform(results)
        if results['img'].shape[:2] != shape:
            results['img_shape'] = results['img'].shape[:2]
        return results
