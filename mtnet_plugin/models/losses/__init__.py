from .loss_sum import LossSum
from .softmax_focal_loss import SoftmaxFocalLoss
from .tumor_dice_loss import TumorDiceLoss

__all__ = ['LossSum', 'SoftmaxFocalLoss', 'TumorDiceLoss']
