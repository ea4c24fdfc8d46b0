"""Segmentation logits of several models as one ensemble's."""
from typing import Sequence

import torch
from mmseg.models.utils import resize
from torch import Tensor


def ensemble_logits(logits: Sequence[Tensor]) -> Tensor:
    """Logits whose softmax is the mean of the models' softmax
    probabilities: ``log(mean_i softmax(logits_i))``.

    Models that segment at different strides (DDRNet at 1/8, EfficientMTNet
    at 1/4) are resized bilinearly to the largest map first. With one model
    the result is its log-softmax (the same probabilities).

    Args:
        logits (Sequence[Tensor]): each (N, C, h_i, w_i), the same N and C.

    Returns:
        Tensor: (N, C, max h_i, max w_i) float32 log-probabilities.
    """
    if len(logits) == 0:
        raise ValueError('ensemble_logits needs at least one model\'s logits')
    shapes = {tuple(x.shape[:2]) for x in logits}
    if len(shapes) > 1:
        raise ValueError(f'the models disagree on (N, C): {sorted(shapes)}')
    size = max((tuple(x.shape[2:]) for x in logits),
               key=lambda s: s[0] * s[1])
    probs = [
        resize(x.float(), size=size, mode='bilinear',
               align_corners=False).softmax(dim=1) for x in logits
    ]
    return torch.stack(probs).mean(dim=0).clamp_min(1e-8).log()
