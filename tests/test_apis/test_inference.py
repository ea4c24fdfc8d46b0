"""init_model / load_inference_weights / LogitsWrapper."""
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmseg.registry import MODELS

from mtnet_plugin.apis import LogitsWrapper, init_model, load_inference_weights
from mtnet_plugin.apis.inference import (inference_input_shape,
                                         preprocessed_example)

from ..conftest import REPO

CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-12e_synthetic-256x256.py')


@pytest.fixture(scope='module')
def training_checkpoint(tmp_path_factory):
    """A checkpoint as training saves it: auxiliary heads included."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    assert any(k.startswith('auxiliary_head.') for k in model.state_dict())
    path = str(tmp_path_factory.mktemp('ckpt') / 'train.pth')
    torch.save(dict(state_dict=model.state_dict(), meta=dict(seed=7)), path)
    return path, model


def test_training_heads_are_dropped_with_one_line(training_checkpoint):
    path, trained = training_checkpoint
    # what a user sees, in a fresh process
    proc = subprocess.run([
        sys.executable, '-c', 'from mtnet_plugin.apis import init_model; '
        f'init_model({CONFIG!r}, {path!r})'
    ], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = proc.stdout + proc.stderr
    lines = [ln for ln in text.splitlines() if 'auxiliary_head' in ln]
    assert len(lines) == 1 and 'training-only' in lines[0], text
    assert len([ln for ln in text.splitlines() if path in ln]) == 1, text
    assert 'unexpected key' not in text and 'missing keys' not in text
    model = init_model(CONFIG, path)
    assert not hasattr(model, 'auxiliary_head') and not model.training
    assert model.cfg.model.type == 'MultiTaskEncoderDecoder'
    # every inference weight is the trained one
    trained_sd = trained.state_dict()
    for k, v in model.state_dict().items():
        assert torch.equal(v, trained_sd[k]), k


def test_a_checkpoint_that_does_not_fit_names_the_file(training_checkpoint,
                                                       tmp_path):
    path, trained = training_checkpoint
    sd = {k: v for k, v in trained.state_dict().items()
          if not k.startswith('cls_head.')}
    bad = str(tmp_path / 'no_cls_head.pth')
    torch.save(dict(state_dict=sd), bad)
    model = init_model(CONFIG)
    with pytest.raises(RuntimeError, match='no_cls_head.pth'):
        load_inference_weights(model, bad)


def test_missing_checkpoint_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        init_model(CONFIG, str(tmp_path / 'nowhere.pth'))


def test_meta_is_returned_and_module_prefix_stripped(training_checkpoint,
                                                     tmp_path):
    _, trained = training_checkpoint
    sd = {'module.' + k: v for k, v in trained.state_dict().items()}
    ddp = str(tmp_path / 'ddp.pth')
    torch.save(dict(state_dict=sd, meta=dict(seed=3)), ddp)
    model = init_model(CONFIG)
    assert load_inference_weights(model, ddp) == dict(seed=3)


def test_logits_wrapper_is_what_predict_computes():
    model = init_model(CONFIG)
    x = preprocessed_example(model, (96, 128), num=2)
    with torch.no_grad():
        seg, cls = LogitsWrapper(model)(x)
        ref = model.predict(x)
    assert seg.shape == (2, 2, 96, 128) and cls.shape == (2, 2)
    for i, sample in enumerate(ref):
        assert torch.allclose(sample.seg_logits.data, seg[i], atol=1e-6)
        assert torch.allclose(sample.pred_score, cls[i].softmax(0))


def test_inference_input_shape_reads_the_test_resize():
    cfg = Config.fromfile(
        osp.join(REPO, 'configs', 'efficient_mtnet',
                 'efficient_mtnet_1xb8-45e_brain-tumor-320x320.py'))
    assert inference_input_shape(cfg) == (320, 320)
    cfg.test_pipeline[1]['scale'] = (640, 480)  # (W, H) in mmcv
    assert inference_input_shape(cfg) == (480, 640)
