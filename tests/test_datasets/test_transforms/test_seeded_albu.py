import numpy as np
import pytest

pytest.importorskip('albumentations')

from mtnet_plugin.datasets.transforms import SeededAlbu  # noqa: E402

TRANSFORMS = [
    dict(type='Affine', translate_px=(-20, 20), border_mode=0, fill=0,
         fill_mask=0, p=1.0),
    dict(type='GaussNoise', std_range=(0.05, 0.1), p=1.0),
]


def _results():
    img = np.zeros((64, 64, 3), np.uint8)
    img[20:30, 24:40] = 200
    mask = np.zeros((64, 64), np.uint8)
    mask[20:30, 24:40] = 1
    return dict(img=img, gt_seg_map=mask, seg_fields=['gt_seg_map'],
                img_shape=(64, 64))


def _run(t, seed):
    np.random.seed(seed)
    return [t(_results()) for _ in range(3)]


def test_draws_follow_numpys_seed():
    """mmseg's Albu with albumentations 2.x seeds itself from the OS: two
    runs differ. Seeded from numpy (which mmengine seeds per worker), the
    same seed gives the same augmentations, another seed others."""
    t = SeededAlbu(TRANSFORMS)
    a, b, c = _run(t, 0), _run(SeededAlbu(TRANSFORMS), 0), _run(t, 1)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x['img'], y['img'])
        np.testing.assert_array_equal(x['gt_seg_map'], y['gt_seg_map'])
    assert any(not np.array_equal(x['img'], z['img']) for x, z in zip(a, c))


def test_mask_moves_with_the_image():
    np.random.seed(3)
    out = SeededAlbu(TRANSFORMS[:1])(_results())
    ys, xs = np.nonzero(out['gt_seg_map'])
    iy, ix = np.nonzero(out['img'][..., 0] > 100)
    assert (ys.min(), xs.min(), ys.max(), xs.max()) == \
        (iy.min(), ix.min(), iy.max(), ix.max())
    assert out['gt_seg_map'].sum() == 10 * 16  # a shift keeps the area
    assert (ys.min(), xs.min()) != (20, 24)


def test_missing_albumentations_names_the_extra(monkeypatch):
    from mmseg.datasets.transforms import transforms as mmseg_transforms
    monkeypatch.setattr(mmseg_transforms, 'ALBU_INSTALLED', False)
    with pytest.raises(ImportError, match=r'\.\[albu\]'):
        SeededAlbu(TRANSFORMS)
