"""DICOM and NIfTI files written by the tests themselves (pydicom's and
nibabel's writers), from synthetic slices with a known geometry."""
import os
import os.path as osp

import numpy as np

from mtnet_plugin.datasets.synthetic_mri import render_slice


def synthetic_stack(n: int, size: int = 128, seed: int = 0,
                    lesion_slices=None) -> np.ndarray:
    """(n, size, size) uint8 slices from ``synthetic_mri``; the slices in
    ``lesion_slices`` (default: the middle third) have a lesion."""
    if lesion_slices is None:
        lesion_slices = range(n // 3, n - n // 3)
    rng = np.random.default_rng(seed)
    return np.stack([
        render_slice(rng, size, 1 if i in lesion_slices else None)[0]
        for i in range(n)
    ])


def _dataset(pixels: np.ndarray, **tags):
    import pydicom
    from pydicom.dataset import FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = MRImageStorage
    meta.MediaStorageSOPInstanceUID = pydicom.uid.generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = pydicom.Dataset()
    ds.file_meta = meta
    ds.SOPClassUID = MRImageStorage
    ds.SOPInstanceUID = meta.MediaStorageSOPInstanceUID
    ds.Modality = 'MR'
    ds.PatientName = 'Synthetic^Slice'
    pixels = np.asarray(pixels)
    frames = pixels.shape[0] if pixels.ndim == 3 else 1
    ds.Rows, ds.Columns = pixels.shape[-2:]
    if frames > 1:
        ds.NumberOfFrames = frames
    ds.SamplesPerPixel = 1
    ds.PhotometricInterpretation = 'MONOCHROME2'
    ds.BitsAllocated = 16
    ds.BitsStored = 16
    ds.HighBit = 15
    ds.PixelRepresentation = 0
    for key, value in tags.items():
        if value is None:
            continue
        setattr(ds, key, value)
    ds.PixelData = pixels.astype(np.uint16).tobytes()
    return ds


def write_dicom_file(path: str, pixels: np.ndarray, **tags) -> str:
    """One DICOM file: (H, W) single frame or (F, H, W) multi-frame
    (uint16 pixels; tags as keyword arguments, e.g. PixelSpacing)."""
    _dataset(pixels, **tags).save_as(path, enforce_file_format=True)
    return path


def write_dicom_series(folder: str,
                       stack: np.ndarray,
                       pixel_spacing=(0.8, 0.7),
                       slice_spacing: float = 2.5,
                       orientation=(1, 0, 0, 0, 1, 0),
                       origin=(-50.0, -60.0, 10.0),
                       shuffle: bool = True,
                       series_uid: str = None,
                       description: str = 'synthetic T1',
                       **tags) -> dict:
    """A series of single-frame files in ``folder``, slice k at
    ``origin + k * slice_spacing * normal``. Files are written in a shuffled
    order with shuffled names, so the reader must sort them.

    Returns:
        dict: geometry (``iop``, ``ipp`` per slice, ``spacing``) and the
        ``SeriesInstanceUID``.
    """
    import pydicom
    os.makedirs(folder, exist_ok=True)
    iop = np.asarray(orientation, dtype=np.float64)
    normal = np.cross(iop[:3], iop[3:])
    uid = series_uid or pydicom.uid.generate_uid()
    n = len(stack)
    order = np.random.default_rng(1).permutation(n) if shuffle else range(n)
    positions = [np.asarray(origin) + k * slice_spacing * normal
                 for k in range(n)]
    for j, k in enumerate(order):
        write_dicom_file(
            osp.join(folder, f'IM{j:04d}.dcm'), stack[k],
            SeriesInstanceUID=uid,
            SeriesDescription=description,
            InstanceNumber=int(k) + 1,
            ImagePositionPatient=[float(v) for v in positions[k]],
            ImageOrientationPatient=[float(v) for v in iop],
            PixelSpacing=[float(v) for v in pixel_spacing],
            SliceThickness=float(slice_spacing),
            **tags)
    return dict(iop=iop, ipp=np.stack(positions), spacing=pixel_spacing,
                uid=uid)


def write_nifti(path: str, data: np.ndarray, affine: np.ndarray) -> str:
    import nibabel as nib
    img = nib.Nifti1Image(np.asarray(data), np.asarray(affine, float))
    img.header.set_xyzt_units('mm')
    nib.save(img, path)
    return path


def lps_to_ras(point) -> np.ndarray:
    p = np.asarray(point, dtype=np.float64).copy()
    p[:2] *= -1
    return p
