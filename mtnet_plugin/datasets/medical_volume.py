"""DICOM and NIfTI scans as display-ready slices with physical geometry.

``read_medical(path)`` reads a DICOM file (single- or multi-frame), a folder
holding one DICOM series, or a NIfTI file (``.nii``/``.nii.gz``, 2D or 3D)
into a :class:`MedicalVolume`: its slices in radiological display order as
8-bit images (what the network was trained on), the pixel spacing in mm,
the slice spacing, and what is needed to write a mask back over the scan
(``write_mask_nifti``) so that 3D Slicer or ITK-SNAP overlays it with no
other step.

pydicom and nibabel are the optional extra ``.[medical]``; their absence
raises an ``ImportError`` naming it. MONAI's ``LoadImage`` readers are the
reference for the geometry (they too keep the affine and the spacing).

Conventions:
- DICOM slices are shown as stored (rows top to bottom, columns left to
  right), ordered by ``ImagePositionPatient`` projected on the slice normal
  (ascending), else by ``InstanceNumber``. The affine is computed from the
  series' geometry in NIfTI's RAS+ world (DICOM's LPS with x and y negated).
- A 4D NIfTI is several modalities of one volume (the Medical Segmentation
  Decathlon's layout, channels last): three of them become the slice's
  three channels, each windowed on its own (``select_channels``: by
  default the first three, or the only one repeated).
- NIfTI volumes are cut along the voxel axis closest to the patient's
  superior-inferior axis (from the affine); each slice is oriented as a
  radiologist views an axial slice: anterior at the top, the patient's
  right on the image's left (rows run toward posterior, columns toward the
  patient's left). Coronal or sagittal 2D images get the matching views
  (superior at the top).
- Windowing to 0-255: ``WindowCenter``/``WindowWidth`` when the DICOM has
  them (the first pair), else the 0.5-99.5 percentile range of the whole
  volume (of the image, for a single slice), as the 16-bit PNG path does.
  The modality LUT (``RescaleSlope``/``RescaleIntercept``) is applied
  first; ``MONOCHROME1`` is inverted after windowing.
"""
import glob
import os
import os.path as osp
from dataclasses import dataclass, field
from typing import List, Optional, Sequence, Tuple

import numpy as np

MEDICAL_EXTRA = 'pip install -e ".[medical]"'
NIFTI_EXTENSIONS = ('.nii', '.nii.gz')
DICOM_EXTENSIONS = ('.dcm', '.dicom')


class MedicalImageError(ValueError):
    """A medical file that cannot be used; the message names the file."""


def _require(module: str):
    try:
        return __import__(module)
    except ImportError as e:
        raise ImportError(
            f'reading DICOM/NIfTI needs {module}, in the optional extra '
            f'".[medical]": {MEDICAL_EXTRA}') from e


