"""Where the tumor Dice goes: the error pixels of a split, sorted by kind.

The tumor Dice of a split is ``2 TP / (2 TP + FP + FN)`` over pixel counts
summed across images (mmseg's ``IoUMetric``). Every error pixel falls in
exactly one of four kinds, per image, with the predicted mask cut into
8-connected components:

- ``fn_missed``: the lesion's pixels in an image where no predicted
  component touches the lesion (a miss: the whole lesion is lost);
- ``fn_boundary``: lesion pixels left out by a prediction that does touch
  it (under-segmentation of a found lesion);
- ``fp_boundary``: predicted pixels outside the lesion, in components that
  touch it (over-segmentation of a found lesion);
- ``fp_elsewhere``: predicted pixels in components that touch no lesion
  (a second blob, or the wrong place in a missed image).

``box_fill`` measures the shape of a found lesion's prediction: the share
of its bounding box that its touching components fill (1 for a rectangle,
as every label of the real export is; pi / 4 for an ellipse).

``dice_without[kind]`` is the split's Dice with that kind's pixels removed
from the sums (``fn_missed``: the missed lesions counted as found
exactly): the most that curing that kind alone could give.
"""
from typing import Dict, List, Optional, Sequence

import numpy as np

KINDS = ('fn_missed', 'fn_boundary', 'fp_boundary', 'fp_elsewhere')


def image_errors(pred: np.ndarray, gt: np.ndarray) -> Dict[str, int]:
    """Pixel counts of one image.

    Args:
        pred (np.ndarray): (H, W) bool, predicted tumor mask.
        gt (np.ndarray): (H, W) bool, true tumor mask.

    Returns:
        dict: ``tp``, ``gt_px``, ``pred_px``, ``found`` (1 when a predicted
        component touches the lesion, 0 when missed, -1 without a lesion),
        ``components`` (predicted), the four kinds of :data:`KINDS` and
        ``box_fill`` (None unless found).
    """
    from scipy import ndimage
    pred = np.asarray(pred, bool)
    gt = np.asarray(gt, bool)
    if pred.shape != gt.shape:
        raise ValueError(f'prediction {pred.shape} and truth {gt.shape} '
                         'differ in shape')
    labels, n = ndimage.label(pred, structure=np.ones((3, 3), int))
    touching = np.unique(labels[gt & pred])
    touching = touching[touching > 0]
    near = np.isin(labels, touching)
    tp = int((pred & gt).sum())
    fn = int((gt & ~pred).sum())
    found = -1 if not gt.any() else int(len(touching) > 0)
    box_fill = None
    if found == 1:
        ys, xs = np.nonzero(near)
        box = (ys.max() - ys.min() + 1) * (xs.max() - xs.min() + 1)
        box_fill = round(float(near.sum() / box), 4)
    return dict(
        tp=tp,
        gt_px=int(gt.sum()),
        pred_px=int(pred.sum()),
        found=found,
        components=int(n),
        fn_missed=fn if found == 0 else 0,
        fn_boundary=fn if found == 1 else 0,
        fp_boundary=int((near & ~gt).sum()),
        fp_elsewhere=int((pred & ~near).sum()),
        box_fill=box_fill)


def dice_of(tp: int, fp: int, fn: int) -> float:
    """Dice in percent; 100 when there is nothing to find and nothing
    predicted."""
    den = 2 * tp + fp + fn
    return 100.0 if den == 0 else 100.0 * 2 * tp / den


