import pytest
import torch
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample


def _head(**kw):
    cfg = dict(
        type='HamClsHead', num_classes=2, in_channels=128, in_index=-1,
        ham_kwargs=dict(MD_R=8),
        loss=dict(type='mmpretrain.CrossEntropyLoss', loss_weight=0.4))
    cfg.update(kw)
    return MODELS.build(cfg)


def test_logits_shape_and_fc_layout():
    head = _head().eval()
    feats = (torch.randn(3, 64, 8, 8), torch.randn(3, 128, 5, 7))
    assert tuple(head(feats).shape) == (3, 2)
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features)
            for m in linears] == [(128, 64), (64, 2)]
    assert any(isinstance(m, torch.nn.Dropout) for m in head.modules())


def test_squeeze_when_widths_differ():
    head = _head(in_channels=96, ham_channels=64, mid_channels=(32, ))
    assert head.squeeze is not None
    assert tuple(head((torch.randn(2, 96, 4, 4), )).shape) == (2, 2)


def test_loss_reads_gt_label_from_seg_data_samples():
    head = _head()
    # the loss module is mmpretrain's, not mmseg's namesake
    assert type(head.loss_module).__module__.startswith('mmpretrain')
    samples = []
    for label in (0, 1, 1):
        s = SegDataSample()
        s.set_field(torch.tensor([label]), 'gt_label')
        samples.append(s)
    feats = (torch.randn(3, 128, 4, 4), )
    head.eval()  # fixed NMF bases, no dropout: loss() is recomputable
    losses = head.loss(feats, samples)
    assert set(losses) == {'loss'}
    logits = head(feats)
    ce = torch.nn.functional.cross_entropy
    expected = 0.4 * ce(logits, torch.tensor([0, 1, 1]))
    assert torch.isclose(losses['loss'], expected)
    # the labels are read from the samples: other labels, other loss
    for s, label in zip(samples, (1, 0, 0)):
        s.set_field(torch.tensor([label]), 'gt_label')
    assert torch.isclose(
        head.loss(feats, samples)['loss'],
        0.4 * ce(logits, torch.tensor([1, 0, 0])))


def _two_level_head():
    return _head(extra_in_index=(0, ), extra_in_channels=(16, )).eval()


def test_extra_levels_widen_the_first_fc_only():
    head = _two_level_head()
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features)
            for m in linears] == [(128 + 16, 64), (64, 2)]
    # one 1x1 scoring conv per extra map: 16 weights and a bias
    assert sum(p.numel() for p in head.attn_scores.parameters()) == 17
    feats = (torch.randn(3, 16, 10, 10), torch.randn(3, 128, 5, 5))
    assert tuple(head(feats).shape) == (3, 2)


def test_extra_index_and_channels_must_pair():
    with pytest.raises(AssertionError, match='one entry per map'):
        _head(extra_in_index=(0, 1), extra_in_channels=(16, ))


def test_attention_pooling_follows_the_scores():
    torch.manual_seed(0)
    head = _two_level_head()
    deep = torch.randn(2, 128, 5, 5)
    extra = torch.randn(2, 16, 10, 10)
    score = head.attn_scores[0]
    # equal scores: the plain spatial average
    torch.nn.init.zeros_(score.weight)
    mean_map = extra.mean(dim=(2, 3), keepdim=True).expand_as(extra)
    assert torch.allclose(head((extra, deep)), head((mean_map, deep)),
                          atol=1e-5)
    assert not torch.allclose(head((extra, deep)),
                              head((torch.zeros_like(extra), deep)),
                              atol=1e-3)
    # one position scored far above the rest: that position's features,
    # however large the rest of the map
    with torch.no_grad():
        score.weight[0, 0] = 100.0
    extra[:, 0] = 0.0
    extra[:, 0, 3, 7] = 1.0
    spot = extra[:, :, 3:4, 7:8].expand_as(extra)
    assert torch.allclose(head((extra, deep)), head((spot, deep)), atol=1e-4)


def _lesion_head():
    return _head(lesion_in_index=(0, ), lesion_in_channels=(16, )).eval()


