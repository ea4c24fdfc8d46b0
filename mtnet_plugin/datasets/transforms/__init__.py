from .formatting import PackMultiTaskInputs
from .loading import LoadMRIImageFromFile, LoadTumorAnnotations

__all__ = [
    'LoadMRIImageFromFile', 'LoadTumorAnnotations', 'PackMultiTaskInputs'
]