@dataclass
class MedicalVolume:
    """A scan as display-ready slices.

    Attributes:
        path (str): The file or the series folder.
        slices (np.ndarray): (N, H, W) uint8, windowed, display
            orientation; (N, H, W, 3) for a multi-modal (4D) NIfTI, one
            channel per modality, each windowed on its own.
        pixel_spacing_mm (tuple | None): (row, col) spacing in mm: the
            distance between rows, then between columns, of a displayed
            slice.
        slice_spacing_mm (float | None): Distance between slice centres.
        is_volume (bool): A series, a multi-frame file or a 3D NIfTI (even
            with one slice along the cut axis it stays a volume only when
            the input was 3D with more than one slice).
        affine (np.ndarray): (4, 4) voxel -> RAS+ mm of ``mask_layout``'s
            array, what ``write_mask_nifti`` writes.
        mask_shape (tuple): Shape of the input array the mask is written
            with (NIfTI: the file's; DICOM: (cols, rows, slices)).
        to_input (callable-like info): ``perm`` and ``flips`` that map the
            display stack (H, W, N) back to the input array.
        notes (list[str]): What the reader chose (window source, slice
            order).
        warnings (list[str]): What the user must be told (a series picked
            among several, and how to choose another); the inferencer logs
            them.
        nonfinite_voxels (int): NaN or infinite voxels of a NIfTI input
            (shown as 0; a training set skips such a volume).
    """

    path: str
    slices: np.ndarray
    pixel_spacing_mm: Optional[Tuple[float, float]]
    slice_spacing_mm: Optional[float]
    is_volume: bool
    affine: np.ndarray
    mask_shape: Tuple[int, ...]
    perm: Tuple[int, int, int] = (0, 1, 2)
    flips: Tuple[bool, bool, bool] = (False, False, False)
    notes: List[str] = field(default_factory=list)
    warnings: List[str] = field(default_factory=list)
    nonfinite_voxels: int = 0

    @property
    def num_slices(self) -> int:
        return int(self.slices.shape[0])

    def slice_bgr(self, i: int) -> np.ndarray:
        """Slice ``i`` as the (H, W, 3) uint8 image the pipeline takes."""
        if self.slices.ndim == 4:
            return np.ascontiguousarray(self.slices[i])
        return np.repeat(self.slices[i][..., None], 3, axis=2)

    def to_display(self, data: np.ndarray) -> np.ndarray:
        """An array in the input's voxel layout (``mask_shape``, e.g. a
        label volume of the same scan) -> (N, H, W) in display order, as
        ``slices``: the inverse of :meth:`mask_to_input`."""
        data = np.asarray(data).reshape(
            tuple(self.mask_shape) + (1, ) * (3 - len(self.mask_shape)))
        stack = np.transpose(data, self.perm)
        for ax, flip in enumerate(self.flips):
            if flip:
                stack = np.flip(stack, axis=ax)
        return np.ascontiguousarray(np.moveaxis(stack, -1, 0))

    def mask_to_input(self, masks: np.ndarray) -> np.ndarray:
        """(N, H, W) display-order masks -> the input's array layout."""
        stack = np.moveaxis(np.asarray(masks), 0, -1)  # (H, W, N)
        for ax, flip in enumerate(self.flips):
            if flip:
                stack = np.flip(stack, axis=ax)
        # display axis a came from input axis perm[a]
        out = np.transpose(stack, np.argsort(self.perm))
        return np.ascontiguousarray(out.reshape(self.mask_shape))


def is_nifti(path: str) -> bool:
    return path.lower().endswith(NIFTI_EXTENSIONS)


def _has_dicm_magic(path: str) -> bool:
    try:
        with open(path, 'rb') as f:
            f.seek(128)
            return f.read(4) == b'DICM'
    except OSError:
        return False


def is_dicom(path: str) -> bool:
    """A ``.dcm``/``.dicom`` file, or any file with the DICOM preamble."""
    if osp.isdir(path):
        return False
    return path.lower().endswith(DICOM_EXTENSIONS) or (
        osp.splitext(path)[1] == '' and _has_dicm_magic(path))


def is_dicom_series_dir(path: str) -> bool:
    """A folder whose files (hidden ones aside) are all DICOM files."""
    if not osp.isdir(path):
        return False
    files = [f for f in os.listdir(path)
             if not f.startswith('.') and osp.isfile(osp.join(path, f))]
    return bool(files) and all(is_dicom(osp.join(path, f)) for f in files)


def is_medical_path(path: str) -> bool:
    return isinstance(path, str) and (
        is_nifti(path) or is_dicom(path) or is_dicom_series_dir(path))


def read_medical(path: str,
                 series_uid: Optional[str] = None,
                 percentiles: Sequence[float] = (0.5, 99.5),
                 channels: Optional[Sequence[int]] = None) -> MedicalVolume:
    """Read a DICOM file, a DICOM series folder or a NIfTI file.

    Args:
        path (str): The file or folder.
        series_uid (str, optional): For a folder holding several series, the
            ``SeriesInstanceUID`` to read. Default: the series with the most
            files (the others are listed in ``notes``).
        percentiles (tuple): Window when the file gives none.
        channels (Sequence[int], optional): For a 4D (multi-modal) NIfTI,
            the three channels (modality indices) to read, in order;
            default: :func:`select_channels`'s rule.

    Raises:
        MedicalImageError: naming the file, for input that cannot be used.
        ImportError: naming the ``.[medical]`` extra.
    """
    if osp.isdir(path):
        return _read_dicom_series(path, series_uid, percentiles)
    if not osp.exists(path):
        raise FileNotFoundError(f'no such file: {path}')
    if is_nifti(path):
        return _read_nifti(path, percentiles, channels)
    return _read_dicom_file(path, percentiles)


