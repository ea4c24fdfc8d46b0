from .coco_tumor_dataset import BadSampleError, CocoTumorDataset
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms

__all__ = ['BadSampleError', 'CocoTumorDataset'] + _transforms
