from .tumor_inferencer import TumorInferencer

__all__ = ['TumorInferencer']