def select_channels(num_channels: int, path: str = '') -> Tuple[int, ...]:
    """The default modalities of a multi-modal volume for the network's
    three input channels: the first three, or a single one repeated.

    Raises:
        MedicalImageError: for two modalities (which to repeat is the
            user's choice: name three, e.g. ``('T2', 'ADC', 'ADC')``).
    """
    if num_channels >= 3:
        return (0, 1, 2)
    if num_channels == 1:
        return (0, 0, 0)
    raise MedicalImageError(
        f'{path}: {num_channels} modalities; the network takes three '
        'channels: name three (a modality may repeat)')


def slice_size(path: str) -> Tuple[int, int]:
    """(width, height) of the displayed slice of a single-slice DICOM or
    NIfTI file, from its header only (what a dataset checks at build time).

    Raises:
        MedicalImageError: naming the file, when it is unreadable or holds
            more than one slice.
    """
    if is_nifti(path):
        nib = _require('nibabel')
        try:
            img = nib.load(path)
        except Exception as e:
            raise MedicalImageError(
                f'{path}: cannot read NIfTI header ({type(e).__name__}: {e})'
            ) from e
        shape = tuple(img.shape) + (1, ) * (3 - len(img.shape))
        if len(shape) > 3 or min(shape) > 1:
            raise MedicalImageError(
                f'{path}: shape {img.shape}; a sample is one slice')
        perm, _ = _display_axes(np.asarray(img.affine), shape)
        return int(shape[perm[1]]), int(shape[perm[0]])
    pydicom = _require('pydicom')
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        rows, cols = int(ds.Rows), int(ds.Columns)
    except Exception as e:
        raise MedicalImageError(
            f'{path}: not a readable DICOM image ({type(e).__name__}: {e})'
        ) from e
    if int(ds.get('NumberOfFrames', 1) or 1) > 1:
        raise MedicalImageError(
            f'{path}: {ds.NumberOfFrames} frames; a sample is one slice')
    return cols, rows


# --------------------------------------------------------------- windowing
def window_to_uint8(values: np.ndarray,
                    path: str,
                    window: Optional[Tuple[float, float]] = None,
                    percentiles: Sequence[float] = (0.5, 99.5),
                    invert: bool = False) -> np.ndarray:
    """Map intensities to 0-255 with a (centre, width) window, else the
    ``percentiles`` range of the finite values. NaNs become 0.

    Raises:
        MedicalImageError: for an all-NaN or constant input.
    """
    values = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(values)
    if not finite.any():
        raise MedicalImageError(f'{path}: every voxel is NaN or infinite')
    if window is not None:
        centre, width = window
        lo, hi = centre - width / 2.0, centre + width / 2.0
    else:
        lo, hi = np.percentile(values[finite], percentiles)
        if hi <= lo:
            vmin, vmax = values[finite].min(), values[finite].max()
            if vmax <= vmin:
                raise MedicalImageError(
                    f'{path}: the image is constant ({float(vmin):g}): '
                    'nothing to segment')
            lo, hi = vmin, vmax
    out = (np.where(finite, values, lo) - lo) * (255.0 / max(hi - lo, 1e-6))
    out = np.clip(out, 0, 255).astype(np.uint8)
    return 255 - out if invert else out


