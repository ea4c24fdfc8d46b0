from .boundary_band_loss import BoundaryBandLoss, boundary_band
from .channel_wise_divergence import ChannelWiseDivergence
from .loss_sum import LossSum
from .pixel_kl_divergence import PixelKLDivergence
from .softmax_focal_loss import SoftmaxFocalLoss
from .tumor_dice_loss import TumorDiceLoss

__all__ = [
    'BoundaryBandLoss', 'ChannelWiseDivergence', 'LossSum',
    'PixelKLDivergence', 'SoftmaxFocalLoss', 'TumorDiceLoss', 'boundary_band'
]
