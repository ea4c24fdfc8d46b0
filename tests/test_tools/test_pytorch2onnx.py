"""ONNX export of both outputs, checked against PyTorch with onnxruntime."""
import importlib.util
import os.path as osp

import pytest
import torch

from ..conftest import REPO

pytest.importorskip('onnxruntime')
spec = importlib.util.spec_from_file_location(
    'pytorch2onnx', osp.join(REPO, 'tools', 'deployment', 'pytorch2onnx.py'))
p2o = importlib.util.module_from_spec(spec)
spec.loader.exec_module(p2o)
CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet_640.py')


@pytest.mark.parametrize('dynamic_batch', [False, True])
def test_export_and_parity(tmp_path, dynamic_batch):
    model = p2o.build_model(CONFIG, None)
    model.init_weights()
    # make the weights less trivial than the init so logits spread out
    torch.manual_seed(0)
    for p in model.parameters():
        p.data.add_(0.05 * torch.randn_like(p))
    out = str(tmp_path / 'm.onnx')
    wrapper = p2o.export(model, out, (128, 160), dynamic_batch)
    inputs = p2o.sample_inputs(model, (128, 160), 3)
    report = p2o.check_parity(wrapper, out, inputs, 1e-4, dynamic_batch)
    assert report['ok'], report
    import onnxruntime as ort
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    names = [o.name for o in sess.get_outputs()]
    assert names == ['seg_logits', 'cls_logits']
    x = inputs if dynamic_batch else inputs[:1]
    seg, cls = sess.run(None, {'input': x.numpy()})
    assert seg.shape == (x.shape[0], 2, 128, 160)
    assert cls.shape == (x.shape[0], 2)


def test_parity_check_catches_a_different_model(tmp_path):
    model = p2o.build_model(CONFIG, None)
    out = str(tmp_path / 'm.onnx')
    p2o.export(model, out, (64, 64))
    other = p2o.build_model(CONFIG, None)  # other random weights
    inputs = p2o.sample_inputs(model, (64, 64), 2)
    report = p2o.check_parity(p2o.ExportWrapper(other).eval(), out, inputs)
    assert not report['ok']
