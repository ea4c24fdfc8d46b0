"""tools/analysis_tools/score_teachers.py: each teacher's and the
ensemble's tumor Dice on a split, as tools/test.py scores a model."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

from ..conftest import MODEL_CFG, REPO, load_tool

DISTILL = osp.join(REPO, 'configs', 'efficient_mtnet',
                   'efficient_mtnet_1xb8-boxaux-distill-pkd-ls-cached-ens2-'
                   '45e_brain-tumor-320x320.py')


@pytest.fixture
def two_teachers(tmp_path, synthetic_root):
    """Two different untrained-but-perturbed EfficientMTNet teachers on
    the synthetic split."""
    from mtnet_plugin.apis.inference import init_model
    teacher_cfg = str(tmp_path / 'teacher.py')
    with open(teacher_cfg, 'w') as f:
        f.write(f'_base_ = [{MODEL_CFG!r}]\n')
    teachers = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        m = init_model(teacher_cfg)
        for p in m.parameters():
            p.data.add_(0.05 * torch.randn_like(p))
        ckpt = str(tmp_path / f't{seed}.pth')
        torch.save(dict(state_dict=m.state_dict(), meta={}), ckpt)
        teachers.append(dict(config=teacher_cfg, checkpoint=ckpt))
    cfg = Config.fromfile(DISTILL)
    cfg.model.teacher = teachers
    cfg.val_dataloader.dataset.update(data_root=synthetic_root)
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    return path, teachers


def test_each_teacher_matches_its_own_test_scores(two_teachers, tmp_path):
    import json
    from mmengine.runner import Runner
    from mtnet_plugin.apis.inference import init_model
    path, teachers = two_teachers
    out = str(tmp_path / 's.json')
    scores = load_tool('analysis_tools/score_teachers.py').main(
        [path, '--split', 'valid', '--json', out, '--batch-size', '3'])
    assert set(scores) == {'t0', 't1', 'ensemble'}
    assert json.load(open(out))['scores'] == scores
    # t0 by hand: areas summed over the split, tumor class alone
    cfg = Config.fromfile(path)
    loader_cfg = cfg.val_dataloader.copy()
    loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader_cfg.dataset.update(ann_file='valid/_annotations.coco.json',
                              data_prefix=dict(img_path='valid'))
    model = init_model(teachers[0]['config'], teachers[0]['checkpoint'])
    inter = pred = gt = 0
    with torch.no_grad():
        for data in Runner.build_dataloader(loader_cfg):
            batch = model.data_preprocessor(data, False)
            for r in model.predict(batch['inputs'], batch['data_samples']):
                p = r.pred_sem_seg.data[0] == 1
                g = r.gt_sem_seg.data[0] == 1
                inter += int((p & g).sum())
                pred += int(p.sum())
                gt += int(g.sum())
    assert gt > 0
    assert scores['t0']['tumor_Dice'] == pytest.approx(
        200 * inter / max(pred + gt, 1), abs=0.01)
    assert scores['t0'] != scores['t1']


def test_a_config_without_teacher_is_refused(tmp_path):
    with pytest.raises(ValueError, match='model.teacher is not set'):
        load_tool('analysis_tools/score_teachers.py').main([MODEL_CFG])


def test_a_flip_teacher_is_scored_on_the_image_and_its_mirror(
        two_teachers, tmp_path):
    """``flip=True`` scores, per image, the log of the mean softmax of the
    image and of its mirror at the image's own size: a mirrored image gets
    the mirrored logits; the flip teacher is named apart."""
    from mmengine.runner import Runner
    from mtnet_plugin.apis.inference import init_model
    tool = load_tool('analysis_tools/score_teachers.py')
    path, teachers = two_teachers
    cfg = Config.fromfile(path)
    loader_cfg = cfg.val_dataloader.copy()
    loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
    loader_cfg.dataset.update(ann_file='valid/_annotations.coco.json',
                              data_prefix=dict(img_path='valid'))
    data = next(iter(Runner.build_dataloader(loader_cfg)))
    model = init_model(teachers[0]['config'], teachers[0]['checkpoint'])
    with torch.no_grad():
        batch = model.data_preprocessor(data, False)
        plain = tool.predict_logits(model, batch)
        both = tool.predict_logits(model, batch, flip=True)
        batch['inputs'] = batch['inputs'].flip(-1)
        mirrored = tool.predict_logits(model, batch, flip=True)
    for p, b, m, s in zip(plain, both, mirrored, batch['data_samples']):
        assert b.shape == p.shape == (2, ) + tuple(s.ori_shape)
        assert (b.exp() - p.softmax(0)).abs().max() > 1e-3
        torch.testing.assert_close(m, b.flip(-1), atol=1e-4, rtol=1e-3)
    cfg.model.teacher = [teachers[0], dict(teachers[0], flip=True)]
    flip_path = str(tmp_path / 'flip.py')
    cfg.dump(flip_path)
    scores = tool.main([flip_path, '--split', 'valid', '--batch-size', '3'])
    assert set(scores) == {'t0', 't0 (flip)', 'ensemble'}
