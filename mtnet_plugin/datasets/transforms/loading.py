"""Loading transforms: MRI images as 3-channel 8-bit, COCO tumor masks."""
import os.path as osp

import cv2
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS
from pycocotools import mask as mask_utils

from ..medical_volume import MedicalImageError, is_medical_path, read_medical


@TRANSFORMS.register_module()
class LoadMRIImageFromFile(BaseTransform):
    """Load an image as 3-channel 8-bit BGR, whatever it is stored as.

    Greyscale is repeated to 3 channels, an alpha channel is dropped, and
    16-bit (or float) images are rescaled to 0-255 from their own
    ``percentiles`` range (a right shift by 8 bits, what OpenCV's colour
    flag does, leaves a 12-bit MRI almost black).

    DICOM (``.dcm``, or a file with the DICOM preamble) and NIfTI
    (``.nii``, ``.nii.gz``) slices are read with
    :func:`mtnet_plugin.datasets.medical_volume.read_medical` (extra
    ``.[medical]``): modality LUT, ``MONOCHROME1`` inverted, the file's
    window or the ``percentiles`` range, radiological orientation. A file
    holding several slices (a multi-frame DICOM, a 3D NIfTI) is refused
    with an error naming it: a sample is one slice (``tools/infer.py`` and
    ``TumorInferencer`` take volumes).

    Required keys: ``img_path``. Added keys: ``img``, ``img_shape``,
    ``ori_shape``, ``pixel_spacing_mm`` ((row, col) in mm, or None when the
    file has no spacing, as a JPEG).

    Args:
        percentiles (tuple[float]): Intensity range mapped to 0-255 for
            non-8-bit images. Default: (0.5, 99.5).
        to_float32 (bool): Return float32 instead of uint8. Default: False.
        ignore_empty (bool): For an unreadable file, log a line naming it
            and return None instead of raising. What happens next is
            mmengine's ``BaseDataset``: in training it draws another
            sample (at most ``max_refetch`` times); in test mode
            (``test_mode=True``) it raises, since a test set must not
            silently shrink. To leave unreadable files out of a test set,
            let the dataset check them when it loads
            (``CocoTumorDataset(check_image_files=True,
            on_bad_sample='skip')``). Default: False.

    Raises:
        IOError: naming the file, when it cannot be decoded.
    """

    def __init__(self,
                 percentiles=(0.5, 99.5),
                 to_float32: bool = False,
                 ignore_empty: bool = False):
        self.percentiles = percentiles
        self.to_float32 = to_float32
        self.ignore_empty = ignore_empty

    def _to_uint8(self, img: np.ndarray) -> np.ndarray:
        if img.dtype == np.uint8:
            return img
        lo, hi = np.percentile(img, self.percentiles)
        if hi <= lo:
            hi = lo + 1
        img = (img.astype(np.float32) - lo) * (255.0 / (hi - lo))
        return np.clip(img, 0, 255).astype(np.uint8)

    def _read_medical(self, path: str):
        vol = read_medical(path, percentiles=self.percentiles)
        if vol.num_slices != 1:
            raise MedicalImageError(
                f'{path}: {vol.num_slices} slices; a sample is one slice '
                '(tools/infer.py and TumorInferencer read volumes)')
        return vol.slices[0], vol.pixel_spacing_mm

    def transform(self, results: dict):
        path = results['img_path']
        if path and is_medical_path(path) and not osp.isdir(path):
            try:
                img, spacing = self._read_medical(path)
            except (MedicalImageError, OSError) as e:
                if self.ignore_empty:
                    print_log(f'[LoadMRIImageFromFile] skipped unreadable '
                              f'image {path}: {e}', logger='current')
                    return None
                raise
            return self._finish(results, img, spacing)
        buf = np.fromfile(path, dtype=np.uint8) if path else None
        img = None
        if buf is not None and buf.size:
            img = cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
        if img is None:
            if self.ignore_empty:
                print_log(f'[LoadMRIImageFromFile] skipped unreadable image '
                          f'{path}', logger='current')
                return None
            raise IOError(f'cannot decode image file {path}')
        return self._finish(results, self._to_uint8(img), None)

    def _finish(self, results: dict, img: np.ndarray, spacing) -> dict:
        if img.ndim == 2:
            img = cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
        elif img.shape[2] == 4:
            img = cv2.cvtColor(img, cv2.COLOR_BGRA2BGR)
        elif img.shape[2] == 1:
            img = np.repeat(img, 3, axis=2)
        if self.to_float32:
            img = img.astype(np.float32)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results['pixel_spacing_mm'] = spacing
        return results

    def __repr__(self):
        return (f'{self.__class__.__name__}(percentiles={self.percentiles}, '
                f'to_float32={self.to_float32}, '
                f'ignore_empty={self.ignore_empty})')


