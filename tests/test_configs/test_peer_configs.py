"""mmseg's models trained with EfficientMTNet's recipe (configs/<peer>/):
the same recipe but for what a segmentation-only model cannot take, their
weights scored by tools/test.py with the same tumor metrics, and no
checkpoint of one family accepted by the other."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from mtnet_plugin.datasets.synthetic_mri import generate_dataset
from mtnet_plugin.utils import CheckpointMismatchError, exit_on_mismatch

from ..conftest import REPO, load_tool

RECIPE = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-45e_brain-tumor-320x320.py')
SHIPPED_CFG = osp.join(REPO, 'configs', 'efficient_mtnet',
                       'efficient_mtnet_1xb8-boxaux-45e_brain-tumor-320x320.py')
PEERS = [
    osp.join(REPO, 'configs', 'fast_scnn',
             'fast_scnn_1xb8-45e_brain-tumor-320x320.py'),
    osp.join(REPO, 'configs', 'bisenetv2',
             'bisenetv2_1xb8-45e_brain-tumor-320x320.py'),
    osp.join(REPO, 'configs', 'ddrnet',
             'ddrnet_23-slim_1xb8-45e_brain-tumor-320x320.py'),
]
#: What a segmentation-only peer changes, by design: its model, its
#: evaluator (no classification metrics) and the checkpoint rule.
PEER_KEYS = {'model', 'val_evaluator', 'test_evaluator', 'default_hooks',
             'tta_model', 'norm_cfg', 'data_preprocessor', 'aux_loss',
             'peer_norm_cfg', 'peer_data_preprocessor', 'peer_decode_losses',
             'peer_aux_loss_total', 'ham_kwargs', 'aux_head'}


def _decode_losses(model):
    """(the losses on the main logits, the total auxiliary weight).

    A head with one loss per output (DDRNet's) carries the main losses as
    one ``LossSum`` and the auxiliary loss on its second output; other peers
    have mmseg's list on the decode head and separate auxiliary heads.
    """
    losses = model.decode_head.loss_decode
    if isinstance(losses, (list, tuple)) and losses[0].type == 'LossSum':
        main, *aux = losses
        return main.losses, sum(a.loss_weight for a in aux)
    heads = model.get('auxiliary_head') or []
    return losses, sum(h.loss_decode.loss_weight for h in heads)


@pytest.mark.parametrize('peer', PEERS, ids=osp.basename)
def test_a_peer_takes_the_recipe_but_its_model(peer):
    recipe, cfg = Config.fromfile(RECIPE), Config.fromfile(peer)
    for key in set(recipe) | set(cfg):
        if key in PEER_KEYS:
            continue
        assert recipe.get(key) == cfg.get(key), key
    # the checkpoint rule: the same hook, kept by tumor Dice
    ours, theirs = (copy.deepcopy(c.default_hooks.checkpoint)
                    for c in (recipe, cfg))
    assert ours.pop('save_best') == 'multi_task/score'
    assert theirs.pop('save_best') == 'tumor_Dice'
    assert ours == theirs
    assert {k: v for k, v in recipe.default_hooks.items() if k != 'checkpoint'} \
        == {k: v for k, v in cfg.default_hooks.items() if k != 'checkpoint'}
    # the same input normalization and decode losses
    model = cfg.model
    def unscoped(d):
        return {k: v for k, v in d.items() if k != '_scope_'}

    assert unscoped(model.data_preprocessor) == \
        unscoped(recipe.model.data_preprocessor)
    main, aux_weight = _decode_losses(model)
    assert main == recipe.model.decode_head.loss_decode
    assert model.decode_head.num_classes == 2
    assert aux_weight in (0, pytest.approx(0.4))
    assert [m.type for m in cfg.val_evaluator] == ['TumorIoUMetric']


@pytest.fixture(scope='module')
def tiny_data(tmp_path_factory):
    root = tmp_path_factory.mktemp('peer_data')
    generate_dataset(str(root), dict(train=4, valid=4, test=4), size=64,
                     seed=7)
    return str(root)


def _options(root):
    opts = {f'{s}_dataloader.dataset.data_root': root
            for s in ('train', 'val', 'test')}
    opts.update({f'{s}_dataloader.{k}': v for s in ('val', 'test')
                 for k, v in (('num_workers', 0),
                              ('persistent_workers', False))})
    return ['--cfg-options'] + [f'{k}={v}' for k, v in opts.items()]


def _checkpoint(config, path):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    cfg = Config.fromfile(config)
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    torch.save(dict(state_dict=model.state_dict(), meta={}), path)
    return str(path)


@pytest.mark.parametrize('peer', PEERS, ids=osp.basename)
def test_test_tool_scores_a_peer_with_the_tumor_metrics(
        peer, tiny_data, tmp_path):
    ckpt = _checkpoint(peer, tmp_path / 'peer.pth')
    metrics = load_tool('test.py').main(
        [peer, ckpt, '--work-dir', str(tmp_path / 'w')] + _options(tiny_data))
    assert {'tumor_Dice', 'tumor_IoU', 'mDice', 'mIoU'} <= set(metrics)
    assert not any(k.startswith('accuracy') for k in metrics)
    # the value is that of the peer's own predictions
    from mmengine.dataset import pseudo_collate
    from mmengine.runner import load_checkpoint
    from mmseg.registry import DATASETS
    cfg = Config.fromfile(peer)
    model = MODELS.build(cfg.model).eval()
    load_checkpoint(model, ckpt, map_location='cpu')
    ds_cfg = cfg.test_dataloader.dataset
    ds_cfg.data_root = tiny_data
    dataset = DATASETS.build(ds_cfg)
    inter = area = 0
    with torch.no_grad():
        for i in range(len(dataset)):
            (s, ) = model.test_step(pseudo_collate([dataset[i]]))
            p = s.pred_sem_seg.data == 1
            g = s.gt_sem_seg.data == 1
            inter += int((p & g).sum())
            area += int(p.sum() + g.sum())
    assert metrics['tumor_Dice'] == pytest.approx(
        200 * inter / area if area else 0, abs=0.01)


@pytest.mark.parametrize('peer', PEERS, ids=osp.basename)
def test_checkpoints_of_the_other_family_are_refused(peer, tiny_data,
                                                     tmp_path, capsys):
    from mtnet_plugin.apis import TumorInferencer
    peer_ckpt = _checkpoint(peer, tmp_path / 'peer.pth')
    ours_ckpt = _checkpoint(SHIPPED_CFG, tmp_path / 'ours.pth')
    with pytest.raises(CheckpointMismatchError, match='peer.pth'):
        TumorInferencer(SHIPPED_CFG, peer_ckpt, backend='pytorch')
    with pytest.raises(CheckpointMismatchError, match='ours.pth'):
        TumorInferencer(peer, ours_ckpt, backend='pytorch')
    with pytest.raises(SystemExit) as e:
        exit_on_mismatch(load_tool('test.py').main,
                         [peer, ours_ckpt, '--work-dir', str(tmp_path / 'w')] +
                         _options(tiny_data))
    assert 'ours.pth' in str(e.value.code) and osp.basename(peer) in \
        str(e.value.code)


@pytest.mark.parametrize('peer', PEERS, ids=osp.basename)
def test_a_missing_data_root_names_the_file(peer, tmp_path, monkeypatch):
    from mmseg.registry import DATASETS
    missing = str(tmp_path / 'nowhere')
    monkeypatch.setenv('BRAIN_TUMOR_DATA_ROOT', missing)
    cfg = Config.fromfile(peer)
    with pytest.raises(FileNotFoundError,
                       match=f'{missing}/train/_annotations.coco.json'):
        DATASETS.build(cfg.train_dataloader.dataset)


@pytest.mark.parametrize('peer', PEERS[:1], ids=osp.basename)
def test_inferencer_and_error_analysis_take_a_peer(peer, tiny_data,
                                                   tmp_path):
    """A segmentation-only peer runs through TumorInferencer (masks, no
    class) and analyze_errors.py (its breakdown, no accuracy), so every row
    of the zoo is analysed the same way."""
    from mtnet_plugin.apis import TumorInferencer
    ckpt = _checkpoint(peer, tmp_path / 'peer.pth')
    inf = TumorInferencer(peer, ckpt, backend='pytorch', num_workers=0)
    results = inf(osp.join(tiny_data, 'valid'))
    assert len(results) == 4
    for r in results:
        assert r['mask'].shape == (64, 64)
        assert r['class_index'] is None and r['class_probs'] is None
        assert r['tumor_area_px'] == int(r['mask'].sum())
    report = load_tool('analysis_tools/analyze_errors.py').main([
        peer, ckpt, '--backend', 'pytorch', '--cfg-options',
        f'val_dataloader.dataset.data_root={tiny_data}'])
    assert report['accuracy'] is None and report['wrong'] is None
    assert report['images'] == 4
    assert 0 <= report['tumor_Dice'] <= 100
