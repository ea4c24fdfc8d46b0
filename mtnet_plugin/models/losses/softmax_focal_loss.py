"""Multi-class (softmax) focal loss."""
from typing import Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS


@MODELS.register_module()
class SoftmaxFocalLoss(nn.Module):
    """Focal loss on softmax probabilities (Lin et al., 2017).

    ``FL = -alpha_t * (1 - p_t) ** gamma * log(p_t)`` per pixel, where
    ``p_t`` is the softmax probability of the true class; averaged over the
    pixels that are not ``ignore_index``. Pure PyTorch, so it runs on CPU
    (mmseg's ``FocalLoss`` is sigmoid-only and its CPU path is broken,
    mmseg#3249).

    Args:
        gamma (float): Focusing parameter. Default: 2.0.
        alpha (float | Sequence[float] | None): Class weights ``alpha_t``,
            one per class; None means 1 for all. Default: None.
        reduction (str): 'mean' | 'sum' | 'none'. Default: 'mean'.
        loss_weight (float): Multiplier of the loss. Default: 1.0.
        ignore_index (int): Label to ignore. Default: 255.
        loss_name (str): Key in the loss dict; must start with ``loss_`` to be
            summed into the total. Default: 'loss_focal'.

    Shape:
        pred: (N, C, H, W) logits; target: (N, H, W) class indices
        -> scalar (or (N, H, W) with ``reduction='none'``).
    """

    def __init__(self,
                 gamma: float = 2.0,
                 alpha: Optional[Union[float, Sequence[float]]] = None,
                 reduction: str = 'mean',
                 loss_weight: float = 1.0,
                 ignore_index: int = 255,
                 loss_name: str = 'loss_focal'):
        super().__init__()
        assert reduction in ('mean', 'sum', 'none')
        self.gamma = gamma
        self.alpha = alpha
        self.reduction = reduction
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
        valid = target != ignore_index
        safe_target = torch.where(valid, target, torch.zeros_like(target))
        log_p = F.log_softmax(pred.float(), dim=1)
        log_pt = log_p.gather(1, safe_target.unsqueeze(1)).squeeze(1)
        pt = log_pt.exp()
        loss = -((1 - pt).clamp(min=0)**self.gamma) * log_pt
        if self.alpha is not None:
            alpha = pred.new_tensor(
                [self.alpha] * pred.shape[1] if isinstance(
                    self.alpha, (int, float)) else list(self.alpha))
            loss = loss * alpha[safe_target]
        if weight is not None:
            loss = loss * weight
        loss = loss * valid
        if self.reduction == 'mean':
            loss = loss.sum() / valid.sum().clamp(min=1)
        elif self.reduction == 'sum':
            loss = loss.sum()
        return self.loss_weight * loss

    @property
    def loss_name(self) -> str:
        return self._loss_name
