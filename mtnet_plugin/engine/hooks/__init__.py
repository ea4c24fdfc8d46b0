from .atomic_checkpoint_hook import AtomicCheckpointHook
from .tumor_overlay_hook import TumorOverlayHook, draw_overlay

__all__ = ['AtomicCheckpointHook', 'TumorOverlayHook', 'draw_overlay']
