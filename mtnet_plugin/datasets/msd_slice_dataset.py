"""Labelled NIfTI volumes in the Medical Segmentation Decathlon layout, as
2D slices for the multi-task network."""
import hashlib
import json
import os
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS

from .coco_tumor_dataset import BadSampleError
from .medical_volume import (MedicalImageError, _require, read_medical,
                             select_channels)

CACHE_VERSION = 1
DEFAULT_CACHE_DIR = osp.join('~', '.cache', 'efficient-mtnet', 'msd')


@DATASETS.register_module()
class MSDSliceDataset(BaseSegDataset):
    """A Medical Segmentation Decathlon task folder as axial 2D slices.

    The layout (Task01_BrainTumour, BraTS converted the same way)::

        Task01_BrainTumour/
          dataset.json        modality, labels, training, test
          imagesTr/*.nii.gz   3D, or 4D with the modalities last
          labelsTr/*.nii.gz   voxel labels, the image's grid
          imagesTs/*.nii.gz   optional, with labelsTs/*.nii.gz when labelled

    Each volume is read as ``tools/infer.py`` reads a NIfTI
    (:func:`~mtnet_plugin.datasets.medical_volume.read_medical`): cut along
    the axis closest to superior-inferior, in radiological display order,
    each modality windowed to 0-255 over the whole volume by its
    ``percentiles``. A slice becomes a sample: its 3 channels, its tumor
    mask (``tumor_labels`` -> 1, the rest 0) and its image class,
    "tumor present in this slice" (``cls_classes``: 'no tumor', 'tumor').

    Splits (``split``), by case, never by slice:

    - ``'train'``: the ``training`` cases outside the validation fold;
      with ``tumor_slice_ratio`` the slices without tumor are subsampled
      over all cases (among those with any non-zero voxel) so that tumor
      slices make up that fraction; every tumor slice is kept;
    - ``'val'``: a fold of ``val_fraction`` of the ``training`` cases,
      drawn with ``split_seed`` (the official release has no test labels);
    - ``'test'``: ``imagesTs/`` with ``labelsTs/`` for the cases that have
      a label file there; without any, the validation fold (logged).

    ``val`` and ``test`` keep every slice. Samples carry ``case_id``,
    ``slice_index``, ``num_slices`` and ``voxel_volume_ml``, which
    :class:`~mtnet_plugin.evaluation.VolumeDiceMetric` uses to stack the
    slices back into volumes.

    The volumes are decoded once into ``cache_dir`` (uint8 ``.npy`` files,
    read memory-mapped by :class:`LoadVolumeSlice`; keyed by the files'
    size and time and by the options that change them). Nothing is
    written into the task folder.

    Bad input: an image and label whose shapes or affines differ, a
    modality or label name that ``dataset.json`` does not list, a listed
    file that is missing, or an unreadable file raise an error naming the
    file(s). A volume with NaN or infinite voxels, or a 2D file where a
    volume is expected, is skipped, logged and counted in
    ``build_report``.

    Args:
        data_root (str): The task folder.
        split (str): 'train', 'val' or 'test'. Default: 'train'.
        ann_file (str): Default: 'dataset.json'.
        modalities (Sequence[str], optional): Three modality names of
            ``dataset.json``'s ``modality`` (case-insensitive; one may
            repeat), in channel order. None: the first three, or the only
            one repeated (what the 2D weights and ``tools/infer.py`` use).
        slice_context (bool): For one modality: channels are the slice and
            its two neighbours (2.5D; the first and last slices repeat
            themselves). Default: False.
        tumor_labels (Sequence[int | str], optional): Label values (or
            names of ``labels``) that are tumor. None: every label > 0.
        val_fraction (float): Share of the training cases in the
            validation fold. Default: 0.2.
        split_seed (int): Seed of the fold. Default: 0.
        tumor_slice_ratio (float, optional): 'train' only: the fraction of
            tumor slices among the samples. None keeps every slice.
        sample_seed (int): Seed of that subsampling. Default: 0.
        percentiles (tuple[float]): Window of each modality over its
            volume. Default: (0.5, 99.5), as ``tools/infer.py``.
        cache_dir (str, optional): Where decoded volumes go. Default:
            ``~/.cache/efficient-mtnet/msd``.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.
    """

    METAINFO = dict(
        classes=('background', 'tumor'),
        palette=[[0, 0, 0], [255, 0, 0]],
        cls_classes=('no tumor', 'tumor'))

    def __init__(self,
                 data_root: str,
                 split: str = 'train',
                 ann_file: str = 'dataset.json',
                 modalities: Optional[Sequence[str]] = None,
                 slice_context: bool = False,
                 tumor_labels: Optional[Sequence[Union[int, str]]] = None,
                 val_fraction: float = 0.2,
                 split_seed: int = 0,
                 tumor_slice_ratio: Optional[float] = None,
                 sample_seed: int = 0,
                 percentiles: Tuple[float, float] = (0.5, 99.5),
                 cache_dir: Optional[str] = None,
                 **kwargs):
        if split not in ('train', 'val', 'test'):
            raise ValueError(
                f'split must be "train", "val" or "test", got {split!r}')
        if not 0 < val_fraction < 1:
            raise ValueError(f'val_fraction must be in (0, 1), got '
                             f'{val_fraction}')
        if tumor_slice_ratio is not None and not 0 < tumor_slice_ratio <= 1:
            raise ValueError('tumor_slice_ratio must be in (0, 1], got '
                             f'{tumor_slice_ratio}')
        self.split = split
        self.modalities = None if modalities is None else list(modalities)
        self.slice_context = slice_context
        self.tumor_labels = None if tumor_labels is None else list(
            tumor_labels)
        self.val_fraction = val_fraction
        self.split_seed = split_seed
        self.tumor_slice_ratio = tumor_slice_ratio
        self.sample_seed = sample_seed
        self.percentiles = tuple(percentiles)
        self.cache_dir = osp.expanduser(cache_dir or DEFAULT_CACHE_DIR)
        self.build_report: Dict[str, int] = {}
        self.skipped: List[str] = []
        self.cases: List[dict] = []
        super().__init__(
            ann_file=ann_file,
            data_root=data_root,
            img_suffix='',
            seg_map_suffix='',
            **kwargs)

    # ----------------------------------------------------------- dataset.json
    def _read_task(self) -> dict:
        if not osp.isfile(self.ann_file):
            hint = ''
            if self.data_root and not osp.isdir(self.data_root):
                hint = (f'. The task folder {self.data_root} does not '
                        'exist: point the config at it with '
                        'BRAIN_TUMOR_DATA_ROOT=/path/to/TaskXX_Name')
            raise FileNotFoundError(
                f'MSD dataset.json not found: {self.ann_file}{hint}')
        try:
            with open(self.ann_file, encoding='utf-8-sig') as f:
                task = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadSampleError(
                f'{self.ann_file}: not a valid JSON file ({e})') from e
        for key in ('modality', 'labels', 'training'):
            if key not in task:
                raise BadSampleError(
                    f'{self.ann_file}: no "{key}" in dataset.json')
        return task

    @staticmethod
    def _indexed_names(table: dict, what: str, path: str) -> Dict[int, str]:
        try:
            return {int(k): str(v) for k, v in table.items()}
        except (AttributeError, TypeError, ValueError) as e:
            raise BadSampleError(
                f'{path}: "{what}" must map indices to names, got '
                f'{table!r}') from e

    def _channels(self, modality: Dict[int, str]) -> Tuple[int, ...]:
        """Modality indices of the network's channels (one index with
        ``slice_context``)."""
        names = [modality[i] for i in sorted(modality)]
        if self.modalities is None:
            if self.slice_context:
                if len(names) != 1:
                    raise ValueError(
                        f'{self.ann_file}: slice_context needs one modality;'
                        f' this task has {names}: name one in modalities')
                return (0, )
            return select_channels(len(names), self.ann_file)
        lower = {n.lower(): i for i, n in enumerate(names)}
        unknown = [m for m in self.modalities if m.lower() not in lower]
        if unknown:
            raise ValueError(
                f'{self.ann_file}: modalities {unknown} are not in the '
                f'task\'s modality list {names}')
        channels = tuple(lower[m.lower()] for m in self.modalities)
        need = 1 if self.slice_context else 3
        if len(channels) != need:
            raise ValueError(
                f'modalities must name {need} modalit'
                f'{"y" if need == 1 else "ies"}'
                f'{" with slice_context" if self.slice_context else ""}, '
                f'got {self.modalities}')
        return channels

    def _tumor_values(self, labels: Dict[int, str]) -> Optional[List[int]]:
        if self.tumor_labels is None:
            return None
        by_name = {n.lower(): v for v, n in labels.items()}
        values, unknown = [], []
        for t in self.tumor_labels:
            if isinstance(t, str) and not t.isdigit():
                if t.lower() in by_name:
                    values.append(by_name[t.lower()])
                else:
                    unknown.append(t)
            else:
                values.append(int(t))
        if unknown:
            raise ValueError(
                f'{self.ann_file}: tumor_labels {unknown} are not in the '
                f'task\'s labels {labels}')
        return values

    def _case_files(self, task: dict) -> List[Tuple[str, str]]:
        """(image, label) paths of the split's cases."""
        root = self.data_root or ''
        training = []
        for entry in task['training']:
            if not isinstance(entry, dict) or 'image' not in entry or \
                    'label' not in entry:
                raise BadSampleError(
                    f'{self.ann_file}: a "training" entry without "image" '
                    f'and "label": {entry!r}')
            training.append((osp.normpath(osp.join(root, entry['image'])),
                             osp.normpath(osp.join(root, entry['label']))))
        training.sort()
        rng = np.random.default_rng(self.split_seed)
        order = rng.permutation(len(training))
        n_val = min(len(training) - 1,
                    max(1, int(round(self.val_fraction * len(training)))))
        val = [training[i] for i in sorted(order[:n_val])]
        train = [training[i] for i in sorted(order[n_val:])]
        if self.split == 'train':
            cases = train
        elif self.split == 'val':
            cases = val
        else:
            cases = []
            for image in task.get('test', []):
                image = image['image'] if isinstance(image, dict) else image
                image = osp.normpath(osp.join(root, image))
                label = osp.join(root, 'labelsTs', osp.basename(image))
                if osp.isfile(label):
                    cases.append((image, label))
            n_test = len(task.get('test', []))
            if not cases:
                print_log(
                    f'[MSDSliceDataset] {self.ann_file}: no labelsTs/ for '
                    f'the {n_test} test images; the test split is the '
                    f'validation fold ({len(val)} cases, split_seed '
                    f'{self.split_seed})',
                    logger='current')
                cases = val
            elif len(cases) < n_test:
                print_log(
                    f'[MSDSliceDataset] {self.ann_file}: {len(cases)} of '
                    f'{n_test} test images have a label in labelsTs/; the '
                    'others are left out of the test split',
                    logger='current')
        for image, label in cases:
            for path in (image, label):
                if not osp.isfile(path):
                    raise FileNotFoundError(
                        f'{self.ann_file}: case file not found: {path}')
        return cases

    # ------------------------------------------------------------- volumes
    def _cache_key(self, image: str, label: str, channels) -> str:
        parts = [CACHE_VERSION, channels, self.slice_context,
                 self.percentiles, self.tumor_values]
        for path in (image, label):
            st = os.stat(path)
            parts += [osp.abspath(path), st.st_size, st.st_mtime_ns]
        return hashlib.sha1(repr(parts).encode()).hexdigest()[:16]

    def _decode(self, image: str, label: str, channels):
        """Read one case into the cache; returns its meta, or None for a
        skipped volume."""
        nib = _require('nibabel')
        # a 4D file's three channels (one repeated for slice_context; a 3D
        # file has none to choose)
        read_channels = tuple(channels) if len(channels) == 3 else tuple(
            channels) * 3
        try:
            vol = read_medical(
                image, percentiles=self.percentiles, channels=read_channels)
        except MedicalImageError as e:
            if 'constant' in str(e) or 'NaN' in str(e):
                return self._skip(f'{image}: {e}')
            raise
        if vol.nonfinite_voxels:
            return self._skip(f'{image}: {vol.nonfinite_voxels} NaN or '
                              'infinite voxels')
        if not vol.is_volume:
            return self._skip(f'{image}: a 2D image (shape '
                              f'{vol.mask_shape}) where a volume is expected')
        try:
            lbl_img = nib.load(label)
            lbl = np.asarray(lbl_img.dataobj)
        except Exception as e:
            raise MedicalImageError(
                f'{label}: cannot read NIfTI label ({type(e).__name__}: '
                f'{e})') from e
        while lbl.ndim > 3 and lbl.shape[-1] == 1:
            lbl = lbl[..., 0]
        same_affine = np.allclose(
            np.asarray(lbl_img.affine), vol.affine, rtol=1e-5, atol=1e-3)
        if tuple(lbl.shape) != tuple(vol.mask_shape) or not same_affine:
            what = (f'shape {tuple(lbl.shape)} against {vol.mask_shape}'
                    if tuple(lbl.shape) != tuple(vol.mask_shape) else
                    'affines differ')
            raise BadSampleError(
                f'image {image} and label {label} do not share a grid '
                f'({what})')
        lbl = np.nan_to_num(np.asarray(lbl, dtype=np.float32))
        tumor = (lbl > 0) if self.tumor_values is None else np.isin(
            np.rint(lbl), self.tumor_values)
        mask = vol.to_display(tumor.astype(np.uint8))
        slices = vol.slices
        if len(channels) == 1 and slices.ndim == 4:
            slices = slices[..., 0]
        return dict(
            slices=slices,
            mask=mask,
            meta=dict(
                num_slices=int(slices.shape[0]),
                height=int(slices.shape[1]),
                width=int(slices.shape[2]),
                tumor_slices=[
                    int(i) for i in np.flatnonzero(mask.any(axis=(1, 2)))
                ],
                nonblank_slices=[
                    int(i) for i in np.flatnonzero(
                        slices.reshape(slices.shape[0], -1).any(axis=1))
                ],
                pixel_spacing_mm=list(vol.pixel_spacing_mm),
                voxel_volume_ml=float(
                    np.prod(vol.pixel_spacing_mm) * vol.slice_spacing_mm /
                    1000.0)))

    def _skip(self, msg: str) -> None:
        self.skipped.append(msg)
        print_log(f'[MSDSliceDataset] skipped: {msg}', logger='current')
        return None

    def _load_case(self, image: str, label: str, channels) -> Optional[dict]:
        """The case's cache files and meta (decoded on first use)."""
        name = osp.basename(image)
        stem = name[:-7] if name.endswith('.nii.gz') else osp.splitext(
            name)[0]
        key = self._cache_key(image, label, channels)
        base = osp.join(self.cache_dir, f'{stem}-{key}')
        meta_file = base + '.json'
        if osp.isfile(meta_file):
            with open(meta_file) as f:
                meta = json.load(f)
            if meta.get('skipped'):
                return self._skip(meta['skipped'])
        else:
            n_skipped = len(self.skipped)
            decoded = self._decode(image, label, channels)
            os.makedirs(self.cache_dir, exist_ok=True)
            if decoded is None:
                meta = dict(skipped=self.skipped[n_skipped])
            else:
                for suffix, array in (('_img.npy', decoded['slices']),
                                      ('_lbl.npy', decoded['mask'])):
                    tmp = f'{base}{suffix}.{os.getpid()}.part'
                    with open(tmp, 'wb') as f:
                        np.save(f, np.ascontiguousarray(array))
                    os.replace(tmp, base + suffix)
                meta = decoded['meta']
            # written last: its presence marks a complete entry
            tmp = f'{meta_file}.{os.getpid()}.part'
            with open(tmp, 'w') as f:
                json.dump(meta, f)
            os.replace(tmp, meta_file)
            if decoded is None:
                return None
        return dict(
            meta,
            case_id=stem,
            image=image,
            label=label,
            volume_cache=base + '_img.npy',
            label_cache=base + '_lbl.npy')

    # ------------------------------------------------------------ data list
    def _slices_to_keep(self) -> List[List[int]]:
        """Each case's slices: all of them, or (training with
        ``tumor_slice_ratio``) every tumor slice and slices without tumor
        drawn over all cases, among those with any non-zero voxel, so that
        tumor slices make up that fraction."""
        every = [list(range(c['num_slices'])) for c in self.cases]
        if self.split != 'train' or self.tumor_slice_ratio is None:
            return every
        negatives = [(k, i) for k, c in enumerate(self.cases)
                     for i in c['nonblank_slices']
                     if i not in set(c['tumor_slices'])]
        n_tumor = sum(len(c['tumor_slices']) for c in self.cases)
        r = self.tumor_slice_ratio
        n = min(len(negatives), int(round(n_tumor * (1 - r) / r)))
        chosen = np.random.default_rng(self.sample_seed).choice(
            len(negatives), n, replace=False)
        keep = [set(c['tumor_slices']) for c in self.cases]
        for j in chosen:
            k, i = negatives[j]
            keep[k].add(i)
        return [sorted(k) for k in keep]

    def load_data_list(self) -> List[dict]:
        """One data info per slice of the split's cases."""
        self.build_report = defaultdict(int)
        self.skipped = []
        task = self._read_task()
        modality = self._indexed_names(task['modality'], 'modality',
                                       self.ann_file)
        labels = self._indexed_names(task['labels'], 'labels', self.ann_file)
        channels = self._channels(modality)
        self.tumor_values = self._tumor_values(labels)
        self.channel_names = [modality[c] for c in channels]
        self.cases = [
            case for case in (self._load_case(image, label, channels)
                              for image, label in self._case_files(task))
            if case is not None
        ]
        if not self.cases:
            raise BadSampleError(
                f'{self.ann_file}: no usable volume in the {self.split} '
                f'split; {len(self.skipped)} skipped: {self.skipped}')
        keep = self._slices_to_keep()
        data_list = []
        n_pos = n_neg = 0
        n_all = sum(case['num_slices'] for case in self.cases)
        for case, slices in zip(self.cases, keep):
            tumor = set(case['tumor_slices'])
            for i in slices:
                n_pos += i in tumor
                n_neg += i not in tumor
                data_list.append(
                    dict(
                        img_path=case['image'],
                        seg_map_path=case['label'],
                        case_id=case['case_id'],
                        slice_index=int(i),
                        num_slices=case['num_slices'],
                        volume_cache=case['volume_cache'],
                        label_cache=case['label_cache'],
                        slice_context=self.slice_context,
                        height=case['height'],
                        width=case['width'],
                        pixel_spacing_mm=tuple(case['pixel_spacing_mm']),
                        voxel_volume_ml=case['voxel_volume_ml'],
                        gt_label=int(i in tumor),
                        label_map=self.label_map,
                        reduce_zero_label=self.reduce_zero_label,
                        seg_fields=[]))
        self.build_report.update(
            cases=len(self.cases),
            skipped=len(self.skipped),
            slices=len(data_list),
            tumor_slices=n_pos,
            slices_without_tumor=n_neg)
        print_log(
            f'[MSDSliceDataset] {self.ann_file} ({self.split}): '
            f'{len(self.cases)} cases, {len(self.skipped)} skipped; '
            f'{len(data_list)} slices of {n_all} ({n_pos} with tumor, '
            f'{n_neg} without); channels {self.channel_names}'
            f'{" + neighbours" if self.slice_context else ""}',
            logger='current')
        return data_list
