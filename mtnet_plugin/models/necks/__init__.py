from .multi_scale_fusion import MultiScaleFusion

__all__ = ['MultiScaleFusion']
