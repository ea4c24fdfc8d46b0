"""Training-only head that regresses the tumor's extent (FCOS-style box
distances) from a feature map."""
from typing import List, Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule
from mmseg.registry import MODELS
from mmseg.utils import ConfigType, OptConfigType, SampleList
from torch import Tensor


def edge_distances(mask: Tensor) -> Tensor:
    """Distances from each pixel's centre to the edges of its run of mask
    pixels along its row and column.

    For a pixel inside an axis-aligned rectangle these are the distances to
    the rectangle's left, top, right and bottom sides (FCOS's regression
    targets); for any other shape (e.g. a rotated box after augmentation),
    to where the mask ends along the row and column through the pixel.

    Args:
        mask (Tensor): (B, H, W) bool.

    Returns:
        Tensor: (B, 4, H, W) float, (left, top, right, bottom) in pixels;
        each is at least 0.5 inside the mask, and 0 outside it.
    """

    def before(m: Tensor, dim: int) -> Tensor:
        # index of the last pixel outside the mask at or before each one
        n = m.shape[dim]
        shape = [1] * m.dim()
        shape[dim] = n
        idx = torch.arange(n, device=m.device).view(shape).expand_as(m)
        last_out = torch.where(m, torch.full_like(idx, -1), idx)
        last_out = torch.cummax(last_out, dim=dim).values
        return (idx - last_out).float() - 0.5

    def after(m: Tensor, dim: int) -> Tensor:
        return before(m.flip(dim), dim).flip(dim)

    dist = torch.stack(
        [before(mask, 2), before(mask, 1), after(mask, 2), after(mask, 1)],
        dim=1)
    return dist * mask.unsqueeze(1)


def box_iou_loss(pred: Tensor, target: Tensor,
                 mode: str = 'giou') -> Tuple[Tensor, Tensor]:
    """IoU loss between boxes given as distances from the same point.

    Args:
        pred, target (Tensor): (N, 4) positive (left, top, right, bottom).
        mode (str): 'iou' (1 - IoU) or 'giou' (1 - generalised IoU).

    Returns:
        tuple: (N,) loss and (N,) IoU (detached).
    """
    pl, pt, pr, pb = pred.unbind(1)
    tl, tt, tr, tb = target.unbind(1)
    area_p = (pl + pr) * (pt + pb)
    area_t = (tl + tr) * (tt + tb)
    inter = (torch.min(pl, tl) + torch.min(pr, tr)) * \
        (torch.min(pt, tt) + torch.min(pb, tb))
    union = (area_p + area_t - inter).clamp(min=1e-6)
    iou = inter / union
    if mode == 'iou':
        return 1 - iou, iou.detach()
    enclose = (torch.max(pl, tl) + torch.max(pr, tr)) * \
        (torch.max(pt, tt) + torch.max(pb, tb))
    giou = iou - (enclose - union) / enclose.clamp(min=1e-6)
    return 1 - giou, iou.detach()


