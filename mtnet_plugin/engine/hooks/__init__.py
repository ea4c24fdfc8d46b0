from .atomic_checkpoint_hook import AtomicCheckpointHook
from .resumable_early_stopping_hook import ResumableEarlyStoppingHook
from .tumor_overlay_hook import TumorOverlayHook, draw_overlay

__all__ = [
    'AtomicCheckpointHook', 'ResumableEarlyStoppingHook', 'TumorOverlayHook',
    'draw_overlay'
]
