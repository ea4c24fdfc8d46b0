"""Flip TTA for both tasks: tools/test.py --tta (MultiTaskTTAModel on the
config's tta_pipeline) and TumorInferencer(tta=True) give the same answer,
and it is the average of the image and its flip."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmseg.registry import MODELS

from mtnet_plugin.apis import TumorInferencer

from ...conftest import REPO

CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-12e_synthetic-256x256.py')


@pytest.fixture(scope='module')
def setup(tmp_path_factory):
    from mmengine.registry import init_default_scope

    from mtnet_plugin.datasets.synthetic_mri import generate_dataset
    init_default_scope('mmseg')  # module fixtures run before the autouse one
    root = tmp_path_factory.mktemp('tta')
    generate_dataset(str(root), dict(test=2), size=200, seed=4)
    cfg = Config.fromfile(CONFIG)
    torch.manual_seed(1)
    model = MODELS.build(cfg.model)
    model.init_weights()
    ckpt = str(root / 'w.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    return cfg, ckpt, root / 'test'


def test_tools_test_tta_equals_inferencer_tta(setup):
    cfg, ckpt, folder = setup
    img = sorted(str(p) for p in folder.glob('*.jpg'))[0]
    # as tools/test.py --tta builds it
    cfg.tta_model.module = cfg.model
    tta = MODELS.build(cfg.tta_model)
    tta.module.load_state_dict(torch.load(ckpt)['state_dict'])
    tta.eval()
    pipeline = Compose(cfg.tta_pipeline)
    sample = pipeline(dict(img_path=img, ann_info=[], height=200, width=200,
                           gt_label=0, seg_fields=[], reduce_zero_label=False))
    assert len(sample['inputs']) == 2  # the image and its flip
    with torch.no_grad():
        (merged, ) = tta.test_step(pseudo_collate([sample]))
        copies = [tta.module.test_step(pseudo_collate(
            [dict(inputs=sample['inputs'][i],
                  data_samples=sample['data_samples'][i])]))[0]
            for i in range(2)]
    mean = (copies[0].pred_score + copies[1].pred_score) / 2
    torch.testing.assert_close(merged.pred_score, mean)
    seg = (copies[0].seg_logits.data.softmax(0) +
           copies[1].seg_logits.data.softmax(0)) / 2
    assert torch.equal(merged.pred_sem_seg.data[0], seg.argmax(0))

    inf = TumorInferencer(cfg, ckpt, backend='pytorch', tta=True,
                          num_workers=0)
    (res, ) = inf(img)
    np.testing.assert_allclose(res['class_probs'], mean.numpy(), atol=1e-5)
    agree = (res['mask'] == merged.pred_sem_seg.data[0].numpy()).mean()
    assert agree > 0.999, agree
    (plain, ) = TumorInferencer(cfg, ckpt, backend='pytorch',
                                num_workers=0)(img)
    np.testing.assert_allclose(plain['class_probs'],
                               copies[0].pred_score.numpy(), atol=1e-5)
