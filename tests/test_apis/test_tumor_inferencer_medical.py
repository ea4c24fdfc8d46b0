"""DICOM and NIfTI through TumorInferencer and tools/infer.py: millimetres,
millilitres and a NIfTI mask over the scan, with the shipped weights on
synthetic slices given a known spacing."""
import json
import os.path as osp

import cv2
import numpy as np
import pytest

from mtnet_plugin.apis import TumorInferencer
from mtnet_plugin.datasets.medical_volume import read_medical, window_to_uint8
from tests.medical_files import (synthetic_stack, write_dicom_file,
                                 write_dicom_series, write_nifti)

from ..conftest import run_tool

pydicom = pytest.importorskip('pydicom')
nib = pytest.importorskip('nibabel')

SPACING, SLICE = (0.8, 0.7), 2.5
# a window that maps the stored uint8 values onto themselves, so the
# DICOM's slices are the synthetic arrays bit for bit
IDENTITY_WINDOW = dict(WindowCenter=127.5, WindowWidth=255)


@pytest.fixture(scope='module')
def inferencer(shipped):
    return TumorInferencer(*shipped, backend='pytorch')


@pytest.fixture(scope='module')
def stack():
    return synthetic_stack(6, size=128, seed=0)


@pytest.fixture(scope='module')
def reference(inferencer, stack):
    """The same slices run as arrays (no spacing known)."""
    return [inferencer(s)[0] for s in stack]


def test_dicom_series_mm2_ml_and_class(inferencer, stack, reference,
                                       tmp_path):
    write_dicom_series(str(tmp_path), stack, pixel_spacing=SPACING,
                       slice_spacing=SLICE, **IDENTITY_WINDOW)
    summary = inferencer.infer_volume(str(tmp_path))
    areas = [r['tumor_area_px'] for r in reference]
    assert sum(areas) > 0, 'the synthetic lesions must be found'
    for k, (rec, ref) in enumerate(zip(summary['slices'], reference)):
        np.testing.assert_array_equal(summary['masks'][k], ref['mask'])
        assert rec['slice_index'] == k and rec['num_slices'] == 6
        assert rec['pixel_spacing_mm'] == list(SPACING)
        assert rec['tumor_area_mm2'] == pytest.approx(
            ref['tumor_area_px'] * 0.8 * 0.7, rel=1e-12)
        assert ref['tumor_area_mm2'] is None  # an array has no spacing
    assert summary['tumor_volume_ml'] == pytest.approx(
        sum(areas) * 0.8 * 0.7 * SLICE / 1000, rel=1e-12)
    assert summary['slices_with_tumor'] == [
        k for k, a in enumerate(areas) if a > 0]
    probs = np.array([r['class_probs'] for r in reference])
    expected = (probs * np.array(areas)[:, None]).sum(0) / sum(areas)
    np.testing.assert_allclose(summary['class_probs'], expected, rtol=1e-6)
    assert summary['class_index'] == int(expected.argmax())


def test_infer_cli_nifti_volume_writes_mask_over_the_scan(
        shipped, inferencer, stack, tmp_path, capsys):
    """A 3D NIfTI stored L-P-S (as DICOM converters write it, radiological
    view = voxel layout transposed): the written mask has the input's shape
    and affine, and its voxels are the slices' masks at the right place."""
    data = np.transpose(stack, (2, 1, 0)).astype(np.float32)  # (x, y, z)
    affine = np.diag([-0.7, -0.8, SLICE, 1.0])
    affine[:3, 3] = (40.0, 50.0, -10.0)
    path = write_nifti(str(tmp_path / 'scan.nii.gz'), data, affine)
    shown = read_medical(path).slices  # windowed by the volume's range
    np.testing.assert_array_equal(shown, window_to_uint8(stack, 'ref'))
    reference = [inferencer(s)[0] for s in shown]
    out = tmp_path / 'out'
    code, _, err = run_tool('infer.py', [
        path, '--config', shipped[0], '--checkpoint', shipped[1],
        '--out-dir', str(out), '--backend', 'pytorch'
    ], capsys)
    assert code == 0, err[-3000:]
    results = json.load(open(out / 'results.json'))
    assert results['results'] == [] and len(results['volumes']) == 1
    vol = results['volumes'][0]
    assert vol['num_slices'] == 6 and vol['mask_nifti'] == 'scan_mask.nii.gz'
    areas = [r['tumor_area_px'] for r in reference]
    assert [s['tumor_area_px'] for s in vol['slices']] == areas
    # NIfTI stores the spacing as float32: 0.7 reads back as 0.69999999
    assert vol['tumor_volume_ml'] == pytest.approx(
        sum(areas) * 0.7 * 0.8 * SLICE / 1000, rel=1e-6)
    for s in vol['slices']:
        assert (out / s['overlay']).is_file()
    mask = nib.load(str(out / 'scan_mask.nii.gz'))
    assert mask.shape == data.shape
    np.testing.assert_allclose(mask.affine, affine, atol=1e-5)
    expected = np.transpose(np.stack([r['mask'] for r in reference]),
                            (2, 1, 0))
    np.testing.assert_array_equal(np.asarray(mask.dataobj), expected)


def test_folder_of_2d_dicom_jpeg_and_a_bad_dicom(shipped, stack, reference,
                                                 tmp_path, capsys):
    """A 2D DICOM keeps today's outputs plus mm²; a JPEG has null spacing;
    a DICOM without pixel data is a counted skip naming the file."""
    folder = tmp_path / 'in'
    folder.mkdir()
    write_dicom_file(str(folder / 'a.dcm'), stack[2], PixelSpacing=[0.5, 0.4],
                     **IDENTITY_WINDOW)
    cv2.imwrite(str(folder / 'b.png'), stack[2])
    bad = write_dicom_file(str(folder / 'c.dcm'), stack[0])
    ds = pydicom.dcmread(bad)
    del ds.PixelData
    ds.save_as(bad)
    out = tmp_path / 'out'
    code, _, err = run_tool('infer.py', [
        str(folder), '--config', shipped[0], '--checkpoint', shipped[1],
        '--out-dir', str(out), '--backend', 'pytorch', '--jsonl'
    ], capsys)
    assert code == 0, err[-3000:]
    assert '1 skipped' in err and 'c.dcm' in err
    lines = [json.loads(x) for x in open(out / 'results.jsonl')]
    by = {osp.basename(r['path']): r for r in lines}
    area = reference[2]['tumor_area_px']
    assert by['a.dcm']['tumor_area_px'] == by['b.png']['tumor_area_px'] \
        == area > 0
    assert by['a.dcm']['pixel_spacing_mm'] == [0.5, 0.4]
    assert by['a.dcm']['tumor_area_mm2'] == pytest.approx(area * 0.2)
    assert by['b.png']['pixel_spacing_mm'] is None
    assert by['b.png']['tumor_area_mm2'] is None
    assert 'no pixel data' in by['c.dcm']['error']
    assert not list(out.glob('*.nii.gz'))  # 2D inputs: no NIfTI mask
