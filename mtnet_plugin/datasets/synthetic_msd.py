"""Small synthetic labelled volumes in the Medical Segmentation Decathlon
layout (Task01_BrainTumour's: four modalities, labels 0-3).

Each case is a head-like ellipsoid with textured tissue and noise, holding
one lesion of nested ellipsoids: edema (label 1), a non-enhancing core (2)
and an enhancing rim (3), each with its own contrast in each modality
(bright edema in FLAIR and T2, a bright rim in T1gd), so that the three
default channels see it differently. The lesion spans part of the slices
only: the others have no tumor. Voxels are 1.5 x 1.5 x 3 mm in RAS+.

Used by the tests and by ``tools/dataset_converters/make_synthetic_msd.py``.
"""
import json
import os
import os.path as osp
from typing import Sequence, Tuple

import numpy as np

MODALITIES = ('FLAIR', 'T1w', 't1gd', 'T2w')
LABELS = {'0': 'background', '1': 'edema', '2': 'non-enhancing tumor',
          '3': 'enhancing tumour'}
SPACING_MM = (1.5, 1.5, 3.0)
# intensity of background tissue, edema, core and enhancing rim per modality
CONTRAST = {
    'FLAIR': (100, 190, 150, 160),
    'T1w': (110, 90, 60, 120),
    't1gd': (110, 95, 55, 230),
    'T2w': (90, 200, 215, 170),
}


def _ellipsoid(grid, centre, radii) -> np.ndarray:
    return sum(((g - c) / r)**2 for g, c, r in zip(grid, centre, radii)) <= 1


def render_case(rng: np.random.Generator,
                shape: Tuple[int, int, int] = (64, 64, 24),
                modalities: Sequence[str] = MODALITIES,
                with_tumor: bool = True):
    """One case: ((X, Y, Z, M) float32 image, (X, Y, Z) uint8 labels)."""
    grid = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape],
                       indexing='ij')
    centre = np.array(shape, np.float32) / 2 + rng.uniform(-2, 2, 3)
    head = _ellipsoid(grid, centre,
                      np.array(shape) * rng.uniform(0.36, 0.44, 3))
    labels = np.zeros(shape, np.uint8)
    if with_tumor:
        lesion_c = centre + rng.uniform(-0.15, 0.15, 3) * np.array(shape)
        r = np.array(shape[:2]).min() * rng.uniform(0.12, 0.2)
        radii = np.array([r, r * rng.uniform(0.8, 1.2), shape[2] * 0.2])
        edema = _ellipsoid(grid, lesion_c, radii) & head
        core = _ellipsoid(grid, lesion_c, radii * 0.65) & head
        inner = _ellipsoid(grid, lesion_c, radii * 0.4) & head
        labels[edema] = 1
        labels[core] = 3  # enhancing rim
        labels[inner] = 2  # non-enhancing core inside it
    image = np.zeros(shape + (len(modalities), ), np.float32)
    for m, name in enumerate(modalities):
        tissue, *lesion = CONTRAST.get(name, CONTRAST['FLAIR'])
        vol = np.where(head, tissue * rng.uniform(0.9, 1.1), 0.0)
        for value, level in zip((1, 2, 3), lesion):
            vol[labels == value] = level * rng.uniform(0.9, 1.1)
        texture = rng.normal(0, 6, shape) * head
        vol = vol + texture + rng.normal(0, 2, shape)
        image[..., m] = np.clip(vol, 0, None) * rng.uniform(5, 15)
    return image, labels


def _save(data: np.ndarray, path: str) -> None:
    import nibabel as nib
    affine = np.diag(list(SPACING_MM) + [1.0])
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units('mm')
    nib.save(img, path)


def generate_msd_task(out_dir: str,
                      num_train: int = 20,
                      num_test: int = 2,
                      shape: Tuple[int, int, int] = (64, 64, 24),
                      modalities: Sequence[str] = MODALITIES,
                      test_labels: bool = True,
                      seed: int = 0) -> str:
    """Write a task folder: ``dataset.json``, ``imagesTr``/``labelsTr``,
    ``imagesTs`` (and ``labelsTs`` with ``test_labels``). One training case
    in four has no tumor. A one-modality task (``modalities`` of length 1)
    has 3D images, as MSD's; several make 4D images. Returns ``out_dir``.
    """
    rng = np.random.default_rng(seed)
    folders = ['imagesTr', 'labelsTr', 'imagesTs'] + (['labelsTs']
                                                      if test_labels else [])
    for folder in folders:
        os.makedirs(osp.join(out_dir, folder), exist_ok=True)
    training, test = [], []
    for i in range(num_train + num_test):
        name = f'BRATS_{i + 1:03d}.nii.gz'
        image, labels = render_case(
            rng, shape, modalities, with_tumor=(i % 4 != 3) or
            i >= num_train)
        if len(modalities) == 1:
            image = image[..., 0]
        split = 'Tr' if i < num_train else 'Ts'
        _save(image, osp.join(out_dir, f'images{split}', name))
        if split == 'Tr' or test_labels:
            _save(labels, osp.join(out_dir, f'labels{split}', name))
        if split == 'Tr':
            training.append(
                dict(image=f'./imagesTr/{name}', label=f'./labelsTr/{name}'))
        else:
            test.append(f'./imagesTs/{name}')
    task = dict(
        name='SyntheticBrainTumour',
        description='Synthetic multi-modal volumes with ellipsoid lesions',
        tensorImageSize='4D' if len(modalities) > 1 else '3D',
        modality={str(i): m for i, m in enumerate(modalities)},
        labels=LABELS,
        numTraining=len(training),
        numTest=len(test),
        training=training,
        test=test)
    with open(osp.join(out_dir, 'dataset.json'), 'w') as f:
        json.dump(task, f, indent=4)
    return out_dir
