"""Pixel-wise distillation of dense logits (soft targets per pixel)."""
from typing import Optional

import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from .utils import TemperedDivergence, teacher_agrees


@MODELS.register_module()
class PixelKLDivergence(TemperedDivergence):
    """KL divergence between the teacher's and the student's class
    distributions at each pixel, averaged over the pixels (Hinton's soft
    targets applied per pixel, the pixel-wise distillation of `Structured
    Knowledge Distillation for Semantic Segmentation
    <https://arxiv.org/abs/1903.04197>`_)::

        tau**2 * mean_{n, h, w} KL(softmax(T / tau) || softmax(S / tau))

    with the softmax over the classes. Where the teacher is unsure, near
    the edges of a lesion, its soft target says how unsure; unlike
    :class:`ChannelWiseDivergence`, whose per-channel distribution over the
    positions mostly says where the teacher's most confident pixels are,
    every pixel counts once. A teacher map of another size is resized
    (bilinear) to the student's first.

    With ``teacher_correct_only``, the mean runs over the pixels where the
    teacher's prediction is the label (the labels taken at the student's
    size by nearest neighbour): where the teacher is wrong, e.g. on a lesion
    it misses, the student learns from the labels alone instead of being
    pulled towards the teacher's miss.

    Args:
        tau, loss_weight, loss_name: as :class:`TemperedDivergence`; tau is
            the temperature of the softmax over the classes, ``loss_name``
            defaults to 'loss_pkd'.
        teacher_correct_only (bool): Distill only where the teacher agrees
            with the label; ``forward`` then needs ``seg_label``.
            Default: False.
        ignore_index (int): Label value of pixels to leave out (padding),
            read with ``teacher_correct_only``. Default: 255.

    Shape:
        preds_S: (N, C, H, W) student logits; preds_T: (N, C, H', W') teacher
        logits (no gradient flows into them); seg_label: (N, H'', W'') class
        indices, any size -> scalar.
    """

    default_loss_name = 'loss_pkd'

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: Optional[str] = None,
                 teacher_correct_only: bool = False,
                 ignore_index: int = 255):
        super().__init__(tau, loss_weight, loss_name)
        self.teacher_correct_only = teacher_correct_only
        self.ignore_index = ignore_index

    def divergence(self,
                   preds_S: torch.Tensor,
                   preds_T: torch.Tensor,
                   keep: Optional[torch.Tensor] = None) -> torch.Tensor:
        # KL(softmax(T) || softmax(S)) over the classes, per pixel: (N, H, W)
        log_p_s = F.log_softmax(preds_S, dim=1)
        log_p_t = F.log_softmax(preds_T, dim=1)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1)
        if keep is None:
            return kl.mean()
        return (kl * keep).sum() / keep.sum().clamp(min=1)

    def pixels_to_keep(self, preds_T: torch.Tensor,
                       seg_label: Optional[torch.Tensor]
                       ) -> Optional[torch.Tensor]:
        """With ``teacher_correct_only``: where the teacher's prediction is
        the label (:func:`teacher_agrees`)."""
        if not self.teacher_correct_only:
            return None
        if seg_label is None:
            raise ValueError(
                'PixelKLDivergence(teacher_correct_only=True) needs the '
                'labels: call it with seg_label')
        return teacher_agrees(preds_T, seg_label, self.ignore_index)
