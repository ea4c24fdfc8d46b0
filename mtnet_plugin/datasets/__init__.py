from .coco_tumor_dataset import BadSampleError, CocoTumorDataset
from .msd_slice_dataset import MSDSliceDataset
from .transforms import *  # noqa: F401,F403
from .transforms import __all__ as _transforms

__all__ = ['BadSampleError', 'CocoTumorDataset', 'MSDSliceDataset'
           ] + _transforms
