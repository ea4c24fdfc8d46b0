from .cached_compose import CachedCompose
from .formatting import PackMultiTaskInputs
from .loading import LoadMRIImageFromFile, LoadTumorAnnotations

__all__ = [
    'CachedCompose', 'LoadMRIImageFromFile', 'LoadTumorAnnotations',
    'PackMultiTaskInputs'
]
