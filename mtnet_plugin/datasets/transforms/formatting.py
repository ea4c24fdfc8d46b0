"""Packing transform for the two tasks."""
import torch
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS


@TRANSFORMS.register_module()
class PackMultiTaskInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` plus the image-level label.

    The ``SegDataSample`` gets ``gt_sem_seg`` (from ``gt_seg_map``) as in
    mmseg, and ``gt_label``, a (1,) int64 tensor: the field name that
    mmpretrain's heads and metrics (``Accuracy``, ``SingleLabelMetric``)
    read.

    Args:
        meta_keys (tuple[str]): Meta keys to keep (mmseg's defaults).
    """

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        if 'gt_label' in results:
            packed['data_samples'].set_field(
                torch.tensor([int(results['gt_label'])], dtype=torch.long),
                'gt_label')
        return packed
