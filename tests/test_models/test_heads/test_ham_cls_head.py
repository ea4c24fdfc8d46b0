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
