from .boundary_band_loss import BoundaryBandLoss, boundary_band
from .loss_sum import LossSum
from .softmax_focal_loss import SoftmaxFocalLoss
from .tumor_dice_loss import TumorDiceLoss

__all__ = [
    'BoundaryBandLoss', 'LossSum', 'SoftmaxFocalLoss', 'TumorDiceLoss',
    'boundary_band'
]