@TRANSFORMS.register_module()
class LoadTumorAnnotations(BaseTransform):
    """Rasterise an image's COCO annotations into a tumor mask and attach
    its image-level label.

    Polygons (one or several per annotation), uncompressed and compressed
    RLE are decoded with pycocotools and merged into one ``uint8`` mask:
    0 background, 1 tumor; ``iscrowd`` regions not covered by a regular
    annotation get ``ignore_index`` (COCO ignores crowds in evaluation).
    Done once per call, i.e. once per image per epoch, without per-pixel
    Python loops.

    Required keys: ``ann_info``, ``height``, ``width``, ``gt_label``.
    Added keys: ``gt_seg_map`` (H, W) uint8, ``seg_fields``, ``gt_label``.

    Args:
        ignore_index (int): Value for crowd regions. Default: 255.
    """

    def __init__(self, ignore_index: int = 255):
        self.ignore_index = ignore_index

    @staticmethod
    def _decode(segmentation, h: int, w: int) -> np.ndarray:
        if isinstance(segmentation, list):  # polygons
            rles = mask_utils.frPyObjects(segmentation, h, w)
            rle = mask_utils.merge(rles)
        elif isinstance(segmentation['counts'], list):  # uncompressed RLE
            rle = mask_utils.frPyObjects(segmentation, h, w)
        else:  # compressed RLE
            rle = dict(segmentation)
            if isinstance(rle['counts'], str):
                rle['counts'] = rle['counts'].encode('ascii')
        return mask_utils.decode(rle)

    def transform(self, results: dict) -> dict:
        h, w = results['height'], results['width']
        mask = np.zeros((h, w), dtype=np.uint8)
        crowd = np.zeros((h, w), dtype=bool)
        for ann in results.get('ann_info', []):
            m = self._decode(ann['segmentation'], h, w).astype(bool)
            if ann.get('iscrowd', 0):
                crowd |= m
            else:
                mask[m] = 1
        mask[crowd & (mask == 0)] = self.ignore_index
        results['gt_seg_map'] = mask
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        results['gt_label'] = int(results['gt_label'])
        return results

    def __repr__(self):
        return f'{self.__class__.__name__}(ignore_index={self.ignore_index})'


@TRANSFORMS.register_module()
class LoadVolumeSlice(BaseTransform):
    """Load one slice of a decoded volume (:class:`MSDSliceDataset`'s
    cache) as a 3-channel 8-bit image.

    The cache holds (N, H, W, 3) slices (three modalities, in channel
    order) or (N, H, W) (one modality): that slice repeated in the three
    channels, or with ``slice_context`` the slice between its two
    neighbours (slice ``i - 1``, ``i``, ``i + 1``; the first and last slices
    stand in for their missing neighbour). Read memory-mapped: only the
    slice is read from disk.

    Required keys: ``volume_cache``, ``slice_index``; optional
    ``slice_context`` (default False), ``pixel_spacing_mm``. Added keys:
    ``img`` (H, W, 3) uint8, ``img_shape``, ``ori_shape``.
    """

    def transform(self, results: dict) -> dict:
        volume = np.load(results['volume_cache'], mmap_mode='r')
        i = int(results['slice_index'])
        if volume.ndim == 4:
            img = np.array(volume[i])
        elif results.get('slice_context', False):
            index = np.clip([i - 1, i, i + 1], 0, volume.shape[0] - 1)
            img = np.stack([volume[j] for j in index], axis=-1)
        else:
            img = np.repeat(np.array(volume[i])[..., None], 3, axis=2)
        results['img'] = img
        results['img_shape'] = img.shape[:2]
        results['ori_shape'] = img.shape[:2]
        results.setdefault('pixel_spacing_mm', None)
        return results


@TRANSFORMS.register_module()
class LoadVolumeSliceAnnotation(BaseTransform):
    """Load one slice's tumor mask from :class:`MSDSliceDataset`'s cache
    (0 background, 1 tumor) and its image-level label.

    Required keys: ``label_cache``, ``slice_index``, ``gt_label``. Added
    keys: ``gt_seg_map`` (H, W) uint8, ``seg_fields``.
    """

    def transform(self, results: dict) -> dict:
        masks = np.load(results['label_cache'], mmap_mode='r')
        results['gt_seg_map'] = np.array(masks[int(results['slice_index'])])
        results.setdefault('seg_fields', [])
        if 'gt_seg_map' not in results['seg_fields']:
            results['seg_fields'].append('gt_seg_map')
        results['gt_label'] = int(results['gt_label'])
        return results