@MODELS.register_module()
class BoxExtentAuxHead(BaseModule):
    """Auxiliary head (training only) that regresses, at every cell of a
    feature map whose centre lies in the tumor mask, the distances to the
    mask's left, top, right and bottom edges, with an IoU loss (FCOS, Tian
    et al. 2019).

    Every label of the real export is an axis-aligned rectangle, and most
    of the decode head's errors are at the boundaries of lesions it finds
    (``tools/analysis_tools/analyze_errors.py``): this head asks the shared
    features to encode each lesion's extent explicitly. It adds no cost at
    inference (``EncoderDecoder`` runs auxiliary heads only in training, and
    ``TumorInferencer`` drops their weights). Targets come from
    ``gt_sem_seg`` after augmentation (:func:`edge_distances`), in units of
    the map's stride; pixels labelled ``ignore_index`` (padding) are never
    positive.

    Args:
        in_channels (int): Channels of the input map.
        in_index (int): Which map of the neck's tuple to read.
        channels (int): Channels of the hidden convs. Default: 32.
        num_convs (int): 3x3 convs before the 1x1 regression. Default: 1.
        tumor_index (int): Label of the tumor class. Default: 1.
        loss_weight (float): Multiplier of the loss. Default: 0.2.
        loss_type (str): 'giou' or 'iou'. Default: 'giou'.
        ignore_index (int): Label of padded pixels. Default: 255.
        norm_cfg, act_cfg (dict): Of the hidden convs.
        loss_name (str): Key of the loss. Default: 'loss_box'.

    Shape:
        inputs: tuple of maps; ``inputs[in_index]`` (B, in_channels, h, w)
        -> distances (B, 4, h, w), positive, in units of the stride H / h.
    """

    def __init__(self,
                 in_channels: int,
                 in_index: int,
                 channels: int = 32,
                 num_convs: int = 1,
                 tumor_index: int = 1,
                 loss_weight: float = 0.2,
                 loss_type: str = 'giou',
                 ignore_index: int = 255,
                 norm_cfg: OptConfigType = dict(type='BN'),
                 act_cfg: ConfigType = dict(type='ReLU'),
                 loss_name: str = 'loss_box',
                 init_cfg=None):
        super().__init__(init_cfg)
        if loss_type not in ('giou', 'iou'):
            raise ValueError(f"loss_type must be 'giou' or 'iou', got "
                             f'{loss_type!r}')
        self.in_index = in_index
        self.tumor_index = tumor_index
        self.loss_weight = loss_weight
        self.loss_type = loss_type
        self.ignore_index = ignore_index
        self.loss_name = loss_name
        convs: List[nn.Module] = []
        for i in range(num_convs):
            convs.append(
                ConvModule(
                    in_channels if i == 0 else channels,
                    channels,
                    3,
                    padding=1,
                    norm_cfg=norm_cfg,
                    act_cfg=act_cfg))
        self.convs = nn.Sequential(*convs)
        self.reg = nn.Conv2d(channels if num_convs else in_channels, 4, 1)

    def forward(self, inputs: Sequence[Tensor]) -> Tensor:
        """(B, 4, h, w) positive distances, in strides."""
        x = self.convs(inputs[self.in_index])
        return self.reg(x).clamp(max=10.).exp()

    def targets(self, batch_data_samples: SampleList,
                size: Tuple[int, int]) -> Tuple[Tensor, Tensor]:
        """Targets at the cell centres of an (h, w) map.

        Returns:
            tuple: (B, 4, h, w) distances in strides and (B, h, w) bool,
            the cells whose centre pixel is tumor.
        """
        seg = torch.stack([
            s.gt_sem_seg.data[0] for s in batch_data_samples
        ])  # (B, H, W)
        h, w = size
        sy, sx = seg.shape[1] / h, seg.shape[2] / w
        if sy != sx or sy != int(sy):
            raise ValueError(f'labels {tuple(seg.shape[1:])} are not an '
                             f'integer multiple of the map {size}')
        stride = int(sy)
        mask = seg == self.tumor_index
        c = stride // 2
        # run lengths along the rows and columns through the cell centres
        # only: the same values as edge_distances(mask) sampled there, at
        # 2 / stride of its cost
        horiz = edge_distances(mask[:, c::stride, :])[:, 0::2, :, c::stride]
        vert = edge_distances(mask[:, :, c::stride])[:, 1::2, c::stride, :]
        dist = torch.stack(
            [horiz[:, 0], vert[:, 0], horiz[:, 1], vert[:, 1]], dim=1)
        return dist / stride, mask[:, c::stride, c::stride]

    def loss(self, inputs: Sequence[Tensor], batch_data_samples: SampleList,
             train_cfg: ConfigType) -> dict:
        """``loss_name`` (mean over positive cells, times ``loss_weight``;
        0 without any) and ``box_iou`` (their mean IoU, logged only)."""
        out = self.forward(inputs)
        target, pos = self.targets(batch_data_samples, out.shape[2:])
        pred = out.permute(0, 2, 3, 1)[pos]  # (N, 4)
        target = target.permute(0, 2, 3, 1)[pos]
        if pred.numel() == 0:  # keeps every parameter in the graph (DDP)
            zero = out.sum() * 0
            return {self.loss_name: zero, 'box_iou': zero.detach()}
        loss, iou = box_iou_loss(pred, target, self.loss_type)
        return {
            self.loss_name: self.loss_weight * loss.mean(),
            'box_iou': iou.mean()
        }

    def predict(self, inputs: Sequence[Tensor], batch_img_metas: List[dict],
                test_cfg: ConfigType) -> Tensor:
        """The distances (B, 4, h, w); not used by the segmentor."""
        return self.forward(inputs)
