"""Synthetic MRI-like slices with tumor polygons, in the Roboflow COCO layout.

The project's embedded default data: tests and ``make demo`` run on it, so
nothing needs a download. Each slice has a skull ring, textured brain tissue
with noise, two ventricles, and varies in size, position, rotation and
contrast. A lesion is an irregular polygon of one of two visually distinct
kinds, named like the Roboflow export's categories:

- ``'0'``: ring-enhancing (bright rim, dark necrotic core);
- ``'1'``: bright, homogeneous, well circumscribed.

A fraction of slices has no lesion (for the ``presence`` label mode).
"""
import json
import os
import os.path as osp
from typing import Dict, Optional

import cv2
import numpy as np

CATEGORIES = [
    dict(id=0, name='Tumor', supercategory='none'),
    dict(id=1, name='0', supercategory='Tumor'),
    dict(id=2, name='1', supercategory='Tumor'),
]
DEFAULT_SPLITS = dict(train=400, valid=100, test=200)


def _smooth_noise(rng, size, scale):
    """Low-frequency texture in [-1, 1]: blurred white noise."""
    small = rng.standard_normal((max(2, size // scale), ) * 2)
    field = cv2.resize(
        small.astype(np.float32), (size, size),
        interpolation=cv2.INTER_CUBIC)
    return field / (np.abs(field).max() + 1e-6)


def _lesion_polygon(rng, cx, cy, radius, n_vertices):
    angles = np.sort(rng.uniform(0, 2 * np.pi, n_vertices))
    radii = radius * rng.uniform(0.7, 1.3, n_vertices)
    # Smooth the radii circularly so the outline is irregular, not spiky.
    radii = (radii + np.roll(radii, 1) + np.roll(radii, -1)) / 3
    xs = cx + radii * np.cos(angles)
    ys = cy + radii * np.sin(angles)
    return np.stack([xs, ys], axis=1)


def render_slice(rng: np.random.Generator,
                 size: int = 256,
                 kind: Optional[int] = None):
    """Draw one slice.

    Args:
        rng: Random generator (the slice is a function of its state).
        size: Side of the square image.
        kind: Lesion kind 0 or 1, or None for a tumor-free slice.

    Returns:
        tuple: (uint8 greyscale image (size, size), polygon (K, 2) float
        array in pixel coordinates or None).
    """
    s = size
    img = np.zeros((s, s), np.float32)
    cx, cy = s / 2 + rng.uniform(-0.06, 0.06, 2) * s
    ax = s * rng.uniform(0.33, 0.42)
    ay = s * rng.uniform(0.38, 0.46)
    angle = rng.uniform(-15, 15)
    center = (int(round(cx)), int(round(cy)))
    brain = np.zeros((s, s), np.uint8)
    cv2.ellipse(brain, center, (int(ax), int(ay)), angle, 0, 360, 1, -1)
    skull_t = max(2, int(s * rng.uniform(0.02, 0.035)))
    skull = np.zeros((s, s), np.uint8)
    cv2.ellipse(skull, center, (int(ax) + skull_t, int(ay) + skull_t), angle,
                0, 360, 1, skull_t)
    base = rng.uniform(90, 130)
    texture = 18 * _smooth_noise(rng, s, 16) + 8 * _smooth_noise(rng, s, 4)
    img += brain * (base + texture)
    # grey/white matter: a brighter inner region
    inner = np.zeros((s, s), np.uint8)
    cv2.ellipse(inner, center, (int(ax * 0.7), int(ay * 0.72)), angle, 0, 360,
                1, -1)
    img += inner * rng.uniform(10, 25)
    img[skull > 0] = rng.uniform(190, 235)
    # ventricles: two dark crescents near the midline
    for side in (-1, 1):
        vc = (int(cx + side * ax * rng.uniform(0.12, 0.2)),
              int(cy + rng.uniform(-0.05, 0.05) * s))
        cv2.ellipse(img, vc, (max(2, int(ax * 0.08)), max(3, int(ay * 0.3))),
                    angle + side * rng.uniform(5, 20), 0, 360,
                    float(rng.uniform(25, 50)), -1)
    polygon = None
    if kind is not None:
        radius = s * rng.uniform(0.06, 0.13)
        # inside the brain, off the midline ventricles
        for _ in range(20):
            r = rng.uniform(0.25, 0.65)
            t = rng.uniform(0, 2 * np.pi)
            lx, ly = cx + r * ax * np.cos(t), cy + r * ay * np.sin(t)
            if abs(lx - cx) > ax * 0.3:
                break
        polygon = _lesion_polygon(rng, lx, ly, radius,
                                  int(rng.integers(8, 15)))
        pts = np.round(polygon).astype(np.int32)
        lesion = np.zeros((s, s), np.uint8)
        cv2.fillPoly(lesion, [pts], 1)
        if kind == 0:  # ring-enhancing: dark core, bright rim
            img[lesion > 0] = rng.uniform(35, 65)
            rim = np.zeros((s, s), np.uint8)
            cv2.polylines(rim, [pts], True, 1,
                          max(2, int(radius * rng.uniform(0.2, 0.3))))
            img[(rim > 0) & (lesion > 0)] = rng.uniform(200, 240)
        else:  # bright, homogeneous
            img[lesion > 0] = rng.uniform(195, 240) + \
                6 * _smooth_noise(rng, s, 32)[lesion > 0]
    # acquisition: blur, contrast/gamma, noise
    img = cv2.GaussianBlur(img, (0, 0), rng.uniform(0.6, 1.2))
    img = img * rng.uniform(0.8, 1.15)
    img = 255 * (np.clip(img, 0, 255) / 255)**rng.uniform(0.85, 1.2)
    img += rng.normal(0, rng.uniform(3, 7), img.shape)
    return np.clip(img, 0, 255).astype(np.uint8), polygon


def _polygon_area(poly):
    x, y = poly[:, 0], poly[:, 1]
    return float(abs(np.dot(x, np.roll(y, 1)) - np.dot(y, np.roll(x, 1))) / 2)


def generate_split(out_dir: str,
                   num_images: int,
                   size: int = 256,
                   seed: int = 0,
                   tumor_free_ratio: float = 0.0,
                   bom: bool = False) -> dict:
    """Write one split folder (images + ``_annotations.coco.json``).

    Returns:
        dict: the COCO JSON that was written.
    """
    os.makedirs(out_dir, exist_ok=True)
    rng = np.random.default_rng(seed)
    images, annotations = [], []
    n_free = int(round(num_images * tumor_free_ratio))
    kinds = [None] * n_free + [i % 2 for i in range(num_images - n_free)]
    rng.shuffle(kinds)
    for idx, kind in enumerate(kinds):
        img, poly = render_slice(rng, size, kind)
        name = f'{idx:05d}_synthetic.jpg'
        cv2.imwrite(osp.join(out_dir, name), img,
                    [cv2.IMWRITE_JPEG_QUALITY, 95])
        images.append(dict(id=idx, file_name=name, height=size, width=size))
        if poly is None:
            continue
        poly = np.clip(poly, 0, size)
        x0, y0 = poly.min(0)
        x1, y1 = poly.max(0)
        annotations.append(
            dict(
                id=len(annotations),
                image_id=idx,
                category_id=1 + kind,
                segmentation=[[round(float(v), 2) for v in poly.ravel()]],
                area=round(_polygon_area(poly), 2),
                bbox=[round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)],
                iscrowd=0))
    coco = dict(
        info=dict(description='EfficientMTNet synthetic MRI'),
        images=images,
        annotations=annotations,
        categories=CATEGORIES)
    with open(
            osp.join(out_dir, '_annotations.coco.json'),
            'w',
            encoding='utf-8-sig' if bom else 'utf-8') as f:
        json.dump(coco, f)
    return coco


def generate_dataset(out_root: str,
                     splits: Optional[Dict[str, int]] = None,
                     size: int = 256,
                     seed: int = 0,
                     tumor_free_ratio: float = 0.0,
                     bom: bool = False) -> Dict[str, dict]:
    """Write ``out_root/{train,valid,test}`` in the Roboflow COCO layout.

    Each split has its own seed derived from ``seed``, so changing one
    split's size does not change the others.
    """
    splits = dict(DEFAULT_SPLITS if splits is None else splits)
    out = {}
    for i, (name, n) in enumerate(sorted(splits.items())):
        out[name] = generate_split(
            osp.join(out_root, name), n, size, seed * 1000 + i,
            tumor_free_ratio, bom)
    return out
