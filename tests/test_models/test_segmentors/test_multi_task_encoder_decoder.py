import copy

import pytest
import torch
from mmengine.structures import PixelData
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


def _samples(n, h, w):
    samples = []
    for i in range(n):
        s = SegDataSample(
            metainfo=dict(
                img_shape=(h, w), ori_shape=(h, w), pad_shape=(h, w),
                padding_size=[0, 0, 0, 0]))
        seg = torch.zeros(1, h, w, dtype=torch.long)
        seg[:, h // 4:h // 2, w // 4:w // 2] = 1
        s.gt_sem_seg = PixelData(data=seg)
        s.set_field(torch.tensor([i % 2]), 'gt_label')
        samples.append(s)
    return samples


def _build(model_cfg):
    model_cfg = copy.deepcopy(model_cfg)
    model_cfg.pop('data_preprocessor')
    model = MODELS.build(model_cfg)
    model.init_weights()
    return model


@pytest.mark.parametrize('shape', [(640, 640), (384, 512)])
def test_tensor_mode_shapes(model_cfg, shape):
    model = _build(model_cfg).eval()
    h, w = shape
    with torch.no_grad():
        seg, cls = model(torch.randn(1, 3, h, w), mode='tensor')
    # decode head output at 1/4 (1/8 map, one x2 upsampling stage)
    assert tuple(seg.shape) == (1, 2, h // 4, w // 4)
    assert tuple(cls.shape) == (1, 2)


@pytest.mark.parametrize('shape', [(640, 640), (384, 512)])
def test_predict_fields(model_cfg, shape):
    model = _build(model_cfg).eval()
    h, w = shape
    with torch.no_grad():
        results = model(torch.randn(2, 3, h, w), _samples(2, h, w),
                        mode='predict')
    assert len(results) == 2
    for r in results:
        assert tuple(r.pred_sem_seg.data.shape) == (1, h, w)
        assert tuple(r.seg_logits.data.shape) == (2, h, w)
        assert tuple(r.pred_score.shape) == (2, )
        assert torch.isclose(r.pred_score.sum(), torch.tensor(1.0))
        assert r.pred_label.item() == int(r.pred_score.argmax())
    # without data samples too
    with torch.no_grad():
        results = model.predict(torch.randn(1, 3, h, w))
    assert tuple(results[0].pred_sem_seg.data.shape) == (1, h, w)


def test_loss_terms_and_total(model_cfg):
    model = _build(model_cfg).train()
    inputs, samples = torch.randn(2, 3, 128, 128), _samples(2, 128, 128)
    losses = model(inputs, samples, mode='loss')
    expected_terms = {
        'decode.loss_focal', 'decode.loss_dice', 'aux_0.loss_ce',
        'aux_1.loss_ce', 'cls.loss_cls'
    }
    assert expected_terms <= set(losses)
    total, log_vars = model.parse_losses(losses)
    assert torch.isclose(total, sum(losses[k] for k in expected_terms))
    assert torch.isclose(
        torch.as_tensor(log_vars['loss']), total.detach(), atol=1e-5)


# The design's weights: segmentation 0.6 (focal 0.3 + Dice 0.3),
# classification 0.4, auxiliary 0.4 (0.2 per head).
DESIGN_WEIGHTS = {
    'decode.loss_focal': 0.3,
    'decode.loss_dice': 0.3,
    'aux_0.loss_ce': 0.2,
    'aux_1.loss_ce': 0.2,
    'cls.loss_cls': 0.4,
}


def test_each_term_is_scaled_by_the_design_weight(model_cfg):
    """The default model's loss terms equal the design weights times the
    same terms of an identical model whose loss weights are all 1."""
    weighted = _build(model_cfg)
    unit_cfg = copy.deepcopy(model_cfg)
    for loss in unit_cfg.decode_head.loss_decode:
        loss.loss_weight = 1.0
    for head in unit_cfg.auxiliary_head:
        head.loss_decode.loss_weight = 1.0
    unit_cfg.cls_head.loss.loss_weight = 1.0
    unit = _build(unit_cfg)
    unit.load_state_dict(weighted.state_dict())
    inputs, samples = torch.randn(2, 3, 96, 96), _samples(2, 96, 96)
    # eval: no dropout, fixed NMF bases, so both see the same function
    weighted.eval()
    unit.eval()
    with torch.no_grad():
        a = weighted.loss(inputs, samples)
        b = unit.loss(inputs, samples)
    for key, w in DESIGN_WEIGHTS.items():
        assert b[key] > 0, key
        assert torch.isclose(a[key], w * b[key], rtol=1e-4), key


def test_gradients_reach_every_trained_parameter(model_cfg):
    model = _build(model_cfg).train()
    losses = model(
        torch.randn(2, 3, 96, 96), _samples(2, 96, 96), mode='loss')
    total, _ = model.parse_losses(losses)
    total.backward()
    missing = [
        n for n, p in model.named_parameters()
        if p.requires_grad and (p.grad is None or p.grad.abs().sum() == 0)
    ]
    assert missing == []


def test_aux_heads_in_training_only(model_cfg):
    model = _build(model_cfg)
    calls = []
    for head in model.auxiliary_head:
        # heads call self.forward() directly, so wrap the bound method
        def counted(inputs, _forward=head.forward):
            calls.append(1)
            return _forward(inputs)

        head.forward = counted
    model.train()
    model(torch.randn(1, 3, 64, 64), _samples(1, 64, 64), mode='loss')
    assert len(calls) == 2
    calls.clear()
    model.eval()
    with torch.no_grad():
        model(torch.randn(1, 3, 64, 64), _samples(1, 64, 64), mode='predict')
        model(torch.randn(1, 3, 64, 64), mode='tensor')
    assert calls == []


def test_eval_is_bit_identical(model_cfg):
    model = _build(model_cfg).eval()
    x = torch.randn(1, 3, 256, 256)
    with torch.no_grad():
        a = model(x, mode='tensor')
        b = model(x, mode='tensor')
        r1 = model.predict(x)[0]
        r2 = model.predict(x)[0]
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    assert torch.equal(r1.seg_logits.data, r2.seg_logits.data)
    assert torch.equal(r1.pred_score, r2.pred_score)
    # ... and survives a save/load into a fresh model (bases are saved)
    other = _build(model_cfg).eval()
    other.load_state_dict(model.state_dict())
    with torch.no_grad():
        c = other(x, mode='tensor')
    assert torch.equal(a[0], c[0]) and torch.equal(a[1], c[1])


def test_channels_last_gives_the_same_outputs(model_cfg):
    """channels_last changes the memory layout only."""
    nchw = _build(model_cfg).eval()
    cl_cfg = copy.deepcopy(model_cfg)
    cl_cfg.channels_last = True
    nhwc = _build(cl_cfg).eval()
    nhwc.load_state_dict(nchw.state_dict())
    conv = next(m for m in nhwc.modules() if isinstance(m, torch.nn.Conv2d))
    assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    x = torch.randn(2, 3, 96, 128)
    with torch.no_grad():
        a, b = nchw(x, mode='tensor'), nhwc(x, mode='tensor')
    assert torch.allclose(a[0], b[0], atol=1e-4)
    assert torch.allclose(a[1], b[1], atol=1e-4)


def test_parameter_budget(model_cfg):
    model = _build(model_cfg)
    total = sum(p.numel() for p in model.parameters())
    aux = sum(p.numel() for p in model.auxiliary_head.parameters())
    assert total - aux <= 1.5e6


def test_postprocess_equals_mmseg_on_nchw_logits(model_cfg):
    """The channels-last post-processing changes memory layout only: the
    same masks and logits as mmseg's on NCHW, with padding cropped and a
    resize to another original size, ties included."""
    from mmseg.models.segmentors import EncoderDecoder
    model = _build(model_cfg).eval()
    torch.manual_seed(0)
    logits = torch.randn(2, 2, 64, 96)
    logits[:, 1, :8] = logits[:, 0, :8]  # ties: argmax takes class 0
    samples = []
    for ori, pad in (((50, 70), [0, 26, 0, 14]), ((120, 200), [0, 0, 0, 0])):
        samples.append(SegDataSample(metainfo=dict(
            img_shape=(64 - pad[3], 96 - pad[1]), ori_shape=ori,
            pad_shape=(64, 96), padding_size=pad)))
    ours = model.postprocess_result(logits.clone(), copy.deepcopy(samples))
    ref = EncoderDecoder.postprocess_result(model, logits.clone(),
                                            copy.deepcopy(samples))
    for a, b, s in zip(ours, ref, samples):
        assert a.pred_sem_seg.data.shape == (1, *s.ori_shape)
        assert torch.equal(a.pred_sem_seg.data, b.pred_sem_seg.data)
        assert torch.allclose(a.seg_logits.data, b.seg_logits.data)
    assert ours[0].pred_sem_seg.data.float().mean() not in (0.0, 1.0)


def test_temperature_divides_class_logits_everywhere(model_cfg, tmp_path):
    """classify() = head / T in predict and _forward (what every backend
    and the ONNX export run); the predicted class does not change; an old
    checkpoint without the buffer loads strictly with the configured T."""
    from mmengine.runner.checkpoint import load_state_dict
    model = _build(model_cfg).eval()
    x = torch.randn(2, 3, 128, 128)
    with torch.no_grad():
        _, raw = model(x, mode='tensor')
        model.cls_temperature.fill_(2.5)
        _, cal = model(x, mode='tensor')
        preds = model.predict(x, _samples(2, 128, 128))
    torch.testing.assert_close(cal, raw / 2.5)
    for p, logits, r in zip(preds, cal, raw):
        torch.testing.assert_close(p.pred_score, logits.softmax(0))
        assert p.pred_label.item() == r.argmax().item()
    assert (cal.argmax(1) == raw.argmax(1)).all()
    state = {k: v for k, v in model.state_dict().items()
             if k != 'cls_temperature'}
    fresh = _build(model_cfg)
    load_state_dict(fresh, state, strict=True)  # no missing-key error
    assert float(fresh.cls_temperature) == 1.0
    load_state_dict(fresh, model.state_dict(), strict=True)
    assert float(fresh.cls_temperature) == 2.5
    with pytest.raises(ValueError, match='cls_temperature'):
        MODELS.build(dict(copy.deepcopy(model_cfg), cls_temperature=0))


def _lesion_pooled(model_cfg):
    cfg = copy.deepcopy(model_cfg)
    cfg.cls_head.update(lesion_in_index=(4, ), lesion_in_channels=(128, ))
    return _build(cfg)


def test_lesion_pooled_class_head_reads_the_decode_heads_mask(model_cfg):
    """The class head gets 1 - P(background) of the decode head's own
    logits, the same in _forward, predict and classify() alone."""
    torch.manual_seed(0)
    model = _lesion_pooled(model_cfg).eval()
    assert model.cls_pools_lesion and not _build(model_cfg).cls_pools_lesion
    x = torch.randn(2, 3, 128, 128)
    calls = []
    head_forward = model.cls_head.forward

    def spy(feats, lesion_prob=None):
        calls.append(lesion_prob)
        return head_forward(feats, lesion_prob)

    model.cls_head.forward = spy
    with torch.no_grad():
        feats = model.extract_feat(x)
        seg = model.decode_head.forward(feats)
        seg_out, cls_out = model(x, mode='tensor')
        preds = model.predict(x, _samples(2, 128, 128))
        alone = model.classify(feats)
    torch.testing.assert_close(seg_out, seg)
    expected = 1 - seg.softmax(dim=1)[:, :1]
    assert len(calls) == 3
    for prob in calls:
        assert prob.shape == (2, 1) + seg.shape[2:]
        torch.testing.assert_close(prob, expected)
    torch.testing.assert_close(alone, cls_out)
    for p, logits in zip(preds, cls_out):
        torch.testing.assert_close(p.pred_score, logits.softmax(0))
    # a certain lesion in one corner or in another: other class logits
    # (features of unit scale: an untrained network's are ~1e-4)
    feats = tuple(f / f.abs().mean() for f in feats)
    corner = torch.zeros_like(seg)
    corner[:, 1, :6, :6] = 20.0
    other = corner.flip(-1, -2)
    with torch.no_grad():
        a, b = model.classify(feats, corner), model.classify(feats, other)
    assert not torch.allclose(a, b, atol=1e-3)


def test_lesion_pooled_class_loss_does_not_train_the_mask(model_cfg):
    cfg = copy.deepcopy(model_cfg)
    cfg.cls_head.update(lesion_in_index=(4, ), lesion_in_channels=(128, ))
    cfg.auxiliary_head = None
    model = _build(cfg).train()
    losses = model(
        torch.randn(2, 3, 96, 96), _samples(2, 96, 96), mode='loss')
    assert set(losses) >= {'decode.loss_focal', 'decode.loss_dice',
                           'cls.loss_cls'}
    losses['cls.loss_cls'].backward()
    decode_grads = [p.grad for p in model.decode_head.parameters()]
    assert all(g is None or g.abs().sum() == 0 for g in decode_grads)
    fc = model.cls_head.layers[0].fc.weight.grad
    assert fc is not None and fc.abs().sum() > 0
    # the backbone still learns from the class loss through the features
    assert any(p.grad is not None and p.grad.abs().sum() > 0
               for p in model.backbone.parameters())
