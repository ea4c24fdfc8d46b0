"""The config's test pipeline applied to inference inputs: files, arrays,
DICOM and NIfTI slices.

:class:`~mtnet_plugin.apis.TumorInferencer` runs it before every backend,
and int8 calibration (:mod:`~mtnet_plugin.apis.backends`) runs it on the
calibration images, so both see the same preprocessed batches.
"""
import os
import os.path as osp
from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.logging import print_log
from mmseg.registry import TRANSFORMS

from ..datasets.medical_volume import (DICOM_EXTENSIONS, NIFTI_EXTENSIONS,
                                       MedicalVolume, is_dicom_series_dir,
                                       is_medical_path, read_medical)

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff') + \
    DICOM_EXTENSIONS + NIFTI_EXTENSIONS
InputType = Union[str, np.ndarray]


def list_images(folder: str) -> List[str]:
    """The inputs of a folder, sorted: image, DICOM and NIfTI files, or the
    folder itself when it holds one DICOM series (only DICOM files)."""
    if is_dicom_series_dir(folder):
        return [folder]
    return sorted(
        osp.join(folder, f) for f in os.listdir(folder)
        if f.lower().endswith(IMG_EXTENSIONS))


@dataclass
class VolumeSlice:
    """One slice of a scan read by ``read_medical`` (an inference input)."""
    volume: MedicalVolume
    index: int


@dataclass
class Unreadable:
    """An input that failed before its slices were known."""
    path: str
    error: Exception


class InferencePipeline:
    """The config's ``test_pipeline`` without its annotation loading.

    Args:
        cfg (Config): The config whose ``test_pipeline`` is run.
        series_uid (str, optional): For a DICOM folder holding several
            series, the one to read (default: the one with most files).
    """

    def __init__(self, cfg: Config, series_uid: Optional[str] = None):
        self.series_uid = series_uid
        pipeline = [
            t for t in cfg.test_pipeline if t['type'] not in
            ('LoadTumorAnnotations', 'LoadAnnotations',
             'LoadVolumeSliceAnnotation')
        ]
        # a volume dataset's slice loader reads its cache, not a file: an
        # inference input is read as any other file
        load = pipeline[0] if pipeline[0]['type'] != 'LoadVolumeSlice' \
            else dict(type='LoadMRIImageFromFile')
        self.load_file = TRANSFORMS.build(load)
        self.load_array = TRANSFORMS.build(dict(type='LoadImageFromNDArray'))
        self.transform = Compose(pipeline[1:])

    def expand(self, inputs) -> Iterator:
        """Inputs one by one; a DICOM or NIfTI input is read here (lazily,
        as a read-ahead reaches it) and becomes its slices (``VolumeSlice``);
        one that cannot be read becomes an ``Unreadable``."""
        if isinstance(inputs, str) and osp.isdir(inputs):
            inputs = list_images(inputs)
        elif isinstance(inputs, (str, np.ndarray, MedicalVolume)):
            inputs = [inputs]
        for item in inputs:
            if isinstance(item, str) and is_medical_path(item):
                try:
                    item = read_medical(item, series_uid=self.series_uid)
                except Exception as e:  # counted and reported by the caller
                    yield Unreadable(item, e)
                    continue
            if isinstance(item, MedicalVolume):
                for warning in item.warnings:
                    print_log(warning, logger='current', level=30)
                for i in range(item.num_slices):
                    yield VolumeSlice(item, i)
            else:
                yield item

    def prepare(self, item) -> Tuple[dict, np.ndarray]:
        """(packed sample, the image as loaded: (H, W, 3) uint8 BGR)."""
        if isinstance(item, Unreadable):
            raise item.error
        if isinstance(item, VolumeSlice):
            results = self.load_array(dict(img=item.volume.slice_bgr(
                item.index)))
        elif isinstance(item, np.ndarray):
            img = item if item.ndim == 3 else np.repeat(
                item[..., None], 3, axis=2)
            results = self.load_array(dict(img=img))
        else:
            results = self.load_file(dict(img_path=item))
        image = results['img']
        return self.transform(results), image

    def collate(self, inputs: Union[InputType, Sequence[InputType]]) -> dict:
        """The pipeline's batch of ``inputs``: what ``model.test_step`` and
        ``model.data_preprocessor`` take."""
        return pseudo_collate(
            [self.prepare(x)[0] for x in self.expand(inputs)])
