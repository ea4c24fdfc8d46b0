"""Helpers shared by the distillation losses."""
import torch
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