def summarize(rows: Sequence[dict],
              size_edges: Sequence[int] = (5000, 15000)) -> dict:
    """Split-level breakdown of :func:`image_errors` rows.

    Args:
        rows: one :func:`image_errors` dict per image; a ``label`` key (the
            image class) adds a per-class table.
        size_edges: lesion areas (px) that cut the per-size table.

    Returns:
        dict: ``images``, ``tumor_Dice``; ``error_share`` (percent of all
        error pixels per kind); ``dice_without`` (see the module
        docstring); ``missed`` (images), of which ``missed_empty`` have
        no predicted pixel at all (the misses that filling an empty mask
        could reach; the others predict a lesion in the wrong place);
        ``multi_component`` (images with more than one predicted
        component); ``box_fill_median`` (found lesions); ``by_size`` and
        ``by_label``: per group images, missed, median per-image Dice, the
        group's own summed Dice and its share of the split's error pixels.
    """
    tot = {k: sum(r[k] for r in rows) for k in ('tp', 'gt_px') + KINDS}
    fp = tot['fp_boundary'] + tot['fp_elsewhere']
    fn = tot['fn_missed'] + tot['fn_boundary']
    errors = fp + fn
    dice = dice_of(tot['tp'], fp, fn)
    without = {}
    for kind in KINDS:
        tp = tot['tp'] + (tot['fn_missed'] if kind == 'fn_missed' else 0)
        kfp = fp - (tot[kind] if kind.startswith('fp') else 0)
        kfn = fn - (tot[kind] if kind.startswith('fn') else 0)
        without[kind] = round(dice_of(tp, kfp, kfn), 2)

    def group(members: List[dict]) -> dict:
        g_fp = sum(r['fp_boundary'] + r['fp_elsewhere'] for r in members)
        g_fn = sum(r['fn_missed'] + r['fn_boundary'] for r in members)
        per_image = [
            dice_of(r['tp'], r['fp_boundary'] + r['fp_elsewhere'],
                    r['fn_missed'] + r['fn_boundary']) for r in members
        ]
        return dict(
            images=len(members),
            missed=sum(r['found'] == 0 for r in members),
            median_image_dice=round(float(np.median(per_image)), 2)
            if members else None,
            dice=round(dice_of(sum(r['tp'] for r in members), g_fp, g_fn), 2),
            error_share=round(100.0 * (g_fp + g_fn) / errors, 2)
            if errors else 0.0)

    fills = [r['box_fill'] for r in rows if r['box_fill'] is not None]
    edges = [0] + list(size_edges) + [None]
    by_size = {}
    for lo, hi in zip(edges[:-1], edges[1:]):
        name = f'{lo}-{hi}' if hi is not None else f'>={lo}'
        members = [
            r for r in rows if r['gt_px'] > 0 and r['gt_px'] >= lo and
            (hi is None or r['gt_px'] < hi)
        ]
        by_size[name] = group(members)
    by_label: Optional[dict] = None
    if rows and 'label' in rows[0]:
        by_label = {
            str(lab): group([r for r in rows if r['label'] == lab])
            for lab in sorted({r['label'] for r in rows})
        }
    return dict(
        images=len(rows),
        tumor_Dice=round(dice, 2),
        error_share={
            k: round(100.0 * tot[k] / errors, 2) if errors else 0.0
            for k in KINDS
        },
        dice_without=without,
        missed=sum(r['found'] == 0 for r in rows),
        missed_empty=sum(r['found'] == 0 and r['components'] == 0
                         for r in rows),
        multi_component=sum(r['components'] > 1 for r in rows),
        box_fill_median=round(float(np.median(fills)), 4) if fills else None,
        by_size=by_size,
        by_label=by_label)


def resolution_ceiling(masks: Sequence[np.ndarray], size: int) -> float:
    """Tumor Dice (percent, areas summed) of the labels themselves after a
    round trip through an ``size`` x ``size`` map: area-averaged down,
    bilinearly up to each mask's size (as mmseg resizes logits), cut at
    0.5. The best a head predicting at that resolution could score.

    Args:
        masks: (H, W) bool labels.
        size (int): Side of the low-resolution map (e.g. 80 for a 1/4
            head on a 320 x 320 input).
    """
    import torch
    import torch.nn.functional as F
    tp = fp = fn = 0
    for m in masks:
        t = torch.from_numpy(np.asarray(m, np.float32))[None, None]
        low = F.interpolate(t, size=(size, size), mode='area')
        up = F.interpolate(
            low, size=t.shape[2:], mode='bilinear',
            align_corners=False)[0, 0].numpy() > 0.5
        m = np.asarray(m, bool)
        tp += int((up & m).sum())
        fp += int((up & ~m).sum())
        fn += int((~up & m).sum())
    return dice_of(tp, fp, fn)