# -------------------------------------------------------------------- NIfTI
def _display_axes(affine: np.ndarray, shape: Tuple[int, ...]):
    """(perm, flips): display stack (rows, cols, slices) from the voxel
    axes. The slice axis is the one closest to S-I (a singleton axis for a
    2D image); rows run toward I (if S-I is in plane) or P, columns toward
    L (or P for a sagittal plane): radiological display."""
    nib = _require('nibabel')
    ornt = nib.orientations.io_orientation(affine)  # (3, 2): world ax, sign
    world = [int(w) for w in ornt[:, 0]]
    sign = [float(s) for s in ornt[:, 1]]
    singleton = [a for a in range(3) if shape[a] == 1]
    slice_ax = singleton[0] if len(singleton) == 1 else world.index(2)
    rest = [a for a in range(3) if a != slice_ax]
    # world axes: 0 R-L, 1 A-P, 2 S-I; the row axis is the most "vertical"
    rank = {2: 0, 1: 1, 0: 2}
    rest.sort(key=lambda a: rank[world[a]])
    row_ax, col_ax = rest
    perm = (row_ax, col_ax, slice_ax)
    # rows and columns run toward negative RAS (I or P; L or P); slices
    # toward positive (inferior to superior)
    flips = (sign[row_ax] > 0, sign[col_ax] > 0, sign[slice_ax] < 0)
    return perm, flips


def _read_nifti(path: str, percentiles,
                channels: Optional[Sequence[int]] = None) -> MedicalVolume:
    nib = _require('nibabel')
    try:
        img = nib.load(path)
        data = np.asarray(img.dataobj, dtype=np.float32)
    except Exception as e:  # truncated gzip, bad header, short data
        raise MedicalImageError(
            f'{path}: cannot read NIfTI file ({type(e).__name__}: {e})') \
            from e
    while data.ndim > 3 and data.shape[-1] == 1:
        data = data[..., 0]
    if data.ndim > 4 or data.ndim < 2 or (data.ndim == 4
                                          and min(data.shape[:3]) < 1):
        raise MedicalImageError(
            f'{path}: a NIfTI of shape {data.shape} is not a 2D, 3D or '
            'multi-modal (4D) image')
    modalities = None
    if data.ndim == 4:  # the MSD layout: modalities along the last axis
        if channels is None:
            channels = select_channels(data.shape[3], path)
        bad = [c for c in channels if not 0 <= c < data.shape[3]]
        if len(channels) != 3 or bad:
            raise MedicalImageError(
                f'{path}: channels {tuple(channels)} of a 4D NIfTI with '
                f'{data.shape[3]} modalities; three indices below '
                f'{data.shape[3]} are needed')
        modalities = data
        data = data[..., 0]
    input_shape = tuple(img.shape[:data.ndim])
    was_3d = data.ndim == 3 and min(data.shape) > 1
    if data.ndim == 2:
        data = data[..., None]
    affine = np.asarray(img.affine, dtype=np.float64)
    perm, flips = _display_axes(affine, data.shape)

    def display(vol: np.ndarray) -> np.ndarray:
        """(x, y, z) voxels -> (N, H, W) display order, windowed."""
        stack = np.transpose(vol.reshape(data.shape), perm)
        for ax, flip in enumerate(flips):
            if flip:
                stack = np.flip(stack, axis=ax)
        return window_to_uint8(
            np.moveaxis(stack, -1, 0), path, None, percentiles)

    zooms = np.sqrt((affine[:3, :3]**2).sum(axis=0))  # mm per voxel axis
    # NIfTI spacing is in mm unless the header says otherwise; 'unknown'
    # (nibabel's default when writing) is read as mm, as every NIfTI tool
    # (nnU-Net, MONAI, ITK) does
    unit = img.header.get_xyzt_units()[0]
    zooms = zooms * {'meter': 1000.0, 'micron': 1e-3}.get(unit, 1.0)
    if modalities is None:
        slices = display(data)
    else:  # each modality windowed over the volume on its own
        windowed = {c: display(modalities[..., c]) for c in set(channels)}
        slices = np.stack([windowed[c] for c in channels], axis=-1)
    notes = ['window: 0.5-99.5 percentiles of the volume'
             if tuple(percentiles) == (0.5, 99.5) else
             f'window: {percentiles} percentiles of the volume']
    if modalities is not None:
        notes.append(f'channels: modalities {tuple(channels)} of '
                     f'{modalities.shape[3]}, each windowed on its own')
    return MedicalVolume(
        path=path,
        slices=slices,
        pixel_spacing_mm=(float(zooms[perm[0]]), float(zooms[perm[1]])),
        slice_spacing_mm=float(zooms[perm[2]]),
        is_volume=was_3d,
        affine=affine,
        mask_shape=input_shape,
        perm=perm,
        flips=flips,
        notes=notes,
        nonfinite_voxels=int(
            (~np.isfinite(modalities if modalities is not None else data)
             ).sum()))


