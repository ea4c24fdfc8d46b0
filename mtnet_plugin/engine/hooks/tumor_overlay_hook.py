"""Overlays of both tasks' predictions, written during testing."""
import os
import os.path as osp
from typing import Optional, Sequence

import cv2
import mmcv
import numpy as np
from mmengine.hooks import Hook
from mmseg.registry import HOOKS


def draw_overlay(img: np.ndarray,
                 pred_mask: np.ndarray,
                 gt_mask: Optional[np.ndarray] = None,
                 pred_label: Optional[int] = None,
                 pred_prob: Optional[float] = None,
                 gt_label: Optional[int] = None,
                 class_names: Sequence[str] = ('0', '1')) -> np.ndarray:
    """Draw mask outlines and the class result on a BGR image.

    Prediction outline in red, ground truth in green; a text line with the
    predicted class and its probability, and the true class when known.

    Returns:
        np.ndarray: a new (H, W, 3) uint8 BGR image.
    """
    out = img.copy()
    if gt_mask is not None:
        contours, _ = cv2.findContours(
            (gt_mask == 1).astype(np.uint8), cv2.RETR_EXTERNAL,
            cv2.CHAIN_APPROX_SIMPLE)
        cv2.drawContours(out, contours, -1, (0, 255, 0), 1)
    contours, _ = cv2.findContours(
        (pred_mask == 1).astype(np.uint8), cv2.RETR_EXTERNAL,
        cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(out, contours, -1, (0, 0, 255), 1)
    parts = []
    if pred_label is not None:
        name = class_names[pred_label] if pred_label < len(
            class_names) else str(pred_label)
        parts.append(f'pred {name}' + (f' ({pred_prob:.2f})'
                                       if pred_prob is not None else ''))
    if gt_label is not None:
        name = class_names[gt_label] if gt_label < len(class_names) else str(
            gt_label)
        parts.append(f'true {name}')
    if parts:
        scale = max(0.35, out.shape[1] / 700)
        cv2.putText(out, ' | '.join(parts), (4, int(16 * scale / 0.5)),
                    cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 255, 255), 1,
                    cv2.LINE_AA)
    return out


@HOOKS.register_module()
class TumorOverlayHook(Hook):
    """Write one overlay per test image to ``out_dir``: ground-truth outline
    (green), predicted outline (red), predicted class with its probability
    and the true class. ``tools/test.py --show-dir DIR`` adds it.

    Args:
        out_dir (str): Output folder (created).
        max_images (int, optional): Stop after this many. Default: None.
    """

    priority = 'LOW'

    def __init__(self, out_dir: str, max_images: Optional[int] = None):
        self.out_dir = out_dir
        self.max_images = max_images
        self._count = 0

    def after_test_iter(self, runner, batch_idx, data_batch=None,
                        outputs=None):
        os.makedirs(self.out_dir, exist_ok=True)
        names = runner.test_dataloader.dataset.metainfo.get(
            'cls_classes', ('0', '1'))
        for sample in outputs or []:
            if self.max_images is not None and \
                    self._count >= self.max_images:
                return
            img = mmcv.imread(sample.img_path)
            pred = sample.pred_sem_seg.data[0].cpu().numpy()
            gt = sample.gt_sem_seg.data[0].cpu().numpy() \
                if 'gt_sem_seg' in sample else None
            if img.shape[:2] != pred.shape:
                img = cv2.resize(img, pred.shape[::-1])
            label = int(sample.pred_label) if 'pred_label' in sample \
                else None
            prob = float(sample.pred_score[label]) if label is not None \
                else None
            gt_label = int(sample.gt_label) if 'gt_label' in sample else None
            overlay = draw_overlay(img, pred, gt, label, prob, gt_label,
                                   names)
            cv2.imwrite(
                osp.join(self.out_dir,
                         osp.splitext(osp.basename(sample.img_path))[0] +
                         '.png'), overlay)
            self._count += 1
