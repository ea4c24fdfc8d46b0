"""Channel-wise distillation of dense logits (Shu et al., ICCV 2021)."""
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.registry import MODELS

from .utils import teacher_at_student_size


@MODELS.register_module()
class ChannelWiseDivergence(nn.Module):
    """KL divergence between the teacher's and the student's per-channel
    spatial distributions (`Channel-wise Knowledge Distillation for Dense
    Prediction <https://arxiv.org/abs/2011.13256>`_).

    Each channel of a (N, C, H, W) logit map becomes a distribution over its
    H x W positions, ``softmax(logits / tau)`` over space, so each class's
    map says *where* that class is; the loss is::

        tau**2 / (N * C) * sum_{n, c} KL(p_T[n, c] || p_S[n, c])

    It is mmrazor's ``ChannelWiseDivergence`` (tau 1, weight 3-5 in its
    segmentation recipes), written here because mmrazor is not in the pinned
    OpenMMLab stack. A teacher map of another size is resized (bilinear) to
    the student's first, so a teacher that predicts at 1/8 can teach a
    student that predicts at 1/4.

    Args:
        tau (float): Temperature of the spatial softmax. Default: 1.0.
        loss_weight (float): Weight of the loss. Default: 1.0.
        loss_name (str): Key of the loss in the losses dict; it must contain
            'loss' for mmengine to sum it. Default: 'loss_cwd'.

    Shape:
        preds_S: (N, C, H, W) student logits; preds_T: (N, C, H', W') teacher
        logits (no gradient flows into them) -> scalar.
    """

    def __init__(self,
                 tau: float = 1.0,
                 loss_weight: float = 1.0,
                 loss_name: str = 'loss_cwd'):
        super().__init__()
        if not tau > 0:
            raise ValueError(f'tau must be > 0, got {tau}')
        self.tau = tau
        self.loss_weight = loss_weight
        self._loss_name = loss_name

    def forward(self, preds_S: torch.Tensor,
                preds_T: torch.Tensor) -> torch.Tensor:
        preds_T = teacher_at_student_size(preds_S, preds_T,
                                          'ChannelWiseDivergence')
        n, c = preds_S.shape[:2]
        log_p_s = F.log_softmax(
            preds_S.float().flatten(2) / self.tau, dim=2)
        log_p_t = F.log_softmax(preds_T.flatten(2) / self.tau, dim=2)
        kl = (log_p_t.exp() * (log_p_t - log_p_s)).sum()
        return self.loss_weight * kl * self.tau**2 / (n * c)

    @property
    def loss_name(self) -> str:
        return self._loss_name
