"""Python inference API for both tasks."""
import copy
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from typing import Iterator, List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.structures import PixelData
from mmengine.registry import init_default_scope

from ..datasets.medical_volume import MedicalVolume, read_medical
from ..datasets.metainfo import config_metainfo
from .backends import build_backend
from .inference import init_model, load_inference_weights
from .inference_pipeline import (InferencePipeline, InputType, Unreadable,
                                 VolumeSlice, list_images)

#: The fields of a result that ``tools/infer.py`` and the web page write
#: as JSON (everything but the mask and the image).
RECORD_KEYS = ('path', 'class_index', 'class_name', 'class_probs',
               'tumor_area_px', 'tumor_area_pct', 'bbox', 'pixel_spacing_mm',
               'tumor_area_mm2')
#: The extra fields of a slice of a volume.
SLICE_KEYS = ('slice_index', 'num_slices')

class TumorInferencer:
    """Segment the tumor and classify the image, for one image, an array, a
    list of them or a folder.

    Every backend gets the same preprocessed batch (the config's test
    pipeline, then ``model.data_preprocessor``) and its logits go through
    the same ``model.postprocess_result`` that ``model.predict`` uses, so
    masks come back at each input's own size whatever the backend.

    Args:
        model (str | Config | nn.Module): A config (path or ``Config``) to
            build the model from, or a built model (then ``cfg`` is needed
            for the pipeline unless the model carries one as ``model.cfg``).
        checkpoint (str, optional): Weights to load. The training-only
            auxiliary heads in it are dropped (one log line says so).
        device (str): 'cpu' or 'cuda[:i]'. Default: 'cpu'.
        cfg (str | Config, optional): Config of a model passed as a module.
        backend (str): 'pytorch', 'compile', 'onnxruntime',
            'onnxruntime-int8', or 'auto' (see
            :func:`mtnet_plugin.apis.backends.default_backend`).
            Default: 'auto'.
        onnx_file (str, optional): For the onnxruntime backends: an
            exported (for 'onnxruntime-int8': quantized) file, checked
            against the model on load. Default: export (and quantize) on
            first use and cache it beside the checkpoint.
        precision (str): 'fp32', 'fp16' or 'bf16' (autocast; PyTorch
            backends). Default: 'fp32'.
        compile_mode (str): ``torch.compile`` mode for 'compile', e.g.
            'reduce-overhead' (CUDA graphs on a GPU). Default: 'default'.
        num_workers (int): Threads that read and preprocess the next images
            while the current batch runs. Default: 2.
        series_uid (str, optional): For a DICOM folder holding several
            series, the one to read (default: the one with most files; a
            warning lists them all).
        tta (bool): Test-time augmentation as ``tools/test.py --tta``: the
            image and its horizontal flip, their mask softmax and class
            probabilities averaged (twice the compute). Default: False.
        int8_options (dict, optional): For 'onnxruntime-int8':
            ``calib_images``, ``num_calib``, ``float_islands``, ``method``
            (:class:`~mtnet_plugin.apis.backends.ONNXRuntimeInt8Backend`).

    Inputs: image files (JPEG, PNG, 16-bit PNG, ...), arrays, DICOM files,
    DICOM series folders and NIfTI files (``.[medical]`` extra), or a folder
    of them. A scan of several slices (series, multi-frame DICOM, 3D NIfTI)
    gives one result per slice (with ``slice_index``, ``num_slices``);
    :meth:`infer_volume` adds the volume's summary.

    Each result is a dict::

        mask            (H, W) uint8, 1 = tumor, at the input's size
        class_index     int (None for a segmentation-only model, e.g. an
                        mmseg peer)
        class_name      str (``metainfo['cls_classes']``), or None
        class_probs     list[float], softmax over the image classes, or None
        tumor_area_px   int
        tumor_area_pct  float, percent of the image
        bbox            [x0, y0, x1, y1] (inclusive pixels) or None
        pixel_spacing_mm  [row, col] in mm, or None (JPEG, PNG, arrays)
        tumor_area_mm2  float, or None without spacing
        path            the input file, or None for an array
        slice_index, num_slices, volume   for a slice of a DICOM/NIfTI
                        input (``volume``: its ``MedicalVolume``)
    """

    def __init__(self,
                 model: Union[str, Config, nn.Module],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 cfg: Optional[Union[str, Config]] = None,
                 backend: str = 'auto',
                 onnx_file: Optional[str] = None,
                 precision: str = 'fp32',
                 compile_mode: str = 'default',
                 num_workers: int = 2,
                 series_uid: Optional[str] = None,
                 tta: bool = False,
                 int8_options: Optional[dict] = None):
        self.series_uid = series_uid
        self.tta = tta
        if isinstance(model, nn.Module):
            cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
            if cfg is None:
                raise ValueError('a model passed as a module needs `cfg` '
                                 '(its config) for the test pipeline')
            self.cfg = Config.fromfile(cfg) if isinstance(cfg, str) else cfg
            init_default_scope(self.cfg.get('default_scope', 'mmseg'))
            if checkpoint is not None:
                load_inference_weights(model, checkpoint)
            if getattr(model, 'cfg', None) is None:
                model.cfg = self.cfg
            self.model = model.to(device).eval()
        else:
            self.model = init_model(model, checkpoint, device)
            self.cfg = self.model.cfg
        self.backend = build_backend(
            backend, self.model, precision=precision,
            compile_mode=compile_mode, onnx_file=onnx_file,
            checkpoint=checkpoint, int8_options=int8_options)
        self.num_workers = num_workers
        self.cls_classes = list(config_metainfo(self.cfg)['cls_classes'])
        self.pipeline = InferencePipeline(self.cfg, series_uid)

    list_images = staticmethod(list_images)

    def _prepared(self, items: list) -> Iterator[tuple]:
        """(item, (sample, image) or None, error or None) in input order;
        up to ``2 * num_workers`` items are read ahead by a thread pool."""
        if self.num_workers <= 0:
            for item in items:
                try:
                    yield item, self.pipeline.prepare(item), None
                except Exception as e:
                    yield item, None, e
            return
        with ThreadPoolExecutor(self.num_workers) as pool:
            pending, it = deque(), iter(items)
            for item in it:
                pending.append(
                    (item, pool.submit(self.pipeline.prepare, item)))
                if len(pending) >= 2 * self.num_workers:
                    break
            while pending:
                item, future = pending.popleft()
                nxt = next(it, None)
                if nxt is not None:
                    pending.append(
                        (nxt, pool.submit(self.pipeline.prepare, nxt)))
                try:
                    yield item, future.result(), None
                except Exception as e:
                    yield item, None, e

    def collate(self, inputs: Union[InputType, Sequence[InputType]]) -> dict:
        """The test pipeline's batch of ``inputs``: what ``model.test_step``
        (the ``predict()`` path of ``tools/test.py``) takes."""
        return self.pipeline.collate(inputs)

    def infer_volume(self, volume: Union[str, MedicalVolume],
                     batch_size: int = 8) -> dict:
        """Segment every slice of a scan and summarise the volume.

        Args:
            volume (str | MedicalVolume): A DICOM file or series folder, a
                NIfTI file, or a volume already read.

        Returns:
            dict: :meth:`summarize_volume`'s record, plus ``masks``
            ((N, H, W) uint8, display order) and ``volume`` (the
            ``MedicalVolume``, e.g. for :func:`write_mask_nifti`).
        """
        if isinstance(volume, str):
            volume = read_medical(volume, series_uid=self.series_uid)
        results = list(self.iter_results(volume, batch_size))
        summary = self.summarize_volume(volume, results)
        summary['masks'] = np.stack([r['mask'] for r in results])
        summary['volume'] = volume
        return summary

    def summarize_volume(self, volume: MedicalVolume,
                         results: List[dict]) -> dict:
        """One record for a scan from its slices' results.

        - ``tumor_volume_ml``: the sum of the slices' tumor areas (mm²)
          times the slice spacing (mm), in mL; None without spacing.
        - ``class_probs`` of the volume: the slices' class probabilities
          averaged with their tumor areas as weights, so that the slices
          that show the lesion decide (a slice without tumor says nothing
          of its kind); the plain mean over all slices when no slice has
          tumor. ``class_index`` is its argmax.
        """
        areas = np.array([r['tumor_area_px'] for r in results], np.float64)
        probs = np.array([r['class_probs'] for r in results], np.float64)
        weights = areas if areas.sum() > 0 else np.ones_like(areas)
        vol_probs = (probs * weights[:, None]).sum(0) / weights.sum()
        idx = int(vol_probs.argmax())
        ml = None
        if volume.pixel_spacing_mm is not None and \
                volume.slice_spacing_mm is not None:
            ml = sum(r['tumor_area_mm2'] for r in results) * \
                volume.slice_spacing_mm / 1000.0
        names = self.cls_classes
        return dict(
            path=volume.path,
            num_slices=volume.num_slices,
            slices_with_tumor=[
                r['slice_index'] for r in results if r['tumor_area_px']
            ],
            tumor_volume_ml=ml,
            pixel_spacing_mm=list(volume.pixel_spacing_mm)
            if volume.pixel_spacing_mm is not None else None,
            slice_spacing_mm=volume.slice_spacing_mm,
            class_index=idx,
            class_name=names[idx] if idx < len(names) else str(idx),
            class_probs=[float(p) for p in vol_probs],
            class_rule='tumor-area-weighted mean of the slice probabilities',
            slices=[{k: r[k] for k in RECORD_KEYS + SLICE_KEYS}
                    for r in results])

    def _logits(self, data: dict, seg_softmax: bool = False):
        """(post-processed samples, per-image segmentation softmax (C, H, W)
        at the input's own size if ``seg_softmax`` else None, class
        probabilities (N, K)) of one collated batch."""
        data = self.model.data_preprocessor(data, False)
        # (seg, cls); a segmentation-only model (an mmseg peer) gives (seg, )
        seg_logits, *cls_logits = self.backend(data['inputs'])
        samples = self.model.postprocess_result(seg_logits,
                                                data['data_samples'])
        seg = [s.seg_logits.data.float().softmax(dim=0)
               for s in samples] if seg_softmax else None
        probs = torch.softmax(cls_logits[0].float(), dim=1) \
            if cls_logits else None
        return samples, seg, probs

    @torch.no_grad()
    def _run_batch(self, batch: list) -> List[dict]:
        data = pseudo_collate([sample for _, (sample, _) in batch])
        if not self.tta:
            samples, _, probs = self._logits(data)
        else:
            # the image and its horizontal flip, flipped before the
            # preprocessor pads it (as tta_pipeline does); softmax of the
            # masks and class probabilities averaged, as MultiTaskTTAModel
            flipped = dict(
                inputs=[x.flip(-1) for x in data['inputs']],
                data_samples=copy.deepcopy(data['data_samples']))
            samples, seg, probs = self._logits(data, True)
            _, seg_f, probs_f = self._logits(flipped, True)
            probs = (probs + probs_f) / 2 if probs is not None else None
            for s, a, b in zip(samples, seg, seg_f):
                mean = (a + b.flip(-1)) / 2
                s.pred_sem_seg = PixelData(
                    data=mean.argmax(dim=0, keepdim=True))
        probs = probs.cpu().numpy() if probs is not None else [None] * len(
            samples)
        return [
            self._to_result(item, s, p)
            for (item, _), s, p in zip(batch, samples, probs)
        ]

    def iter_results(self,
                     inputs: Union[InputType, Sequence[InputType]],
                     batch_size: int = 1,
                     skip_errors: bool = False,
                     keep_image: bool = False) -> Iterator[dict]:
        """Yield one result per input, in order, running ``batch_size``
        images per forward while the next ones are read.

        Args:
            skip_errors (bool): For an input that cannot be read, yield
                ``dict(path=..., error=message)`` and go on, instead of
                raising.
            keep_image (bool): Add ``image``, the input as loaded
                ((H, W, 3) uint8 BGR), e.g. for overlays.
        """
        pending = []  # (item, prepared, error) in input order
        for entry in self._prepared(self.pipeline.expand(inputs)):
            if entry[2] is not None and not skip_errors:
                raise entry[2]
            pending.append(entry)
            if sum(e[2] is None for e in pending) == batch_size:
                yield from self._finish(pending, keep_image)
                pending = []
        if pending:
            yield from self._finish(pending, keep_image)

    def _finish(self, pending, keep_image):
        good = [(item, prep) for item, prep, error in pending if error is None]
        results = iter(self._run_batch(good) if good else [])
        for item, prepared, error in pending:
            if error is not None:
                yield dict(path=self._path(item), error=str(error))
                continue
            res = next(results)
            if keep_image:
                res['image'] = prepared[1]
            yield res

    def __call__(self, inputs: Union[InputType, Sequence[InputType]],
                 batch_size: int = 1) -> List[dict]:
        """Run inference; see the class docstring for the result fields.
        An input that cannot be read raises (naming the file)."""
        return list(self.iter_results(inputs, batch_size))

    @staticmethod
    def _path(item) -> Optional[str]:
        if isinstance(item, VolumeSlice):
            return item.volume.path
        if isinstance(item, Unreadable):
            return item.path
        return item if isinstance(item, str) else None

    def _to_result(self, item, sample, probs: np.ndarray) -> dict:
        mask = (sample.pred_sem_seg.data[0] == 1).cpu().numpy().astype(
            np.uint8)
        idx = int(probs.argmax()) if probs is not None else None
        area = int(mask.sum())
        ys, xs = np.nonzero(mask)
        bbox = None if area == 0 else [
            int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
        ]
        spacing = None
        if isinstance(item, VolumeSlice):
            spacing = item.volume.pixel_spacing_mm
        result = dict(
            path=self._path(item),
            mask=mask,
            class_index=idx,
            class_name=None if idx is None else self.cls_classes[idx]
            if idx < len(self.cls_classes) else str(idx),
            class_probs=None if probs is None else [float(p) for p in probs],
            tumor_area_px=area,
            tumor_area_pct=100.0 * area / mask.size,
            bbox=bbox,
            pixel_spacing_mm=list(spacing) if spacing is not None else None,
            tumor_area_mm2=area * spacing[0] * spacing[1]
            if spacing is not None else None)
        if isinstance(item, VolumeSlice):
            result.update(slice_index=item.index,
                          num_slices=item.volume.num_slices,
                          volume=item.volume)
        return result