# -------------------------------------------------------------------- DICOM
def _dcmread(path: str):
    pydicom = _require('pydicom')
    try:
        return pydicom.dcmread(path)
    except Exception as e:
        raise MedicalImageError(
            f'{path}: not a readable DICOM file ({type(e).__name__}: {e})') \
            from e


def _pixels(ds, path: str) -> np.ndarray:
    """Pixel data with the modality LUT applied, (frames, rows, cols)."""
    if 'PixelData' not in ds and 'FloatPixelData' not in ds and \
            'DoubleFloatPixelData' not in ds:
        raise MedicalImageError(
            f'{path}: the DICOM file has no pixel data (a structured report, '
            'presentation state or other non-image object?)')
    try:
        arr = ds.pixel_array
    except Exception as e:
        ts = getattr(getattr(ds, 'file_meta', None), 'TransferSyntaxUID',
                     None)
        msg = str(e)
        if ts is not None and ts.is_compressed:
            raise MedicalImageError(
                f'{path}: its pixel data is compressed ({ts.name}) and no '
                'installed decoder handles it; install one, e.g. '
                '`pip install pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg`'
                f' (JPEG, JPEG-LS, JPEG 2000) or `pip install gdcm`. '
                f'pydicom said: {msg}') from e
        raise MedicalImageError(
            f'{path}: cannot decode the DICOM pixel data '
            f'({type(e).__name__}: {msg}); is the file truncated?') from e
    pi = str(ds.get('PhotometricInterpretation', 'MONOCHROME2'))
    if pi not in ('MONOCHROME1', 'MONOCHROME2'):
        raise MedicalImageError(
            f'{path}: photometric interpretation {pi}; an MRI slice is '
            'MONOCHROME1 or MONOCHROME2')
    frames = int(ds.get('NumberOfFrames', 1) or 1)
    arr = np.asarray(arr, dtype=np.float32)
    arr = arr.reshape(frames, arr.shape[-2], arr.shape[-1])
    slope = float(ds.get('RescaleSlope', 1) or 1)
    intercept = float(ds.get('RescaleIntercept', 0) or 0)
    return arr * slope + intercept


def _first(value) -> Optional[float]:
    if value is None:
        return None
    try:
        return float(value[0])
    except TypeError:
        return float(value)


def _window(ds) -> Optional[Tuple[float, float]]:
    c, w = _first(ds.get('WindowCenter')), _first(ds.get('WindowWidth'))
    return (c, w) if c is not None and w and w > 0 else None


def _functional(ds, name: str, attr: str, frame: Optional[int] = None):
    """An attribute of the multi-frame functional groups (per frame first,
    then shared), or None."""
    groups = []
    if frame is not None and 'PerFrameFunctionalGroupsSequence' in ds:
        groups.append(ds.PerFrameFunctionalGroupsSequence[frame])
    if 'SharedFunctionalGroupsSequence' in ds:
        groups.append(ds.SharedFunctionalGroupsSequence[0])
    for g in groups:
        seq = g.get(name)
        if seq is not None and len(seq) and attr in seq[0]:
            return seq[0].get(attr)
    return None


def _geometry(ds, frame: Optional[int] = None):
    """(orientation (6,), position (3,), pixel spacing (2,)) or Nones."""
    iop = ds.get('ImageOrientationPatient') or _functional(
        ds, 'PlaneOrientationSequence', 'ImageOrientationPatient', frame)
    ipp = ds.get('ImagePositionPatient') if frame is None else None
    if ipp is None:
        ipp = _functional(ds, 'PlanePositionSequence', 'ImagePositionPatient',
                          frame)
    ps = ds.get('PixelSpacing') or _functional(
        ds, 'PixelMeasuresSequence', 'PixelSpacing', frame)
    conv = (lambda v, n: np.asarray([float(x) for x in v], dtype=np.float64)
            if v is not None and len(v) == n else None)
    return conv(iop, 6), conv(ipp, 3), conv(ps, 2)


