"""Pixel-wise distillation of dense logits (soft targets per pixel)."""
import torch
import torch.nn.functional as F
from mmseg.registry import MODELS

from .utils import TemperedDivergence


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

    Args:
        tau, loss_weight, loss_name: as :class:`TemperedDivergence`; tau is
            the temperature of the softmax over the classes, ``loss_name``
            defaults to 'loss_pkd'.

    Shape:
        preds_S: (N, C, H, W) student logits; preds_T: (N, C, H', W') teacher
        logits (no gradient flows into them) -> scalar.
    """

    default_loss_name = 'loss_pkd'

    def divergence(self, preds_S: torch.Tensor,
                   preds_T: torch.Tensor) -> torch.Tensor:
        log_p_s = F.log_softmax(preds_S, dim=1)
        log_p_t = F.log_softmax(preds_T, dim=1)
        return (log_p_t.exp() * (log_p_t - log_p_s)).sum(dim=1).mean()
