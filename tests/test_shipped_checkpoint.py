"""The weights shipped in checkpoints/: file, meta, loading, and what they
predict on real images (skipped when ../shared is absent).

When the weights are replaced, recompute PINNED with
``python -m tests.test_shipped_checkpoint`` and paste its output here.
"""
import hashlib
import os.path as osp

import cv2
import pytest
import torch
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmseg.registry import DATASETS, MODELS

from .conftest import REAL_DATA, REPO, shipped_checkpoint

# tumor Dice (global, percent) and image accuracy (percent) of the shipped
# weights on the first SUBSET images of valid/, and the file they belong to
SUBSET = 40
PINNED = dict(
    checkpoint='efficient_mtnet_320_brain_tumor-148cff59.pth',
    tumor_Dice=78.08,  # eval_steps=2
    accuracy=100.00)


def _model(config, ckpt, **test_cfg):
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    cfg.model.pop('auxiliary_head', None)
    cfg.model.test_cfg.update(test_cfg)
    model = MODELS.build(cfg.model).eval()
    state = torch.load(ckpt, map_location='cpu')['state_dict']
    # strict: every inference key present, nothing else but the
    # training-only auxiliary heads
    model.load_state_dict(
        {k: v for k, v in state.items()
         if not k.startswith('auxiliary_head.')}, strict=True)
    return cfg, model


def _valid_subset(cfg, n=SUBSET):
    ds_cfg = cfg.val_dataloader.dataset.copy()
    ds_cfg.update(data_root=REAL_DATA, indices=n)
    return DATASETS.build(ds_cfg)


def _dice_and_accuracy(samples):
    inter = area = 0
    correct = 0
    for s in samples:
        p = s.pred_sem_seg.data[0].numpy() == 1
        g = s.gt_sem_seg.data[0].numpy() == 1
        inter += (p & g).sum()
        area += p.sum() + g.sum()
        correct += int(s.pred_label) == int(s.gt_label)
    return 200 * inter / area, 100 * correct / len(samples)


def _predict(model, dataset):
    with torch.no_grad():
        return [model.test_step(pseudo_collate([dataset[i]]))[0]
                for i in range(len(dataset))]


def test_file_name_keys_meta_and_strict_load(shipped):
    config, path = shipped
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    assert osp.splitext(path)[0].endswith('-' + sha[:8])
    ckpt = torch.load(path)  # weights_only: plain tensors and meta only
    assert set(ckpt) == {'state_dict', 'meta'}
    assert osp.getsize(path) < 10e6
    _model(config, path)  # strict: every key, no extra
    if 'config' in ckpt['meta']:  # weights published with their recipe
        assert osp.isfile(osp.join(REPO, ckpt['meta']['config']))
        assert {'commit', 'seed'} <= set(ckpt['meta'])


@pytest.fixture(scope='module')
def subset(shipped, real_data):
    """The shipped model, the valid subset and its predictions (once)."""
    config, path = shipped
    cfg, model = _model(config, path)
    ds = _valid_subset(cfg)
    return cfg, model, ds, _predict(model, ds)


def test_predictions_on_valid_subset_are_pinned(shipped, subset):
    """A change that degrades what the shipped weights predict fails
    here."""
    assert osp.basename(shipped[1]) == PINNED['checkpoint'], \
        'new weights: recompute PINNED (see the module docstring)'
    dice, acc = _dice_and_accuracy(subset[3])
    assert dice == pytest.approx(PINNED['tumor_Dice'], abs=0.5)
    assert acc == pytest.approx(PINNED['accuracy'], abs=100 / SUBSET + 1e-6)


@pytest.fixture(scope='module')
def well_segmented(subset):
    """Three subset images the weights segment well, with their ground
    truth."""
    cfg, model, ds, preds = subset
    scored = sorted(((_dice_and_accuracy([s])[0], i)
                     for i, s in enumerate(preds)), reverse=True)
    return cfg, model, [ds.get_data_info(i) for _, i in scored[:3]]


@pytest.mark.parametrize('size', [(500, 375), (257, 311)])
def test_predict_at_odd_sizes_returns_aligned_masks(well_segmented, size,
                                                    tmp_path):
    """Images resized to sizes that are neither 640 nor multiples of 32, run
    through the real test pipeline and predict(): the mask comes back at
    the image's size, on the lesion."""
    cfg, model, infos = well_segmented
    w, h = size
    pipeline = Compose(cfg.test_pipeline)
    samples = []
    for k, info in enumerate(infos):
        img = cv2.resize(cv2.imread(info['img_path']), (w, h))
        path = str(tmp_path / f'{k}.png')
        cv2.imwrite(path, img)
        sx, sy = w / info['width'], h / info['height']
        anns = []
        for a in info['ann_info']:
            polys = [[v * (sx if j % 2 == 0 else sy)
                      for j, v in enumerate(p)] for p in a['segmentation']]
            anns.append(dict(a, segmentation=polys))
        sample = pipeline(dict(img_path=path, height=h, width=w,
                               gt_label=info['gt_label'], ann_info=anns,
                               seg_fields=[], reduce_zero_label=False))
        with torch.no_grad():
            (pred, ) = model.test_step(pseudo_collate([sample]))
        assert tuple(pred.pred_sem_seg.data.shape) == (1, h, w)
        samples.append(pred)
    dice, _ = _dice_and_accuracy(samples)
    assert dice > 70
    # the same masks shifted by a quarter of the image are far off
    for s in samples:
        s.pred_sem_seg.data = torch.roll(s.pred_sem_seg.data, w // 4, 2)
    assert _dice_and_accuracy(samples)[0] < dice - 30


def test_slide_inference_agrees_with_whole(well_segmented, shipped):
    """Sliding windows of half the training size, overlapping by half,
    find the same lesions and classes as whole-image inference."""
    cfg, whole, infos = well_segmented
    crop = tuple(cfg.crop_size)
    _, slide = _model(shipped[0], shipped[1], mode='slide', crop_size=crop,
                      stride=(crop[0] // 2, crop[1] // 2))
    pipeline = Compose(cfg.test_pipeline)
    outs = {}
    for name, model in (('whole', whole), ('slide', slide)):
        with torch.no_grad():
            outs[name] = [
                model.test_step(pseudo_collate([pipeline(dict(info))]))[0]
                for info in infos]
    d_whole, _ = _dice_and_accuracy(outs['whole'])
    d_slide, _ = _dice_and_accuracy(outs['slide'])
    assert d_slide > 60 and d_whole > 80
    assert [int(s.pred_label) for s in outs['slide']] == \
        [int(s.pred_label) for s in outs['whole']]


if __name__ == '__main__':  # print PINNED for the shipped weights
    import mtnet_plugin  # noqa: F401
    config, path = shipped_checkpoint()
    cfg, model = _model(config, path)
    dice, acc = _dice_and_accuracy(_predict(model, _valid_subset(cfg)))
    print(f"PINNED = dict(\n    checkpoint='{osp.basename(path)}',\n"
          f'    tumor_Dice={dice:.2f},\n    accuracy={acc:.2f})')
