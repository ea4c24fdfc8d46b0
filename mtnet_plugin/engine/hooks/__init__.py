from .tumor_overlay_hook import TumorOverlayHook, draw_overlay

__all__ = ['TumorOverlayHook', 'draw_overlay']
