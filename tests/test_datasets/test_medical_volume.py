"""DICOM and NIfTI reading, geometry and mask writing, on files the tests
write themselves with pydicom and nibabel."""
import gzip
import os
import os.path as osp

import numpy as np
import pytest

from mtnet_plugin.datasets.medical_volume import (MedicalImageError,
                                                  is_dicom_series_dir,
                                                  read_medical, slice_size,
                                                  window_to_uint8,
                                                  write_mask_nifti)
from tests.medical_files import (lps_to_ras, synthetic_stack,
                                 write_dicom_file, write_dicom_series,
                                 write_nifti)

pydicom = pytest.importorskip('pydicom')
nib = pytest.importorskip('nibabel')


def test_series_sorted_by_position_with_spacing(tmp_path):
    """Files written in shuffled order come back ordered along the slice
    normal, with pixel and slice spacing from the headers."""
    stack = synthetic_stack(6, size=64)
    write_dicom_series(str(tmp_path), stack.astype(np.uint16) * 4,
                       pixel_spacing=(0.8, 0.7), slice_spacing=2.5)
    assert is_dicom_series_dir(str(tmp_path))
    vol = read_medical(str(tmp_path))
    assert vol.is_volume and vol.num_slices == 6
    assert vol.pixel_spacing_mm == (0.8, 0.7)
    assert vol.slice_spacing_mm == pytest.approx(2.5)
    # same content, in the original order (percentile window is monotonic)
    ref = window_to_uint8(stack.astype(np.float32) * 4, 'ref')
    np.testing.assert_array_equal(vol.slices, ref)


def test_series_ordered_along_normal_not_by_instance_number(tmp_path):
    """A sagittal series whose InstanceNumbers run backwards: position
    along the normal decides."""
    stack = synthetic_stack(4, size=32)
    geo = write_dicom_series(str(tmp_path), stack,
                             orientation=(0, 1, 0, 0, 0, -1))
    for f in os.listdir(tmp_path):  # reverse the InstanceNumbers
        ds = pydicom.dcmread(osp.join(tmp_path, f))
        ds.InstanceNumber = 10 - ds.InstanceNumber
        ds.save_as(osp.join(tmp_path, f))
    vol = read_medical(str(tmp_path))
    np.testing.assert_array_equal(vol.slices,
                                  window_to_uint8(stack, 'ref'))
    normal = np.cross(geo['iop'][:3], geo['iop'][3:])
    assert vol.slice_spacing_mm == pytest.approx(2.5)
    assert normal.tolist() == [-1, 0, 0]


def test_series_affine_puts_mask_voxels_where_dicom_says(tmp_path):
    """A marked pixel's world position from the DICOM geometry (LPS ->
    RAS) equals the written mask voxel's position through its affine:
    what makes Slicer and ITK-SNAP overlay the mask on the series."""
    stack = np.full((5, 40, 48), 100, np.uint16)
    k, r, c = 3, 7, 30
    stack[k, r, c] = 4000
    iop = (0.9848, 0.1736, 0, -0.1736, 0.9848, 0)  # 10 degrees in-plane
    geo = write_dicom_series(str(tmp_path / 'series'), stack,
                             pixel_spacing=(0.9, 0.6), slice_spacing=3.0,
                             orientation=iop, origin=(12.0, -30.0, 40.0))
    vol = read_medical(str(tmp_path / 'series'))
    masks = (vol.slices == vol.slices.max()).astype(np.uint8)
    assert np.argwhere(masks).tolist() == [[k, r, c]]
    out = write_mask_nifti(vol, masks, str(tmp_path / 'm_mask.nii.gz'))
    img = nib.load(out)
    assert img.shape == (48, 40, 5)  # (cols, rows, slices), as dcm2niix
    (idx, ) = np.argwhere(np.asarray(img.dataobj))
    world = img.affine @ np.r_[idx, 1.0]
    x, y = geo['iop'][:3], geo['iop'][3:]
    lps = geo['ipp'][k] + c * 0.6 * x + r * 0.9 * y
    np.testing.assert_allclose(world[:3], lps_to_ras(lps), atol=1e-3)
    assert img.header.get_data_dtype() == np.uint8


