from .box_extent_aux_head import BoxExtentAuxHead
from .fcn_aux_head import FCNAuxHead
from .progressive_light_ham_head import ProgressiveLightHamHead
from .seg_accuracy_mixin import SegAccuracyMixin

__all__ = [
    'BoxExtentAuxHead', 'FCNAuxHead', 'ProgressiveLightHamHead',
    'SegAccuracyMixin'
]
