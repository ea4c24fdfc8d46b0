from .cached_compose import CachedCompose
from .formatting import PackMultiTaskInputs
from .loading import LoadMRIImageFromFile, LoadTumorAnnotations
from .seeded_albu import SeededAlbu

__all__ = [
    'CachedCompose', 'LoadMRIImageFromFile', 'LoadTumorAnnotations',
    'PackMultiTaskInputs', 'SeededAlbu'
]
