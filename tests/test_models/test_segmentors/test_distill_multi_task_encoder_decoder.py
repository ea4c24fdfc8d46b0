import copy

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from ...conftest import MODEL_CFG
from .test_multi_task_encoder_decoder import _samples


@pytest.fixture
def teacher_files(tmp_path):
    """A teacher config (EfficientMTNet's model base) and weights saved from
    it, as a training run would leave them."""
    from mtnet_plugin.apis.inference import init_model
    cfg_path = tmp_path / 'teacher.py'
    cfg_path.write_text(f'_base_ = [{MODEL_CFG!r}]\n')
    torch.manual_seed(1)
    teacher = init_model(str(cfg_path))
    ckpt = tmp_path / 'teacher.pth'
    torch.save(dict(state_dict=teacher.state_dict(), meta={}), ckpt)
    return str(cfg_path), str(ckpt)


def _student(model_cfg, teacher, **kwargs):
    cfg = copy.deepcopy(model_cfg)
    cfg.update(type='DistillMultiTaskEncoderDecoder', teacher=teacher,
               **kwargs)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def test_loss_adds_the_distillation_term_and_trains_only_the_student(
        model_cfg, teacher_files):
    config, ckpt = teacher_files
    model = _student(model_cfg, dict(config=config, checkpoint=ckpt))
    assert model.teacher is None  # built on the first training step
    inputs = torch.randn(2, 3, 64, 64)
    losses = model.loss(inputs, _samples(2, 64, 64))
    assert 'distill.loss_pkd' in losses
    assert {k for k in losses if k.startswith('decode.')} >= {
        'decode.loss_focal', 'decode.loss_dice'}
    assert 'cls.loss_cls' in losses
    kd = losses['distill.loss_pkd']
    assert torch.isfinite(kd) and kd.item() > 0
    kd.backward()
    head_grads = [p.grad for p in model.decode_head.parameters()]
    assert any(g is not None and g.abs().sum() > 0 for g in head_grads)
    teacher = model.teacher
    assert teacher is not None and not teacher.training
    assert all(p.grad is None and not p.requires_grad
               for p in teacher.parameters())
    # the teacher is not part of the student: not saved, not optimized
    n_teacher = len(teacher.state_dict())
    assert not any(k.startswith('_teacher') or 'teacher' in k
                   for k in model.state_dict())
    assert len(list(model.parameters())) == len(
        list(_student(model_cfg, dict(config=config,
                                      checkpoint=ckpt)).parameters()))
    assert n_teacher > 0


def test_distillation_term_is_the_loss_of_the_teachers_logits(
        model_cfg, teacher_files):
    """The term equals distill_loss(student logits, teacher logits) computed
    by hand from the same batch, student in train mode."""
    config, ckpt = teacher_files
    model = _student(model_cfg, dict(config=config, checkpoint=ckpt))
    inputs = torch.randn(2, 3, 64, 64)
    t_logits = model.teacher_logits(inputs)
    torch.manual_seed(0)
    losses = model.loss(inputs, _samples(2, 64, 64))
    torch.manual_seed(0)  # the NMF of training mode draws its bases
    s_logits = model.decode_head.forward(model.extract_feat(inputs))
    expected = model.distill_loss(s_logits, t_logits)
    assert losses['distill.loss_pkd'].item() == pytest.approx(
        expected.item(), rel=1e-4)
    # teacher logits are the teacher's own eval output at 1/4 of the input
    assert tuple(t_logits.shape) == (2, 2, 16, 16)


def test_teacher_correct_only_reads_the_batch_labels(model_cfg,
                                                    teacher_files):
    """With ``teacher_correct_only`` the segmentor hands the loss the
    batch's labels: the term is the masked loss computed by hand, and not
    the unmasked one."""
    config, ckpt = teacher_files
    model = _student(
        model_cfg, dict(config=config, checkpoint=ckpt),
        distill_loss=dict(type='PixelKLDivergence', teacher_correct_only=True))
    inputs = torch.randn(2, 3, 64, 64)
    samples = _samples(2, 64, 64)
    t_logits = model.teacher_logits(inputs)
    torch.manual_seed(0)
    losses = model.loss(inputs, samples)
    torch.manual_seed(0)
    s_logits = model.decode_head.forward(model.extract_feat(inputs))
    labels = torch.stack([s.gt_sem_seg.data for s in samples])
    expected = model.distill_loss(s_logits, t_logits, seg_label=labels)
    assert losses['distill.loss_pkd'].item() == pytest.approx(
        expected.item(), rel=1e-4)
    unmasked = MODELS.build(dict(type='PixelKLDivergence'))(s_logits,
                                                              t_logits)
    assert expected.item() != pytest.approx(unmasked.item(), rel=1e-3)


