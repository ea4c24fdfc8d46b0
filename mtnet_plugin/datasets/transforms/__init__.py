from .cached_compose import CachedCompose
from .formatting import PackMultiTaskInputs
from .loading import (LoadMRIImageFromFile, LoadTumorAnnotations,
                      LoadVolumeSlice, LoadVolumeSliceAnnotation)
from .seeded_albu import SeededAlbu
from .teacher_logits import LoadTeacherLogits

__all__ = [
    'CachedCompose', 'LoadMRIImageFromFile', 'LoadTumorAnnotations',
    'LoadTeacherLogits', 'LoadVolumeSlice', 'LoadVolumeSliceAnnotation',
    'PackMultiTaskInputs', 'SeededAlbu'
]
