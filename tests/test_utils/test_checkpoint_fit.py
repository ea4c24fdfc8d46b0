"""A checkpoint that does not fit its config is refused in one line."""
import copy

import pytest
import torch
from mmseg.registry import MODELS

from mtnet_plugin.utils import (CheckpointMismatchError,
                                check_checkpoint_fits, checkpoint_mismatches,
                                describe_mismatches)


@pytest.fixture
def model(model_cfg):
    return MODELS.build(model_cfg)


def _wide(model_cfg):
    cfg = copy.deepcopy(model_cfg)
    cfg.backbone.stage_channels = (64, 96, 160)
    cfg.neck.in_channels = [64, 64, 96, 160]
    cfg.cls_head.in_channels = 160
    return MODELS.build(cfg)


def test_own_checkpoint_fits_with_or_without_auxiliary_heads(model, tmp_path):
    state = model.state_dict()
    full = tmp_path / 'full.pth'
    torch.save(dict(state_dict=state, meta={}), full)
    check_checkpoint_fits(model, str(full))
    no_aux = tmp_path / 'no_aux.pth'
    torch.save(
        dict(state_dict={
            k: v
            for k, v in state.items() if not k.startswith('auxiliary_head.')
        }), no_aux)
    check_checkpoint_fits(model, str(no_aux))
    # a checkpoint from before calibration has no cls_temperature: the
    # segmentor fills it in, so it is no mismatch
    old = {k: v for k, v in state.items() if k != 'cls_temperature'}
    assert not any(checkpoint_mismatches(model, old).values())


def test_other_architecture_is_refused_naming_files_and_keys(
        model, model_cfg, tmp_path):
    ckpt = tmp_path / 'wide.pth'
    torch.save(dict(state_dict=_wide(model_cfg).state_dict()), ckpt)
    with pytest.raises(CheckpointMismatchError) as e:
        check_checkpoint_fits(model, str(ckpt), 'configs/x.py')
    msg = str(e.value)
    assert '\n' not in msg
    assert str(ckpt) in msg and 'configs/x.py' in msg
    assert 'size mismatches' in msg and 'backbone.' in msg
    assert 'more' in msg  # only the first few are listed


def test_missing_and_unexpected_keys_are_counted(model):
    state = dict(model.state_dict())
    dropped = next(k for k in state if k.startswith('cls_head.'))
    del state[dropped]
    state['extra_head.weight'] = torch.zeros(1)
    found = checkpoint_mismatches(model, state)
    assert found['missing'] == [dropped]
    assert found['unexpected'] == ['extra_head.weight']
    text = describe_mismatches(found)
    assert '1 missing keys' in text and '1 unexpected keys' in text


def test_not_a_checkpoint(model, tmp_path):
    bad = tmp_path / 'list.pth'
    torch.save([1, 2], bad)
    with pytest.raises(CheckpointMismatchError, match='list.pth'):
        check_checkpoint_fits(model, str(bad))
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        check_checkpoint_fits(model, str(tmp_path / 'nowhere.pth'))