def test_inference_never_reads_the_teacher(model_cfg, tmp_path):
    missing = dict(config=str(tmp_path / 'none.py'),
                   checkpoint=str(tmp_path / 'none.pth'))
    model = _student(model_cfg, missing).eval()
    with torch.no_grad():
        seg, cls = model(torch.randn(1, 3, 64, 64), mode='tensor')
        model.predict(torch.randn(1, 3, 64, 64))
    assert seg.shape[1] == 2 and cls.shape == (1, 2)
    assert model.teacher is None


def test_cached_teacher_logits_replace_the_teacher(model_cfg, teacher_files,
                                                  tmp_path):
    """Samples that carry ``teacher_logits`` (LoadTeacherLogits) give the
    term from those, and the teacher (here: files that do not exist) is
    never built; the term equals the live teacher's when the cached logits
    are its logits."""
    from mmengine.structures import PixelData
    config, ckpt = teacher_files
    live = _student(model_cfg, dict(config=config, checkpoint=ckpt))
    inputs = torch.randn(2, 3, 64, 64)
    t_logits = live.teacher_logits(inputs)
    missing = dict(config=str(tmp_path / 'none.py'),
                   checkpoint=str(tmp_path / 'none.pth'))
    cached = _student(model_cfg, missing)
    cached.load_state_dict(live.state_dict())
    samples = _samples(2, 64, 64)
    for sample, logits in zip(samples, t_logits):
        # at the image's size, as the pipeline gives them
        sample.teacher_logits = PixelData(data=torch.nn.functional.interpolate(
            logits[None], size=(64, 64), mode='bilinear')[0].half())
    torch.manual_seed(0)
    got = cached.loss(inputs, samples)['distill.loss_pkd']
    assert cached.teacher is None
    torch.manual_seed(0)
    want = live.loss(inputs, _samples(2, 64, 64))['distill.loss_pkd']
    assert got.item() == pytest.approx(want.item(), rel=0.05)
    # other cached logits, another term: the cache is what is read
    for sample in samples:
        sample.teacher_logits = PixelData(
            data=torch.zeros_like(sample.teacher_logits.data))
    torch.manual_seed(0)
    other = cached.loss(inputs, samples)['distill.loss_pkd']
    assert abs(other.item() - got.item()) > 0.05 * got.item()
    del samples[1].teacher_logits
    with pytest.raises(ValueError, match='1 of 2 samples'):
        cached.loss(inputs, samples)


def test_teacher_with_other_normalization_is_refused(model_cfg,
                                                     teacher_files, tmp_path):
    config, ckpt = teacher_files
    other = tmp_path / 'teacher_other_norm.py'
    other.write_text(f'_base_ = [{config!r}]\n'
                     'model = dict(data_preprocessor=dict(mean=[0, 0, 0], '
                     'std=[1, 1, 1]))\n')
    model = _student(model_cfg, dict(config=str(other), checkpoint=ckpt))
    with pytest.raises(ValueError, match='teacher_other_norm.py.*mean'):
        model.loss(torch.randn(1, 3, 64, 64), _samples(1, 64, 64))


def test_teacher_needs_config_and_checkpoint(model_cfg):
    with pytest.raises(ValueError, match='checkpoint'):
        _student(model_cfg, dict(config='x.py'))


def test_the_shipped_distillation_configs_build(tmp_path):
    """Every distillation config builds its student without the teacher
    (which a test run of the student never needs)."""
    import glob
    import os.path as osp
    from ...conftest import REPO
    paths = glob.glob(osp.join(REPO, 'configs', '*', '*distill*.py'))
    assert paths
    for path in paths:
        cfg = Config.fromfile(path)
        assert cfg.model.type == 'DistillMultiTaskEncoderDecoder'
        teachers = cfg.model.teacher
        if not isinstance(teachers, (list, tuple)):
            teachers = [teachers]
        for teacher in teachers:
            for key in ('config', 'checkpoint'):
                assert osp.isfile(osp.join(REPO, teacher[key])), (path, key)
        model = MODELS.build(cfg.model)
        assert model.teacher is None
        assert len(model.teacher_cfgs) == len(teachers)


