import pytest
import torch
from mmengine.structures import PixelData
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.losses import accuracy
from mmseg.registry import MODELS
from mmseg.structures import SegDataSample

from mtnet_plugin.models.decode_heads import SegAccuracyMixin


def _samples(labels):
    out = []
    for lab in labels:
        s = SegDataSample()
        s.gt_sem_seg = PixelData(data=lab[None])
        out.append(s)
    return out


def _labels(n=2, h=24, w=20):
    gen = torch.Generator().manual_seed(0)
    lab = torch.randint(0, 2, (n, h, w), generator=gen)
    lab[:, :3] = 255  # ignored rows
    return lab


def test_pixel_accuracy_equals_mmseg_accuracy_with_ignored_pixels():
    logits = torch.randn(2, 3, 24, 20)
    lab = _labels()
    lab[0, 5, :] = 2
    ours = SegAccuracyMixin.pixel_accuracy(logits, lab, 255)
    theirs = accuracy(logits, lab, ignore_index=255)
    assert torch.allclose(ours, theirs, atol=1e-4)
    # ignored pixels do not count: flipping their prediction changes nothing
    flipped = logits.clone()
    flipped[:, :, :3] = -flipped[:, :, :3]
    assert torch.equal(ours,
                       SegAccuracyMixin.pixel_accuracy(flipped, lab, 255))


@pytest.mark.parametrize('head_type,extra', [
    ('ProgressiveLightHamHead',
     dict(in_channels=[32], in_index=[-1], ham_channels=32,
          ham_kwargs=dict(MD_R=4), up_channels=(16, ))),
    ('FCNAuxHead', dict(in_channels=32, in_index=-1, num_convs=1)),
])
def test_losses_and_acc_equal_mmseg_loss_by_feat(head_type, extra):
    """Our loss_by_feat gives mmseg's losses and acc_seg, without the
    topk/boolean indexing; 'none' drops only acc_seg."""
    cfg = dict(type=head_type, channels=16, num_classes=2,
               loss_decode=[
                   dict(type='SoftmaxFocalLoss', loss_weight=0.3),
                   dict(type='TumorDiceLoss', loss_weight=0.3),
               ], **extra)
    head = MODELS.build(cfg)
    logits = torch.randn(2, 2, 6, 5)
    samples = _samples(_labels())
    ours = head.loss_by_feat(logits, samples)
    theirs = BaseDecodeHead.loss_by_feat(head, logits, samples)
    assert set(ours) == set(theirs) == {'loss_focal', 'loss_dice', 'acc_seg'}
    for k in theirs:
        assert torch.allclose(ours[k], theirs[k], atol=1e-4), k
    head_none = MODELS.build(dict(cfg, acc_seg='none'))
    assert set(head_none.loss_by_feat(logits, samples)) == {
        'loss_focal', 'loss_dice'}


def test_same_loss_name_terms_are_summed():
    head = MODELS.build(
        dict(type='FCNAuxHead', in_channels=8, channels=8, num_classes=2,
             loss_decode=[dict(type='TumorDiceLoss', loss_weight=0.5),
                          dict(type='TumorDiceLoss', loss_weight=0.25)]))
    logits = torch.randn(2, 2, 6, 5)
    samples = _samples(_labels())
    single = MODELS.build(
        dict(type='TumorDiceLoss', loss_weight=0.75))(
            torch.nn.functional.interpolate(
                logits, (24, 20), mode='bilinear'), _labels())
    assert torch.allclose(
        head.loss_by_feat(logits, samples)['loss_dice'], single, atol=1e-5)


def test_unknown_acc_seg_is_rejected():
    with pytest.raises(ValueError, match='acc_seg'):
        MODELS.build(dict(type='FCNAuxHead', in_channels=8, channels=8,
                          num_classes=2, acc_seg='exact'))
