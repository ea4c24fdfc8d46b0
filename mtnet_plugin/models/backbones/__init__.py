from .efficient_mtnet_backbone import (EfficientMTNetBackbone,
                                       SELearningToDownsample)

__all__ = ['EfficientMTNetBackbone', 'SELearningToDownsample']