def test_modality_lut_monochrome1_and_window(tmp_path):
    """RescaleSlope/Intercept before the file's window; MONOCHROME1 is
    inverted."""
    px = np.array([[0, 100], [200, 300]], np.uint16)
    f = write_dicom_file(
        str(tmp_path / 'a.dcm'), px, RescaleSlope=2.0, RescaleIntercept=-100,
        WindowCenter=200, WindowWidth=400, PixelSpacing=[0.5, 0.5])
    vol = read_medical(f)
    values = px * 2.0 - 100  # -100, 100, 300, 500; window 0..400
    expected = np.clip((values - 0) * 255 / 400, 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(vol.slices[0], expected)
    assert not vol.is_volume and vol.pixel_spacing_mm == (0.5, 0.5)
    ds = pydicom.dcmread(f)
    ds.PhotometricInterpretation = 'MONOCHROME1'
    ds.save_as(f)
    np.testing.assert_array_equal(read_medical(f).slices[0], 255 - expected)


def test_no_window_uses_percentiles_and_no_spacing_is_none(tmp_path):
    px = np.arange(100, dtype=np.uint16).reshape(10, 10) * 40
    vol = read_medical(write_dicom_file(str(tmp_path / 'b.dcm'), px))
    lo, hi = np.percentile(px.astype(np.float32), (0.5, 99.5))
    exp = np.clip((px - lo) * 255 / (hi - lo), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(vol.slices[0], exp)
    assert vol.pixel_spacing_mm is None and vol.slice_spacing_mm is None
    assert slice_size(str(tmp_path / 'b.dcm')) == (10, 10)


def test_multiframe_file_is_a_volume(tmp_path):
    stack = synthetic_stack(3, size=32).astype(np.uint16)
    f = write_dicom_file(str(tmp_path / 'mf.dcm'), stack,
                         PixelSpacing=[1.2, 1.1], SpacingBetweenSlices=4.0)
    vol = read_medical(f)
    assert vol.is_volume and vol.num_slices == 3
    assert vol.pixel_spacing_mm == (1.2, 1.1)
    assert vol.slice_spacing_mm == 4.0
    with pytest.raises(MedicalImageError, match='mf.dcm.*3 frames'):
        slice_size(f)


@pytest.mark.parametrize('codes', [('R', 'A', 'S'), ('L', 'P', 'S'),
                                   ('A', 'S', 'R'), ('I', 'L', 'P')])
def test_nifti_cut_along_superior_inferior_in_radiological_view(
        tmp_path, codes):
    """Whatever the voxel axes, slices run along S-I, rows from anterior to
    posterior and columns from the patient's right to left, and the mask
    goes back to the file's own voxels."""
    from nibabel.orientations import axcodes2ornt, inv_ornt_aff
    ras = np.zeros((20, 24, 6), np.float32)  # x: L->R, y: P->A, z: I->S
    ras[...] = 10
    ras[15, 20, 4] = 100  # right, anterior, superior
    # the same volume stored with voxel axes `codes`
    ornt = axcodes2ornt(codes, labels=(('L', 'R'), ('P', 'A'), ('I', 'S')))
    data = nib.orientations.apply_orientation(ras, ornt)
    aff = np.diag([0.5, 0.6, 3.0, 1.0]) @ inv_ornt_aff(ornt, ras.shape)
    path = write_nifti(str(tmp_path / 'v.nii.gz'), data, aff)
    vol = read_medical(path)
    assert vol.num_slices == 6 and vol.is_volume
    assert vol.slices.shape == (6, 24, 20)  # (S-I, A-P rows, R-L cols)
    assert vol.pixel_spacing_mm == pytest.approx((0.6, 0.5))
    assert vol.slice_spacing_mm == pytest.approx(3.0)
    k, r, c = np.argwhere(vol.slices == 255)[0]
    # superior slice 4 of 0..5 (inferior first); anterior y=20 of 24 is
    # near the top (row 3); the patient's right x=15 of 20 is on the
    # image's left (col 4)
    assert (k, r, c) == (4, 24 - 1 - 20, 20 - 1 - 15)
    masks = np.zeros(vol.slices.shape, np.uint8)
    masks[k, r, c] = 1
    out = nib.load(write_mask_nifti(vol, masks, str(tmp_path / 'm.nii.gz')))
    assert out.shape == data.shape
    np.testing.assert_allclose(out.affine, nib.load(path).affine, atol=1e-5)
    np.testing.assert_array_equal(
        np.argwhere(np.asarray(out.dataobj)), np.argwhere(data == 100))


def test_2d_nifti_is_one_slice(tmp_path):
    data = synthetic_stack(1, size=32)[0].T.astype(np.float32)
    path = write_nifti(str(tmp_path / 's.nii'), data,
                       np.diag([0.4, 0.4, 5.0, 1.0]))
    vol = read_medical(path)
    assert vol.num_slices == 1 and not vol.is_volume
    assert slice_size(path) == (32, 32)
    assert vol.mask_to_input(np.zeros((1, 32, 32))).shape == (32, 32)


# ------------------------------------------------------------ bad input
def test_dicom_without_pixel_data(tmp_path):
    f = write_dicom_file(str(tmp_path / 'nopix.dcm'), np.zeros((4, 4)))
    ds = pydicom.dcmread(f)
    del ds.PixelData
    ds.save_as(f)
    with pytest.raises(MedicalImageError, match='nopix.dcm.*no pixel data'):
        read_medical(f)


def test_compressed_without_decoder_names_the_packages():
    from pydicom.data import get_testdata_file
    path = get_testdata_file('MR_small_jpeg_ls_lossless.dcm')
    try:
        pydicom.dcmread(path).pixel_array
        pytest.skip('a JPEG-LS decoder is installed here')
    except Exception:
        pass
    with pytest.raises(MedicalImageError,
                       match=r'MR_small_jpeg_ls_lossless.dcm.*JPEG-LS.*'
                       r'pip install pylibjpeg'):
        read_medical(path)


def test_truncated_dicom_and_nifti(tmp_path):
    from pydicom.data import get_testdata_file
    with pytest.raises(MedicalImageError, match='MR_truncated.dcm'):
        read_medical(get_testdata_file('MR_truncated.dcm'))
    path = write_nifti(str(tmp_path / 't.nii.gz'),
                       np.random.rand(16, 16, 8).astype(np.float32),
                       np.eye(4))
    with open(path, 'rb') as f:
        raw = gzip.decompress(f.read())
    with open(path, 'wb') as f:
        f.write(gzip.compress(raw[:len(raw) // 2]))
    with pytest.raises(MedicalImageError, match='t.nii.gz'):
        read_medical(path)


def test_4d_nifti_channels_are_modalities_each_windowed_alone(tmp_path):
    """A multi-modal (MSD) 4D NIfTI: the first three modalities by default,
    each windowed over the volume on its own; chosen channels in order; a
    two-modality file asks for three names; a channel index out of range
    is refused naming the file."""
    rng = np.random.default_rng(0)
    data = np.stack([rng.random((8, 8, 4)) * s for s in (1, 10, 100, 1000)],
                    axis=-1).astype(np.float32)
    p4 = write_nifti(str(tmp_path / 'f.nii'), data, np.eye(4))
    vol = read_medical(p4)
    assert vol.slices.shape == (4, 8, 8, 3) and vol.mask_shape == (8, 8, 4)
    for c in range(3):  # each channel alone spans 0-255
        ref = read_medical(write_nifti(str(tmp_path / f'c{c}.nii'),
                                       data[..., c], np.eye(4)))
        np.testing.assert_array_equal(vol.slices[..., c], ref.slices)
    assert vol.slice_bgr(1).shape == (8, 8, 3)
    chosen = read_medical(p4, channels=(3, 0, 0))
    np.testing.assert_array_equal(chosen.slices[..., 1], vol.slices[..., 0])
    np.testing.assert_array_equal(chosen.slices[..., 1],
                                  chosen.slices[..., 2])
    assert not np.array_equal(chosen.slices[..., 0], vol.slices[..., 0])
    with pytest.raises(MedicalImageError, match='f.nii.*three'):
        read_medical(p4, channels=(0, 4, 1))
    p2 = write_nifti(str(tmp_path / 'two.nii'), data[..., :2], np.eye(4))
    with pytest.raises(MedicalImageError, match='two.nii: 2 modalities'):
        read_medical(p2)


def test_to_display_inverts_mask_to_input(tmp_path):
    """A label volume in the input's layout, put in display order by
    ``to_display``, lines up with the slices; ``mask_to_input`` brings it
    back unchanged (an oblique, flipped affine)."""
    data = np.random.default_rng(1).random((6, 7, 5)).astype(np.float32)
    affine = np.array([[0, 0, -2, 10], [-1, 0, 0, 5], [0, 1.5, 0, 0],
                       [0, 0, 0, 1]], np.float64)
    vol = read_medical(write_nifti(str(tmp_path / 'o.nii'), data, affine))
    # the input's own voxels, put in display order, are the slices
    np.testing.assert_array_equal(
        window_to_uint8(vol.to_display(data), 'o.nii'), vol.slices)
    labels = (data > 0.5).astype(np.uint8)
    shown = vol.to_display(labels)
    assert shown.shape == vol.slices.shape
    np.testing.assert_array_equal(vol.mask_to_input(shown), labels)


def test_constant_and_nan_nifti(tmp_path):
    pc = write_nifti(str(tmp_path / 'c.nii'), np.full((8, 8, 4), 7.0),
                     np.eye(4))
    with pytest.raises(MedicalImageError, match='c.nii.*constant'):
        read_medical(pc)
    pn = write_nifti(str(tmp_path / 'n.nii'),
                     np.full((8, 8, 4), np.nan, np.float32), np.eye(4))
    with pytest.raises(MedicalImageError, match='n.nii.*NaN'):
        read_medical(pn)


def test_folder_with_several_series_lists_them_and_reads_the_largest(
        tmp_path):
    stack = synthetic_stack(4, size=32)
    big = write_dicom_series(str(tmp_path), stack, description='T1')
    small = write_dicom_series(str(tmp_path / 'x'), stack[:2],
                               description='T2')
    for f in os.listdir(tmp_path / 'x'):  # same folder, other series
        os.replace(tmp_path / 'x' / f, tmp_path / f'T2_{f}')
    os.rmdir(tmp_path / 'x')
    vol = read_medical(str(tmp_path))
    assert vol.num_slices == 4
    note = ' '.join(vol.warnings)
    assert big['uid'] in note and small['uid'] in note
    assert '--series-uid' in note and '"T2"' in note
    assert read_medical(str(tmp_path),
                        series_uid=small['uid']).num_slices == 2
    with pytest.raises(MedicalImageError, match='no series 1.2.3'):
        read_medical(str(tmp_path), series_uid='1.2.3')


def test_missing_extra_names_it(monkeypatch, tmp_path):
    import builtins
    real = builtins.__import__

    def fake(name, *a, **k):
        if name == 'nibabel':
            raise ImportError('no nibabel')
        return real(name, *a, **k)

    (tmp_path / 'x.nii').write_bytes(b'')
    monkeypatch.setattr(builtins, '__import__', fake)
    with pytest.raises(ImportError, match=r'\.\[medical\]'):
        read_medical(str(tmp_path / 'x.nii'))
