"""Every EfficientMTNet config in the zoo builds a model that predicts a
mask at 1/4 of its input and an image class."""
import glob
import os.path as osp

import pytest
import torch
from mmengine import Config
from mmseg.registry import MODELS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
CONFIGS = sorted(
    glob.glob(osp.join(REPO, 'configs', 'efficient_mtnet', '*.py')))


@pytest.mark.parametrize('config', CONFIGS, ids=osp.basename)
def test_config_builds_a_two_task_model(config):
    cfg = Config.fromfile(config)
    model = MODELS.build(cfg.model).eval()
    with torch.no_grad():
        seg, cls = model(torch.randn(1, 3, 96, 64), mode='tensor')
    assert tuple(seg.shape) == (1, 2, 24, 16)
    assert tuple(cls.shape) == (1, 2)


def test_skip_config_reads_the_stems_quarter_map():
    """The skip connection is wired: the decode head's up stage reads the
    backbone's 1/4 map, which the neck passes through at index 5."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'efficient_mtnet',
                 'efficient_mtnet_1xb8-boxaux-skip4-45e_brain-tumor-320x320.py'))
    model = MODELS.build(cfg.model).eval()
    feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    assert len(feats) == 6 and tuple(feats[5].shape) == (1, 48, 16, 16)
    assert model.decode_head.skip_in_index == {'0': 5}
    # every other head keeps its map
    assert feats[4].shape[1] == 128 and feats[3].shape[1] == 128


def test_clsattn_config_pools_the_fused_eighth_map():
    """The class head's extra level is the neck's fused 1/8 map: changing
    that map alone changes the class logits."""
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'efficient_mtnet',
                 'efficient_mtnet_1xb8-boxaux-clsattn-45e_brain-tumor-320x320.py'))
    model = MODELS.build(cfg.model).eval()
    feats = list(model.extract_feat(torch.randn(1, 3, 64, 64)))
    assert model.cls_head.extra_in_index == [4]
    assert tuple(feats[4].shape) == (1, 128, 8, 8)
    with torch.no_grad():
        before = model.cls_head(tuple(feats))
        feats[4] = torch.randn_like(feats[4])
        after = model.cls_head(tuple(feats))
    assert not torch.allclose(before, after)


ALL_CONFIGS = sorted(
    p for p in glob.glob(osp.join(REPO, 'configs', '*', '*.py'))
    if osp.basename(osp.dirname(p)) != '_base_')


@pytest.mark.parametrize('config', ALL_CONFIGS, ids=osp.basename)
def test_learning_rate_schedule_ends_with_the_training(config):
    """The last scheduler ends at max_epochs, so a longer run is not spent
    at the rate the shorter one ended with (a child config that changes
    max_epochs must stretch its base's cosine)."""
    cfg = Config.fromfile(config)
    if 'param_scheduler' not in cfg or 'train_cfg' not in cfg:
        pytest.skip('an inference-only config (no schedule)')
    assert cfg.param_scheduler[-1]['end'] == cfg.train_cfg.max_epochs


def test_default_recipe_reads_in_one_file():
    """The README's config inherits from _base_ pieces only, and is the
    45-epoch distilled, smoothed ablation's recipe run for 90 epochs: the
    same model and data, another schedule length."""
    import re
    root = osp.join(REPO, 'configs', 'efficient_mtnet')
    default = osp.join(
        root, 'efficient_mtnet_1xb8-boxaux-distill-pkd-ls-90e_brain-tumor-'
        '320x320.py')
    bases = re.search(r'_base_ = \[(.*?)\]', open(default).read(),
                      re.S).group(1)
    assert all(b.startswith('../_base_/')
               for b in re.findall(r"'([^']+)'", bases))
    ablation = Config.fromfile(osp.join(
        root, 'efficient_mtnet_1xb8-boxaux-distill-pkd-ls-45e_brain-tumor-'
        '320x320.py'))
    cfg = Config.fromfile(default)
    for key in ('model', 'train_dataloader', 'val_dataloader',
                'optim_wrapper', 'custom_hooks', 'randomness'):
        assert cfg[key] == ablation[key], key
    assert cfg.train_cfg.max_epochs == 90
    assert cfg.param_scheduler[-1].end == 90
    assert ablation.param_scheduler[-1].end == 45