def _dicom_affine(iop, positions, ps, slice_spacing) -> np.ndarray:
    """RAS+ affine of the (cols, rows, slices) array of a series."""
    x, y = iop[:3], iop[3:]
    normal = np.cross(x, y)
    if positions is not None and len(positions) > 1:
        step = (positions[-1] - positions[0]) / (len(positions) - 1)
    else:
        step = normal * (slice_spacing or 1.0)
    origin = positions[0] if positions is not None else np.zeros(3)
    lps = np.eye(4)
    lps[:3, 0] = x * ps[1]  # along a row: next column
    lps[:3, 1] = y * ps[0]  # down a column: next row
    lps[:3, 2] = step
    lps[:3, 3] = origin
    return np.diag([-1.0, -1.0, 1.0, 1.0]) @ lps


def _volume_from_dicom(path, frames, spacing, iop, positions,
                       slice_spacing, window, invert, percentiles,
                       is_volume, notes, warnings=()) -> MedicalVolume:
    slices = window_to_uint8(frames, path, window, percentiles, invert)
    notes.append('window: ' + (
        f'WindowCenter/WindowWidth {window[0]:g}/{window[1]:g}'
        if window else '0.5-99.5 percentiles'))
    if iop is not None and spacing is not None:
        affine = _dicom_affine(iop, positions, spacing, slice_spacing)
    else:
        affine = np.diag([-(spacing[1] if spacing is not None else 1.0),
                          -(spacing[0] if spacing is not None else 1.0),
                          slice_spacing or 1.0, 1.0])
    n, h, w = slices.shape
    return MedicalVolume(
        path=path,
        slices=slices,
        pixel_spacing_mm=(float(spacing[0]), float(spacing[1]))
        if spacing is not None else None,
        slice_spacing_mm=float(slice_spacing)
        if slice_spacing is not None else None,
        is_volume=is_volume,
        affine=affine,
        mask_shape=(w, h, n),
        perm=(1, 0, 2),  # display (rows, cols, slices) = array (c, r, k).T
        flips=(False, False, False),
        notes=notes,
        warnings=list(warnings))


def _spacing_along(positions: np.ndarray, normal: np.ndarray):
    d = np.diff(positions @ normal)
    return float(np.median(np.abs(d))) if d.size else None


def _read_dicom_file(path: str, percentiles) -> MedicalVolume:
    ds = _dcmread(path)
    frames = _pixels(ds, path)
    n = frames.shape[0]
    iop, _, spacing = _geometry(ds, None)
    positions = None
    if n > 1:
        pos = [_geometry(ds, i)[1] for i in range(n)]
        if all(p is not None for p in pos):
            positions = np.stack(pos)
    else:
        ipp = _geometry(ds, None)[1]
        positions = ipp[None] if ipp is not None else None
    slice_spacing = None
    if positions is not None and n > 1 and iop is not None:
        slice_spacing = _spacing_along(positions, np.cross(iop[:3], iop[3:]))
    if slice_spacing is None:
        sbs = ds.get('SpacingBetweenSlices') or _functional(
            ds, 'PixelMeasuresSequence', 'SpacingBetweenSlices')
        st = ds.get('SliceThickness') or _functional(
            ds, 'PixelMeasuresSequence', 'SliceThickness')
        slice_spacing = _first(sbs) or _first(st)
    return _volume_from_dicom(
        path, frames, spacing, iop, positions, slice_spacing, _window(ds),
        str(ds.get('PhotometricInterpretation')) == 'MONOCHROME1',
        percentiles, n > 1, [])


