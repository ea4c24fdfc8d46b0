"""Packing transform for the two tasks."""
import numpy as np
import torch
from mmengine.structures import PixelData
from mmseg.datasets.transforms import PackSegInputs
from mmseg.registry import TRANSFORMS

# Where a slice sits in its volume (MSDSliceDataset): kept in the sample's
# metainfo whenever present, for the volume metrics.
VOLUME_META_KEYS = ('case_id', 'slice_index', 'num_slices',
                    'voxel_volume_ml')


@TRANSFORMS.register_module()
class PackMultiTaskInputs(PackSegInputs):
    """mmseg's ``PackSegInputs`` plus the image-level label.

    The ``SegDataSample`` gets ``gt_sem_seg`` (from ``gt_seg_map``) as in
    mmseg, and ``gt_label``, a (1,) int64 tensor: the field name that
    mmpretrain's heads and metrics (``Accuracy``, ``SingleLabelMetric``)
    read. A teacher's cached logits (``LoadTeacherLogits``) become the
    sample's ``teacher_logits`` (C, H, W) float32. A slice of a volume
    also keeps ``case_id``, ``slice_index``,
    ``num_slices`` and ``voxel_volume_ml`` in its metainfo (what
    ``VolumeDiceMetric`` stacks the slices back with).

    Args:
        meta_keys (tuple[str]): Meta keys to keep (mmseg's defaults).
    """

    def transform(self, results: dict) -> dict:
        packed = super().transform(results)
        sample = packed['data_samples']
        if 'gt_label' in results:
            sample.set_field(
                torch.tensor([int(results['gt_label'])], dtype=torch.long),
                'gt_label')
        if 'teacher_logits' in results:  # (H, W, C) -> (C, H, W)
            logits = np.ascontiguousarray(
                results['teacher_logits'].transpose(2, 0, 1))
            sample.set_field(
                PixelData(data=torch.from_numpy(logits)), 'teacher_logits')
        volume_meta = {
            k: results[k]
            for k in VOLUME_META_KEYS if k in results
        }
        if volume_meta:
            sample.set_metainfo(volume_meta)
        return packed