def test_lesion_pooling_widens_the_first_fc_and_adds_no_parameter():
    plain, head = _head(), _lesion_head()
    assert head.pools_lesion and not plain.pools_lesion
    linears = [m for m in head.modules() if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features)
            for m in linears] == [(128 + 16, 64), (64, 2)]
    extra = 16 * 64  # the first FC's new inputs
    assert sum(p.numel() for p in head.parameters()) == sum(
        p.numel() for p in plain.parameters()) + extra


def test_lesion_pooling_needs_the_probability():
    head = _lesion_head()
    feats = (torch.randn(2, 16, 8, 8), torch.randn(2, 128, 4, 4))
    with pytest.raises(ValueError, match='lesion_prob'):
        head(feats)
    assert tuple(head(feats, torch.rand(2, 1, 16, 16)).shape) == (2, 2)
    with pytest.raises(AssertionError, match='one entry per map'):
        _head(lesion_in_index=(0, 1), lesion_in_channels=(16, ))


def test_lesion_pool_reads_the_lesion_and_falls_back_to_the_average():
    torch.manual_seed(0)
    y = torch.randn(2, 16, 8, 8)
    pool = _lesion_head().lesion_pool
    # no lesion anywhere: the global average
    none = torch.zeros(2, 1, 8, 8)
    assert torch.allclose(pool(y, none), y.mean(dim=(2, 3)), atol=1e-6)
    # a certain lesion of n pixels: its features, pulled towards the
    # global average by one pixel's weight in n + 1
    prob = torch.zeros(2, 1, 8, 8)
    prob[:, :, 2:5, 3:6] = 1.0  # 9 pixels
    inside = y[:, :, 2:5, 3:6].mean(dim=(2, 3))
    expected = (9 * inside + y.mean(dim=(2, 3))) / 10
    assert torch.allclose(pool(y, prob), expected, atol=1e-5)
    # the probability is resized to the map: a 2x finer mask of the same
    # region gives the same average
    fine = torch.zeros(2, 1, 16, 16)
    fine[:, :, 4:10, 6:12] = 1.0
    assert torch.allclose(pool(y, fine), expected, atol=1e-5)
    # features outside the lesion do not matter as long as the average
    # does not change: move mass between two outside pixels
    y2 = y.clone()
    y2[:, :, 0, 0] += 5.0
    y2[:, :, 7, 7] -= 5.0
    assert torch.allclose(pool(y2, prob), pool(y, prob), atol=1e-5)


def test_lesion_pooled_logits_follow_the_lesion():
    torch.manual_seed(0)
    head = _lesion_head()
    deep = torch.randn(2, 128, 4, 4)
    y = torch.randn(2, 16, 8, 8)
    prob = torch.zeros(2, 1, 8, 8)
    prob[:, :, 1:3, 1:3] = 1.0
    base = head((y, deep), prob)
    y_out = y.clone()
    y_out[:, :, 5:, 5:] = y_out[:, :, 5:, 5:].flip(-1)  # same average
    assert torch.allclose(head((y_out, deep), prob), base, atol=1e-5)
    y_in = y.clone()
    y_in[:, :, 1:3, 1:3] += 3.0
    assert not torch.allclose(head((y_in, deep), prob), base, atol=1e-3)


def test_lesion_pooled_loss_passes_the_probability():
    head = _lesion_head()
    samples = []
    for label in (0, 1):
        s = SegDataSample()
        s.set_field(torch.tensor([label]), 'gt_label')
        samples.append(s)
    feats = (torch.randn(2, 16, 8, 8), torch.randn(2, 128, 4, 4))
    prob = torch.rand(2, 1, 8, 8)
    loss = head.loss(feats, samples, lesion_prob=prob)['loss']
    ce = torch.nn.functional.cross_entropy
    assert torch.isclose(
        loss, 0.4 * ce(head(feats, prob), torch.tensor([0, 1])))
    with pytest.raises(ValueError, match='lesion_prob'):
        head.loss(feats, samples)
