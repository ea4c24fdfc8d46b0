"""tools/misc/nifti_overlay.py maps a mask onto its scan through the
affines, as a viewer does."""
import os.path as osp

import numpy as np
import pytest

from ..conftest import load_tool

nib = pytest.importorskip('nibabel')


def _tool():
    return load_tool('misc/nifti_overlay.py')


def test_mask_in_another_voxel_layout_lands_on_the_same_voxels(tmp_path):
    """The same mask stored with flipped and permuted axes (and the affine
    that says so) samples back onto the scan's own voxels."""
    from nibabel.orientations import (apply_orientation, axcodes2ornt,
                                      inv_ornt_aff)
    aff = np.diag([-0.5, -0.6, 2.0, 1.0])
    aff[:3, 3] = (10, 20, -5)
    scan = nib.Nifti1Image(np.random.rand(12, 10, 4).astype(np.float32), aff)
    mask = np.zeros((12, 10, 4), np.uint8)
    mask[2:5, 6:9, 1] = 1
    ornt = axcodes2ornt(('S', 'A', 'L'))  # another storage order
    ornt = nib.orientations.ornt_transform(nib.io_orientation(aff), ornt)
    other = nib.Nifti1Image(apply_orientation(mask, ornt),
                            aff @ inv_ornt_aff(ornt, mask.shape))
    assert other.shape != mask.shape
    np.testing.assert_array_equal(_tool().mask_on_scan_grid(scan, other),
                                  mask)
    # and the drawn slice is the one with most mask
    nib.save(scan, str(tmp_path / 's.nii.gz'))
    nib.save(other, str(tmp_path / 'm.nii.gz'))
    k = _tool().draw(str(tmp_path / 's.nii.gz'), str(tmp_path / 'm.nii.gz'),
                     str(tmp_path / 'o.png'))
    assert k == 1 and osp.getsize(tmp_path / 'o.png') > 0
