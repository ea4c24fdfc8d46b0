"""The weights shipped in checkpoints/ load into the config's model."""
import glob
import hashlib
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmseg.registry import MODELS

from .conftest import REPO

SHIPPED = sorted(
    glob.glob(osp.join(REPO, 'checkpoints', 'efficient_mtnet_640_*.pth')))


@pytest.mark.skipif(not SHIPPED, reason='no shipped checkpoint')
@pytest.mark.parametrize('path', SHIPPED, ids=osp.basename)
def test_shipped_checkpoint(path):
    sha = hashlib.sha256(open(path, 'rb').read()).hexdigest()
    assert osp.splitext(path)[0].endswith('-' + sha[:8])
    ckpt = torch.load(path)  # weights_only: plain tensors and meta only
    assert set(ckpt) == {'state_dict', 'meta'}
    init_default_scope('mmseg')
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'efficient_mtnet_640.py'))
    cfg.model.pop('auxiliary_head')
    model = MODELS.build(cfg.model)
    missing = model.load_state_dict(
        {k: v for k, v in ckpt['state_dict'].items()
         if not k.startswith('auxiliary_head.')}, strict=True)
    assert not missing.missing_keys and not missing.unexpected_keys
    assert osp.getsize(path) < 10e6