def test_runner_with_ema_trains_and_saves_the_student_alone(
        model_cfg, teacher_files, tmp_path):
    """Through mmengine's Runner with EMA: the term is logged, the
    checkpoint holds the student (and its EMA copy) only, and it loads
    strictly into the plain multi-task model for inference."""
    from .test_runner_training import build_runner
    config, ckpt = teacher_files
    cfg = copy.deepcopy(model_cfg)
    cfg.update(type='DistillMultiTaskEncoderDecoder',
               teacher=dict(config=config, checkpoint=ckpt))
    runner = build_runner(cfg, tmp_path / 'work', 2,
                          custom_hooks=[dict(type='EMAHook', momentum=0.01)])
    runner.train()
    assert 'train/distill.loss_pkd' in runner.message_hub.log_scalars
    saved = torch.load(tmp_path / 'work' / 'iter_2.pth', map_location='cpu',
                       weights_only=False)
    keys = set(saved['state_dict'])
    plain = copy.deepcopy(model_cfg)
    plain.pop('data_preprocessor')
    student = MODELS.build(plain)
    assert keys == set(student.state_dict())
    assert {k[len('module.'):] for k in saved['ema_state_dict']
            if k.startswith('module.')} == keys
    student.load_state_dict(saved['state_dict'], strict=True)


def test_two_teachers_are_one_ensemble(model_cfg, teacher_files, tmp_path):
    """A list of teachers: each built frozen, the targets the log of their
    mean softmax; each entry is checked for its files' keys."""
    from mtnet_plugin.apis.inference import init_model
    from mtnet_plugin.models.utils import ensemble_logits
    config, ckpt = teacher_files
    torch.manual_seed(2)
    other = init_model(config)
    ckpt2 = str(tmp_path / 'teacher2.pth')
    torch.save(dict(state_dict=other.state_dict(), meta={}), ckpt2)
    model = _student(model_cfg, [dict(config=config, checkpoint=ckpt),
                                 dict(config=config, checkpoint=ckpt2)])
    assert model.teachers is None
    inputs = torch.randn(2, 3, 64, 64)
    t_logits = model.teacher_logits(inputs)
    assert len(model.teachers) == 2 and model.teacher is model.teachers[0]
    assert all(not t.training for t in model.teachers)
    with torch.no_grad():
        each = [t._forward(inputs)[0] for t in model.teachers]
    assert not torch.allclose(each[0], each[1])
    torch.testing.assert_close(t_logits, ensemble_logits(each))
    losses = model.loss(inputs, _samples(2, 64, 64))
    assert losses['distill.loss_pkd'] > 0
    with pytest.raises(ValueError, match='checkpoint'):
        _student(model_cfg, [dict(config=config, checkpoint=ckpt),
                             dict(config=config)])


def test_flip_teacher_is_the_mean_of_the_image_and_its_mirror(
        model_cfg, teacher_files):
    """``flip=True``: the teacher's targets are the log of the mean softmax
    of the image and of its mirror (mirrored back), which differs from the
    image alone and is itself mirror-symmetric; other keys are refused."""
    from mtnet_plugin.models.utils import ensemble_logits
    config, ckpt = teacher_files
    model = _student(model_cfg, dict(config=config, checkpoint=ckpt,
                                     flip=True))
    assert model.teacher_cfgs[0]['flip'] is True
    torch.manual_seed(4)
    for p in model.build_teachers(torch.device('cpu'))[0].parameters():
        p.data.add_(0.2 * torch.randn_like(p))  # not mirror-symmetric
    inputs = torch.randn(2, 3, 64, 64)
    t_logits = model.teacher_logits(inputs)
    with torch.no_grad():
        plain = model.teacher._forward(inputs)[0]
        mirror = model.teacher._forward(inputs.flip(-1))[0].flip(-1)
    assert not torch.allclose(plain.softmax(1), t_logits.exp(), atol=1e-3)
    torch.testing.assert_close(t_logits, ensemble_logits([plain, mirror]))
    # a mirrored image gets the mirrored targets
    torch.testing.assert_close(model.teacher_logits(inputs.flip(-1)),
                               t_logits.flip(-1), atol=1e-5, rtol=1e-4)
    unflipped = _student(model_cfg, dict(config=config, checkpoint=ckpt))
    assert unflipped.teacher_cfgs[0]['flip'] is False
    unflipped.__dict__['_teachers'] = model.teachers
    torch.testing.assert_close(unflipped.teacher_logits(inputs), plain)
    with pytest.raises(ValueError, match=r"unknown \['flips'\]"):
        _student(model_cfg, dict(config=config, checkpoint=ckpt, flips=True))
    with pytest.raises(ValueError, match='True or False'):
        _student(model_cfg, dict(config=config, checkpoint=ckpt, flip=1))