def _read_dicom_series(folder: str, series_uid: Optional[str],
                       percentiles) -> MedicalVolume:
    pydicom = _require('pydicom')
    files = sorted(
        f for f in glob.glob(osp.join(folder, '*'))
        if osp.isfile(f) and not osp.basename(f).startswith('.'))
    if not files:
        raise MedicalImageError(f'{folder}: the folder holds no DICOM files')
    headers = {}
    for f in files:
        try:
            headers[f] = pydicom.dcmread(f, stop_before_pixels=True)
        except Exception as e:
            raise MedicalImageError(
                f'{f}: not a readable DICOM file ({type(e).__name__}: {e})'
            ) from e
    series = {}
    for f, ds in headers.items():
        series.setdefault(str(ds.get('SeriesInstanceUID', '')), []).append(f)
    notes, warnings = [], []
    if series_uid is not None:
        if series_uid not in series:
            raise MedicalImageError(
                f'{folder}: no series {series_uid}; it holds ' + ', '.join(
                    f'{u} ({len(v)} files)' for u, v in series.items()))
        uid = series_uid
    else:
        uid = max(series, key=lambda u: (len(series[u]), u))
    if len(series) > 1:
        listing = '; '.join(
            f'{u or "(no SeriesInstanceUID)"}: {len(v)} files, '
            f'"{headers[v[0]].get("SeriesDescription", "")}"'
            for u, v in sorted(series.items()))
        warnings.append(
            f'{folder} holds {len(series)} series ({listing}); read {uid} '
            f'({len(series[uid])} files). Choose another with '
            '--series-uid UID (series_uid=... in Python).')
    members = series[uid]
    iop = _geometry(headers[members[0]])[0]
    normal = np.cross(iop[:3], iop[3:]) if iop is not None else None
    pos = [_geometry(headers[f])[1] for f in members]
    if normal is not None and all(p is not None for p in pos):
        order = np.argsort([float(p @ normal) for p in pos], kind='stable')
        notes.append('slices ordered by ImagePositionPatient along the '
                     'slice normal')
    else:
        order = np.argsort(
            [int(headers[f].get('InstanceNumber', 0) or 0) for f in members],
            kind='stable')
        notes.append('slices ordered by InstanceNumber (no position)')
    members = [members[i] for i in order]
    arrays = []
    for f in members:
        ds = _dcmread(f)
        px = _pixels(ds, f)
        if px.shape[0] != 1:
            raise MedicalImageError(
                f'{f}: a multi-frame file inside a series folder; pass it '
                'on its own')
        if arrays and px.shape[1:] != arrays[0].shape[1:]:
            raise MedicalImageError(
                f'{f}: {px.shape[1:]} pixels where the series has '
                f'{arrays[0].shape[1:]}')
        arrays.append(px)
    first = headers[members[0]]
    positions = np.stack([pos[i] for i in order]) if normal is not None and \
        all(p is not None for p in pos) else None
    slice_spacing = _spacing_along(positions, normal) \
        if positions is not None and len(members) > 1 else _first(
            first.get('SpacingBetweenSlices') or first.get('SliceThickness'))
    return _volume_from_dicom(
        folder, np.concatenate(arrays), _geometry(first)[2], iop, positions,
        slice_spacing, _window(first),
        str(first.get('PhotometricInterpretation')) == 'MONOCHROME1',
        percentiles, len(members) > 1, notes, warnings)


# ------------------------------------------------------------------ writing
def write_mask_nifti(volume: MedicalVolume, masks: np.ndarray,
                     out_file: str) -> str:
    """Write (N, H, W) display-order masks as a uint8 NIfTI with the input's
    shape and affine (RAS+), so a viewer lays it over the scan. Written to a
    temporary name and renamed: never half a file."""
    nib = _require('nibabel')
    data = volume.mask_to_input(np.asarray(masks, dtype=np.uint8))
    img = nib.Nifti1Image(data, volume.affine)
    img.header.set_xyzt_units('mm')
    img.set_qform(volume.affine, code=1)
    img.set_sform(volume.affine, code=1)
    suffix = '.nii.gz' if out_file.endswith('.gz') else '.nii'
    tmp = out_file[:-len(suffix)] + '.part' + suffix
    nib.save(img, tmp)
    os.replace(tmp, out_file)
    return out_file
