"""mmseg's FCN head as an auxiliary head, with a cheap ``acc_seg``."""
from mmseg.models.decode_heads import FCNHead
from mmseg.registry import MODELS

from .seg_accuracy_mixin import SegAccuracyMixin


@MODELS.register_module()
class FCNAuxHead(SegAccuracyMixin, FCNHead):
    """mmseg's ``FCNHead`` whose per-iteration ``acc_seg`` is computed
    without boolean indexing (``acc_seg='fast'``) or not at all
    (``acc_seg='none'``); see :class:`SegAccuracyMixin`.

    Args:
        acc_seg (str): 'fast' | 'none'. Default: 'fast'.
        **kwargs: ``FCNHead`` arguments (``in_channels``, ``in_index``,
            ``channels``, ``num_convs``, ``concat_input``, ...).

    Shape:
        inputs: tuple of maps, ``inputs[in_index]`` (B, in_channels, H, W)
        -> logits (B, num_classes, H, W).
    """
