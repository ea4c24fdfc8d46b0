"""What the distillation losses share: the teacher's logits at the
student's size, and the arguments and scaling of a tempered divergence."""
from typing import Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.utils import resize


def teacher_at_student_size(preds_S: torch.Tensor, preds_T: torch.Tensor,
                            loss: str) -> torch.Tensor:
    """The teacher's logits, detached, in float32 and resized (bilinear) to
    the student's (H, W).

    Raises a ValueError naming ``loss`` unless both are (N, C, H, W) with
    the same N and C.

    Shape:
        preds_S: (N, C, H, W); preds_T: (N, C, H', W') -> (N, C, H, W).
    """
    if preds_S.dim() != 4 or preds_T.dim() != 4 or \
            preds_S.shape[:2] != preds_T.shape[:2]:
        raise ValueError(
            f'{loss} takes (N, C, H, W) logits with the same N and C; got '
            f'student {tuple(preds_S.shape)}, teacher {tuple(preds_T.shape)}')
    preds_T = preds_T.detach().float()
    if preds_T.shape[2:] != preds_S.shape[2:]:
        preds_T = resize(
            preds_T,
            size=preds_S.shape[2:],
            mode='bilinear',
            align_corners=False)
    return preds_T


def teacher_agrees(preds_T: torch.Tensor, seg_label: torch.Tensor,
                   ignore_index: int = 255) -> torch.Tensor:
    """Where the teacher's prediction is the label: a boolean mask at the
    logits' size, the labels taken by nearest neighbour; pixels labelled
    ``ignore_index`` (padding) are False.

    Shape:
        preds_T: (N, C, h, w) logits; seg_label: (N, H, W) or (N, 1, H, W)
        class indices -> (N, h, w) bool.
    """
    if seg_label.dim() == 4:
        seg_label = seg_label.squeeze(1)
    if seg_label.dim() != 3 or seg_label.shape[0] != preds_T.shape[0]:
        raise ValueError(
            f'labels of shape {tuple(seg_label.shape)} do not match teacher '
            f'logits of shape {tuple(preds_T.shape)}')
    label = F.interpolate(
        seg_label[:, None].float(), size=preds_T.shape[2:],
        mode='nearest')[:, 0].long()
    return (preds_T.argmax(dim=1) == label) & (label != ignore_index)


class TemperedDivergence(nn.Module):
    """Base of a distillation loss between dense logits at temperature tau:
    ``loss_weight * tau**2 * divergence(S / tau, T / tau)``, with the
    teacher's logits brought to the student's size first
    (:func:`teacher_at_student_size`). Subclasses define ``divergence``.

    Args:
        tau (float): Temperature. Default: 1.0.
        loss_weight (float): Weight of the loss. Default: 1.0.
        loss_name (str, optional): Key of the loss in the losses dict; it
            must contain 'loss' for mmengine to sum it. Default: the
            subclass's ``default_loss_name``.
    """

    default_loss_name = 'loss_kd'

    def __init__(self, tau: float = 1.0, loss_weight: float = 1.0,
                 loss_name: Optional[str] = None):
        super().__init__()
        if not tau > 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight
        self._loss_name = loss_name or self.default_loss_name

    def divergence(self,
                   preds_S: torch.Tensor,
                   preds_T: torch.Tensor,
                   keep: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Scalar divergence of (N, C, H, W) tempered logits, over the
        (N, H, W) pixels ``keep`` marks when it is given."""
        raise NotImplementedError

    def pixels_to_keep(self, preds_T: torch.Tensor,
                       seg_label: Optional[torch.Tensor]
                       ) -> Optional[torch.Tensor]:
        """(N, H, W) mask of the pixels to distill, or None for all of them
        (the default; a subclass may mask with the labels)."""
        return None

    def forward(self,
                preds_S: torch.Tensor,
                preds_T: torch.Tensor,
                seg_label: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``seg_label`` (N, H, W), the labels, is read only by losses that
        mask with it (:class:`PixelKLDivergence` with
        ``teacher_correct_only``)."""
        preds_T = teacher_at_student_size(preds_S, preds_T,
                                          type(self).__name__)
        div = self.divergence(preds_S.float() / self.tau,
                              preds_T / self.tau,
                              self.pixels_to_keep(preds_T, seg_label))
        return self.loss_weight * div * self.tau**2

    @property
    def loss_name(self) -> str:
        return self._loss_name
