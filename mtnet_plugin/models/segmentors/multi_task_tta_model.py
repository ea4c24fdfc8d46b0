"""Test-time augmentation for both tasks."""
from typing import List

import torch
from mmseg.models.segmentors import SegTTAModel
from mmseg.registry import MODELS
from mmseg.utils import SampleList


@MODELS.register_module()
class MultiTaskTTAModel(SegTTAModel):
    """mmseg's ``SegTTAModel`` that also merges the image class.

    For each image, the augmented copies (``tta_pipeline``'s
    ``TestTimeAug``, e.g. the image and its horizontal flip) each go through
    the wrapped model's ``predict``, which undoes the flip and the resize of
    its segmentation logits. mmseg averages their softmax and takes the
    argmax; this subclass also averages the copies' class probabilities
    (``pred_score``, (num_cls_classes,), already calibrated by the model's
    temperature) and sets ``pred_label`` to their argmax.

    Used by ``tools/test.py --tta`` through the config's ``tta_model``.
    """

    def merge_preds(self, data_samples_list: List[SampleList]) -> SampleList:
        merged = super().merge_preds(data_samples_list)
        for result, copies in zip(merged, data_samples_list):
            score = torch.stack([s.pred_score for s in copies]).mean(dim=0)
            result.set_field(score, 'pred_score')
            result.set_field(score.argmax(dim=0, keepdim=True), 'pred_label')
            if 'gt_label' in copies[0]:
                result.set_field(copies[0].gt_label, 'gt_label')
        return merged
