"""BoxExtentAuxHead: FCOS distances from the label mask, an IoU loss that
is zero only for the right extent, and a config that trains with it."""
import pytest
import torch
from mmengine.structures import PixelData
from mmseg.structures import SegDataSample
from mtnet_plugin.models.decode_heads import BoxExtentAuxHead
from mtnet_plugin.models.decode_heads.box_extent_aux_head import (
    box_iou_loss, edge_distances)


def _sample(seg):
    s = SegDataSample()
    s.gt_sem_seg = PixelData(data=torch.as_tensor(seg)[None].long())
    return s


def test_edge_distances_of_a_rectangle():
    mask = torch.zeros(1, 10, 12, dtype=torch.bool)
    mask[0, 2:6, 3:10] = True  # rows 2-5, columns 3-9
    d = edge_distances(mask)
    # pixel (row 3, col 4): 1.5 px to the left side (x = 2.5 .. 4), 1.5 to
    # the top (y = 1.5 .. 3), 5.5 to the right (x = 4 .. 9.5), 2.5 down
    assert d[0, :, 3, 4].tolist() == [1.5, 1.5, 5.5, 2.5]
    # left + right is the width and top + bottom the height everywhere in
    assert torch.all((d[0, 0] + d[0, 2])[mask[0]] == 7)
    assert torch.all((d[0, 1] + d[0, 3])[mask[0]] == 4)
    assert torch.all(d[:, :, ~mask[0]] == 0)


def test_box_iou_loss_is_zero_only_at_the_target():
    t = torch.tensor([[1., 2., 3., 4.]])
    for mode in ('iou', 'giou'):
        loss, iou = box_iou_loss(t.clone(), t, mode)
        assert loss.item() == pytest.approx(0, abs=1e-6) and iou.item() == 1
    # twice as wide on the left: inter 4 * 6 = 24, union 6 * 6 = 36
    loss, iou = box_iou_loss(torch.tensor([[3., 2., 3., 4.]]), t, 'iou')
    assert iou.item() == pytest.approx(24 / 36)
    # wide and flat against tall: the union (26) leaves part of the
    # enclosing box (6 * 6) empty, which GIoU charges and IoU does not
    flat = torch.tensor([[3., 0.5, 3., 0.5]])
    iou_loss, iou = box_iou_loss(flat, t, 'iou')
    assert iou.item() == pytest.approx(4 / 26)
    giou_loss, _ = box_iou_loss(flat, t, 'giou')
    assert giou_loss.item() == pytest.approx(iou_loss.item() + 10 / 36)


def test_targets_at_cell_centres_and_loss_gradient():
    torch.manual_seed(0)
    head = BoxExtentAuxHead(in_channels=8, in_index=1, channels=8)
    seg = torch.zeros(32, 32, dtype=torch.long)
    seg[8:24, 4:20] = 1  # a 16 x 16 box
    seg[:, 30:] = 255  # padding never counts
    target, pos = head.targets([_sample(seg)], (4, 4))  # stride 8
    # cell centres are pixels 4, 12, 20, 28: rows 12 and 20 and columns 4
    # and 12 lie in the box
    assert pos[0].nonzero().tolist() == [[1, 0], [1, 1], [2, 0], [2, 1]]
    # (12, 12): 8.5 px from the left side (x = 3.5), 4.5 from the top,
    # 7.5 to the right (x = 19.5), 11.5 down; in strides of 8
    assert target[0, :, 1, 1].tolist() == pytest.approx(
        [8.5 / 8, 4.5 / 8, 7.5 / 8, 11.5 / 8])
    feats = (torch.zeros(1, 8, 4, 4), torch.randn(1, 8, 4, 4))
    losses = head.loss(feats, [_sample(seg)], {})
    assert losses['loss_box'] > 0 and 0 <= losses['box_iou'] <= 1
    losses['loss_box'].backward()
    assert head.reg.weight.grad.abs().sum() > 0
    # no tumor in the batch: a zero loss that still reaches every weight
    head.zero_grad()
    empty = head.loss(feats, [_sample(torch.zeros(32, 32).long())], {})
    assert empty['loss_box'].item() == 0
    empty['loss_box'].backward()
    assert head.reg.weight.grad is not None
    with pytest.raises(ValueError, match='integer multiple'):
        head.targets([_sample(seg)], (5, 5))
    with pytest.raises(ValueError, match='giou'):
        BoxExtentAuxHead(in_channels=8, in_index=0, loss_type='l1')


def test_targets_equal_the_full_map_sampled_at_cell_centres():
    # targets() runs edge_distances on the centre rows and columns only;
    # on irregular masks (rotated boxes, speckle, padding) that must give
    # exactly the full-resolution distances sampled at the centres
    torch.manual_seed(0)
    head = BoxExtentAuxHead(in_channels=8, in_index=0)
    samples = []
    for _ in range(4):
        seg = (torch.rand(64, 48) < 0.3).long()
        seg[10:40, 5:30] = 1
        seg[:, 44:] = 255
        samples.append(_sample(seg))
    target, pos = head.targets(samples, (8, 6))
    mask = torch.stack([s.gt_sem_seg.data[0] for s in samples]) == 1
    assert torch.equal(target, (edge_distances(mask) / 8)[:, :, 4::8, 4::8])
    assert torch.equal(pos, mask[:, 4::8, 4::8])


def test_the_boxaux_config_trains_it_and_infers_like_the_recipe():
    import os.path as osp

    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    from ...conftest import REPO
    init_default_scope('mmseg')
    cfgs = {
        name: Config.fromfile(
            osp.join(REPO, 'configs', 'efficient_mtnet',
                     f'efficient_mtnet_1xb8-{name}brain-tumor-320x320.py'))
        for name in ('45e_', 'boxaux-45e_')
    }
    ref, box = (MODELS.build(c.model) for c in cfgs.values())
    assert isinstance(box.auxiliary_head[2], BoxExtentAuxHead)
    # inference keys identical: the head lives under auxiliary_head only
    infer = {k for k in box.state_dict() if not k.startswith('auxiliary_')}
    assert infer == {
        k for k in ref.state_dict() if not k.startswith('auxiliary_')}
    seg = torch.zeros(64, 64, dtype=torch.long)
    seg[10:40, 20:50] = 1
    s = _sample(seg)
    s.set_metainfo(dict(img_shape=(64, 64), pad_shape=(64, 64),
                        ori_shape=(64, 64)))
    s.gt_label = torch.tensor([1])
    box.train()
    losses = box.loss(torch.randn(2, 3, 64, 64), [s, s])
    assert 'aux_2.loss_box' in losses and losses['aux_2.loss_box'] > 0


def test_the_weight_lever_config_changes_only_the_extent_loss_weight():
    import os.path as osp

    from mmengine.config import Config

    from ...conftest import REPO

    def load(name):
        return Config.fromfile(
            osp.join(REPO, 'configs', 'efficient_mtnet',
                     f'efficient_mtnet_1xb8-{name}-45e_brain-tumor-320x320.py')
        ).to_dict()

    shipped, lever = load('boxaux'), load('boxaux-w05')
    assert shipped['model']['auxiliary_head'][2]['loss_weight'] == 0.2
    assert lever['model']['auxiliary_head'][2]['loss_weight'] == 0.5
    lever['model']['auxiliary_head'][2]['loss_weight'] = 0.2
    assert lever == shipped
