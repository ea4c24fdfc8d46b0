"""EfficientMTNet: joint brain-tumor segmentation and classification as an
MMSegmentation 1.x plugin.

``import mtnet_plugin`` registers every module of the plugin into mmseg's
registries (``MODELS``, ``DATASETS``, ``TRANSFORMS``, ``METRICS``) and
allow-lists the classes that mmengine checkpoints hold for ``torch.load``
(see :mod:`mtnet_plugin.utils.safe_checkpoint`).
"""
import mmseg  # noqa: F401  (checks the mmcv version)

from .utils.transformers_compat import guard_mmpretrain_multimodal

# before anything imports mmpretrain.models (transformers >= 5 breaks it)
guard_mmpretrain_multimodal()

from .utils import register_checkpoint_safe_globals  # noqa: E402
from .version import __version__  # noqa: E402

register_checkpoint_safe_globals()

from . import apis, datasets, engine, evaluation, models  # noqa: E402,F401

__all__ = ['__version__']
