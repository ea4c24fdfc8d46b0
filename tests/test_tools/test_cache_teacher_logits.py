"""tools/analysis_tools/cache_teacher_logits.py: the teacher's logits of the
training images, written once, as the live teacher computes them."""
import os.path as osp

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmseg.registry import DATASETS

from ..conftest import REPO, load_tool

CACHED = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-boxaux-distill-pkd-ls-cached-45e_'
                  'brain-tumor-320x320.py')
TEACHER = dict(
    config=osp.join(REPO, 'configs', 'ddrnet',
                    'ddrnet_23-slim_1xb8-45e_brain-tumor-320x320.py'),
    checkpoint=osp.join(REPO, 'checkpoints',
                        'ddrnet_23-slim_320_brain_tumor-112b47a8.pth'))


@pytest.fixture
def config(tmp_path, synthetic_root):
    if not osp.isfile(TEACHER['checkpoint']):
        pytest.skip('no DDRNet-23-slim checkpoint')
    cache = str(tmp_path / 'cache' / 'teacher.npz')
    cfg = Config.fromfile(CACHED)
    cfg.model.teacher = TEACHER
    cfg.train_dataloader.dataset.update(
        data_root=synthetic_root, ann_file='train/_annotations.coco.json',
        data_prefix=dict(img_path='train'))
    cfg.train_dataloader.dataset.pipeline[1].cache_file = cache
    path = str(tmp_path / 'cfg.py')
    cfg.dump(path)
    return path, cache, cfg


def _cache(cfg, tmp_path, teacher, name):
    """Write the cache of ``teacher`` for ``cfg``'s training images with
    the tool and load it."""
    cfg.model.teacher = teacher
    cache = str(tmp_path / f'{name}.npz')
    cfg.train_dataloader.dataset.pipeline[1].cache_file = cache
    path = str(tmp_path / f'{name}_cfg.py')
    cfg.dump(path)
    load_tool('analysis_tools/cache_teacher_logits.py').main(
        [path, '--batch-size', '8'])
    return np.load(cache)


def _head_input(cfg, teacher, index):
    """(preprocessed (1, 3, H, W) input of training image ``index`` after
    the pipeline's deterministic head, its file name)."""
    head = cfg.train_dataloader.dataset.pipeline[0].transforms + [
        dict(type='PackMultiTaskInputs')]
    ds = DATASETS.build(dict(cfg.train_dataloader.dataset, pipeline=head))
    data = teacher.data_preprocessor(pseudo_collate([ds[index]]), False)
    return data['inputs'], osp.basename(ds.get_data_info(index)['img_path'])


def test_cached_logits_are_the_live_teacher_s(config):
    path, cache, cfg = config
    out = load_tool('analysis_tools/cache_teacher_logits.py').main(
        [path, '--batch-size', '5'])
    assert out == cache
    z = np.load(cache)
    assert z['logits'].shape == (24, 2, 40, 40)  # 1/8 of 320
    assert z['logits'].dtype == np.float16
    assert tuple(z['input_size']) == (320, 320)
    assert str(z['teacher_checkpoint']) == TEACHER['checkpoint']
    # the live teacher on the pipeline's deterministic head, image 7
    from mtnet_plugin.apis.inference import init_model
    teacher = init_model(TEACHER['config'], TEACHER['checkpoint'])
    inputs, name = _head_input(cfg, teacher, 7)
    with torch.no_grad():
        live = teacher._forward(inputs)[0].numpy()
    row = [str(n) for n in z['names']].index(name)
    np.testing.assert_allclose(z['logits'][row].astype(np.float32), live,
                               atol=2e-2, rtol=2e-3)


def test_a_random_transform_before_the_cache_is_refused(config, tmp_path):
    path, _, cfg = config
    pipeline = cfg.train_dataloader.dataset.pipeline
    cfg.train_dataloader.dataset.pipeline = [
        pipeline[0], pipeline[2], pipeline[1]] + pipeline[3:]
    bad = str(tmp_path / 'bad.py')
    cfg.dump(bad)
    with pytest.raises(ValueError, match='RandomFlip.*before '
                       'LoadTeacherLogits'):
        load_tool('analysis_tools/cache_teacher_logits.py').main([bad])


def test_two_teachers_are_cached_as_their_ensemble(config, tmp_path):
    """DDRNet (1/8) and EfficientMTNet (1/4): the cache holds the log of
    their mean softmax at 1/4, as the live segmentor computes it."""
    from mtnet_plugin.apis.inference import init_model
    from mtnet_plugin.models.segmentors import DistillMultiTaskEncoderDecoder
    from mtnet_plugin.models.utils import ensemble_logits
    from ..conftest import MODEL_CFG
    _, _, cfg = config
    student_cfg = str(tmp_path / 'student_teacher.py')
    with open(student_cfg, 'w') as f:
        f.write(f'_base_ = [{MODEL_CFG!r}]\n')
    torch.manual_seed(3)
    second = init_model(student_cfg)
    for p in second.parameters():  # weights less trivial than the init
        p.data.add_(0.05 * torch.randn_like(p))
    ckpt = str(tmp_path / 'student_teacher.pth')
    torch.save(dict(state_dict=second.state_dict(), meta={}), ckpt)
    z = _cache(cfg, tmp_path,
               [TEACHER, dict(config=student_cfg, checkpoint=ckpt)], 'ens')
    assert z['logits'].shape == (24, 2, 80, 80)  # the finer teacher's 1/4
    assert str(z['teacher_checkpoint']) == f'{TEACHER["checkpoint"]} + {ckpt}'
    teachers = [init_model(TEACHER['config'], TEACHER['checkpoint']),
                init_model(student_cfg, ckpt)]
    inputs, name = _head_input(cfg, teachers[0], 3)
    with torch.no_grad():
        each = [t._forward(inputs) for t in teachers]
    each = [e[0] if isinstance(e, (tuple, list)) else e for e in each]
    live = ensemble_logits(each)[0].numpy()
    assert np.allclose(live, DistillMultiTaskEncoderDecoder.run_teachers(
        teachers, inputs)[0].numpy())
    row = [str(n) for n in z['names']].index(name)
    cached = z['logits'][row].astype(np.float32)
    np.testing.assert_allclose(np.exp(cached), np.exp(live), atol=5e-3)


def test_a_flip_teacher_is_cached_as_the_image_and_its_mirror(config,
                                                              tmp_path):
    """``flip=True``: the cache holds the log of the mean softmax of each
    image and its mirror, and says so in its teacher_config."""
    from mtnet_plugin.apis.inference import init_model
    from mtnet_plugin.models.utils import ensemble_logits
    _, _, cfg = config
    z = _cache(cfg, tmp_path, dict(TEACHER, flip=True), 'flip')
    assert str(z['teacher_config']) == TEACHER['config'] + ' (flip)'
    teacher = init_model(TEACHER['config'], TEACHER['checkpoint'])
    inputs, name = _head_input(cfg, teacher, 5)
    with torch.no_grad():  # DDRNet in eval mode: (N, C, h, w) logits
        plain = teacher._forward(inputs)
        mirror = teacher._forward(inputs.flip(-1)).flip(-1)
    live = ensemble_logits([plain, mirror])[0].numpy()
    row = [str(n) for n in z['names']].index(name)
    cached = z['logits'][row].astype(np.float32)
    np.testing.assert_allclose(np.exp(cached), np.exp(live), atol=5e-3)
    assert np.abs(np.exp(cached) - torch.softmax(plain[0], 0).numpy()
                  ).max() > 1e-2
