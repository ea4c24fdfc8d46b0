"""Cross-entropy on a band around the label's class boundaries."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


def boundary_band(target: torch.Tensor,
                  num_classes: int,
                  radius: int,
                  ignore_index: int = 255) -> torch.Tensor:
    """The pixels within ``radius`` (Chebyshev distance) of a pixel of
    another class: a band ``2 * radius`` wide across every boundary of the
    label map. Ignored pixels are neither in the band nor a class.

    Shape:
        target: (N, H, W) class indices -> (N, H, W) bool.
    """
    valid = target != ignore_index
    onehot = F.one_hot(torch.where(valid, target, torch.zeros_like(target)),
                       num_classes).permute(0, 3, 1, 2).float()
    onehot = onehot * valid.unsqueeze(1)
    present = F.max_pool2d(
        onehot, 2 * radius + 1, stride=1, padding=radius)  # (N, C, H, W)
    return valid & (present.sum(1) > 1)


@MODELS.register_module()
class BoundaryBandLoss(nn.Module):
    """Cross-entropy averaged over the pixels near a boundary of the label.

    Where the error of a segmentation is at the edges of the objects it
    finds, the pixel-averaged losses weigh an edge by its few pixels among
    many easy ones; this term averages over the band around the label's
    boundaries only (:func:`boundary_band`), so a misplaced edge costs the
    same whatever the lesion's size. Every label of the brain-tumor data is
    a rectangle, so the band is the frame around each box. It needs no
    extra head or annotation: add it to a decode head's ``loss_decode``.

    Args:
        radius (int): Half-width of the band in label pixels (the loss runs
            at the label's size). Default: 8.
        num_classes (int): Classes of the logits. Default: 2.
        loss_weight (float): Multiplier of the loss. Default: 1.0.
        ignore_index (int): Label to ignore. Default: 255.
        loss_name (str): Key in the loss dict. Default: 'loss_band'.

    Shape:
        pred: (N, num_classes, H, W) logits; target: (N, H, W) class
        indices -> scalar (0 for a batch without a boundary).
    """

    def __init__(self,
                 radius: int = 8,
                 num_classes: int = 2,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_band'):
        super().__init__()
        assert radius >= 1, f'radius must be >= 1, got {radius}'
        self.radius = radius
        self.num_classes = num_classes
        self.loss_weight = loss_weight
        self.ignore_index = ignore_index
        self._loss_name = loss_name

    def forward(self,
                pred: torch.Tensor,
                target: torch.Tensor,
                weight: Optional[torch.Tensor] = None,
                ignore_index: Optional[int] = None,
                **kwargs) -> torch.Tensor:
        ignore_index = self.ignore_index if ignore_index is None \
            else ignore_index
        band = boundary_band(target, self.num_classes, self.radius,
                             ignore_index)
        safe_target = torch.where(band, target, torch.zeros_like(target))
        loss = F.cross_entropy(pred.float(), safe_target, reduction='none')
        if weight is not None:
            loss = loss * weight
        loss = (loss * band).sum() / band.sum().clamp(min=1)
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name
