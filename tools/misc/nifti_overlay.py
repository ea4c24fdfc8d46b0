"""Draw a NIfTI mask over the NIfTI scan it belongs to, as a viewer does:
through the two files' affines, not their voxel indices.

    python tools/misc/nifti_overlay.py SCAN.nii.gz MASK.nii.gz --out PNG \
        [--slice K]

Both files are read with nibabel alone (not with the project's reader), the
scan is put in RAS+ order (``nibabel.as_closest_canonical``), each scan
voxel's centre is mapped into the mask's voxel grid with
``inv(mask.affine) @ scan.affine`` and the mask sampled there (nearest).
The axial slice with the largest mask area (or ``--slice``) is drawn in
radiological view (anterior up, the patient's right on the left), the mask
outlined in red. What 3D Slicer and ITK-SNAP show when both files are
loaded; it is how the docs' picture of ``tools/infer.py``'s
``<name>_mask.nii.gz`` was made.
"""
import argparse

import cv2
import numpy as np


def mask_on_scan_grid(scan, mask) -> np.ndarray:
    """The mask sampled at every voxel centre of ``scan`` (nearest)."""
    shape = scan.shape[:3]
    idx = np.indices(shape).reshape(3, -1)
    world_to_mask = np.linalg.inv(mask.affine) @ scan.affine
    m = world_to_mask[:3, :3] @ idx + world_to_mask[:3, 3:4]
    m = np.rint(m).astype(int)
    data = np.asarray(mask.dataobj)
    inside = np.all((m >= 0) & (m < np.array(data.shape)[:, None]), axis=0)
    out = np.zeros(idx.shape[1], np.uint8)
    out[inside] = data[m[0, inside], m[1, inside], m[2, inside]]
    return out.reshape(shape)


def draw(scan_file: str, mask_file: str, out: str, k=None,
         scale: int = 2) -> int:
    import nibabel as nib
    scan = nib.as_closest_canonical(nib.load(scan_file))  # RAS+ axes
    mask = nib.load(mask_file)
    on_scan = mask_on_scan_grid(scan, mask)
    if k is None:
        k = int(on_scan.reshape(-1, on_scan.shape[2]).sum(0).argmax())
    img = np.asarray(scan.dataobj, dtype=np.float32)[:, :, k]
    lo, hi = np.percentile(img, (0.5, 99.5))
    img = np.clip((img - lo) * 255 / max(hi - lo, 1e-6), 0, 255)
    # RAS (x: right, y: anterior) -> rows from anterior, columns from the
    # patient's right: transpose, then flip both
    view = np.ascontiguousarray(img.T[::-1, ::-1]).astype(np.uint8)
    m = np.ascontiguousarray(on_scan[:, :, k].T[::-1, ::-1])
    view = cv2.resize(view, None, fx=scale, fy=scale,
                      interpolation=cv2.INTER_LINEAR)
    m = cv2.resize(m, None, fx=scale, fy=scale,
                   interpolation=cv2.INTER_NEAREST)
    bgr = cv2.cvtColor(view, cv2.COLOR_GRAY2BGR)
    contours, _ = cv2.findContours(m, cv2.RETR_EXTERNAL,
                                   cv2.CHAIN_APPROX_NONE)
    cv2.drawContours(bgr, contours, -1, (0, 0, 255), 2)
    cv2.putText(bgr, f'axial slice {k}  R', (8, 22),
                cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 255, 255), 1)
    cv2.putText(bgr, 'L', (bgr.shape[1] - 20, 22), cv2.FONT_HERSHEY_SIMPLEX,
                0.6, (0, 255, 255), 1)
    cv2.imwrite(out, bgr)
    return k


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('scan')
    p.add_argument('mask')
    p.add_argument('--out', required=True)
    p.add_argument('--slice', type=int, default=None)
    args = p.parse_args()
    k = draw(args.scan, args.mask, args.out, args.slice)
    print(f'axial slice {k} -> {args.out}')


if __name__ == '__main__':
    main()
