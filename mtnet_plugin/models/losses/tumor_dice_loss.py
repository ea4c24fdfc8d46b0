"""Soft Dice loss on selected (foreground) classes."""
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


@MODELS.register_module()
class TumorDiceLoss(nn.Module):
    """Soft Dice loss on the softmax probabilities of chosen classes.

    For each class ``c`` in ``class_indices``::

        dice_c = (2 * sum(p_c * g_c) + smooth) / (sum(p_c) + sum(g_c) + smooth)

    with sums over all valid pixels of the batch (one Dice per class for the
    whole batch, which stays defined for images without tumor), and
    ``loss = 1 - mean_c dice_c``. mmseg's ``DiceLoss`` averages every channel,
    background included, which a large background makes close to 1 whatever
    happens to a small lesion; here the default is the tumor class alone.

    Args:
        class_indices (Sequence[int] | None): Classes to average. None means
            all classes except ``background_index``. Default: (1, ).
        background_index (int): Excluded when ``class_indices`` is None.
            Default: 0.
        smooth (float): Added to numerator and denominator. Default: 1.0.
        loss_weight (float): Multiplier of the loss. Default: 1.0.
        ignore_index (int): Label to ignore. Default: 255.
        loss_name (str): Key in the loss dict. Default: 'loss_dice'.

    Shape:
        pred: (N, C, H, W) logits; target: (N, H, W) class indices
        -> scalar.
    """

    def __init__(self,
                 class_indices: Optional[Sequence[int]] = (1, ),
                 background_index: int = 0,
                 smooth: float = 1.0,
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_dice'):
        super().__init__()
        self.class_indices = None if class_indices is None \
            else list(class_indices)
        self.background_index = background_index
        self.smooth = smooth
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
        num_classes = pred.shape[1]
        classes = self.class_indices
        if classes is None:
            classes = [
                c for c in range(num_classes) if c != self.background_index
            ]
        valid = (target != ignore_index).unsqueeze(1).float()  # (N,1,H,W)
        prob = F.softmax(pred.float(), dim=1) * valid
        safe_target = torch.where(target == ignore_index,
                                  torch.zeros_like(target), target)
        onehot = F.one_hot(safe_target, num_classes).permute(0, 3, 1,
                                                             2).float()
        onehot = onehot * valid
        prob, onehot = prob[:, classes], onehot[:, classes]
        if weight is not None:
            w = weight.unsqueeze(1).float()
            prob, onehot = prob * w, onehot * w
        dims = (0, 2, 3)
        inter = (prob * onehot).sum(dims)
        denom = prob.sum(dims) + onehot.sum(dims)
        dice = (2 * inter + self.smooth) / (denom + self.smooth)
        return self.loss_weight * (1 - dice.mean())

    @property
    def loss_name(self) -> str:
        return self._loss_name
