"""ONNX export with dynamic batch, height and width; its cache key."""
import os
import os.path as osp

import pytest
import torch

from mtnet_plugin.apis import export_onnx, init_model, onnx_cache_path
from mtnet_plugin.apis.inference import preprocessed_example
from mtnet_plugin.apis.onnx_export import (compare_with_pytorch,
                                           hard_sigmoid_gates,
                                           static_same_padding)

from ..conftest import REPO

onnx = pytest.importorskip('onnx')
ort = pytest.importorskip('onnxruntime')
CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet_640.py')


@pytest.fixture(scope='module')
def model():
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    m = init_model(CONFIG)
    m.init_weights()
    torch.manual_seed(0)  # weights less trivial than the init
    for p in m.parameters():
        p.data.add_(0.05 * torch.randn_like(p))
    return m.eval()


@pytest.fixture(scope='module')
def dynamic_file(model, tmp_path_factory):
    out = str(tmp_path_factory.mktemp('onnx') / 'm.onnx')
    export_onnx(model, out, (128, 128), dynamic=True, metadata=dict(k='v'))
    return out


def test_static_same_padding_equals_mmcv_on_stride_multiples(model):
    import copy
    from mmcv.cnn.bricks.conv2d_adaptive_padding import \
        Conv2dAdaptivePadding
    frozen = static_same_padding(copy.deepcopy(model))
    assert any(isinstance(m, Conv2dAdaptivePadding)
               for m in model.modules())
    assert not any(isinstance(m, Conv2dAdaptivePadding)
                   for m in frozen.modules())
    x = preprocessed_example(model, (96, 160))
    with torch.no_grad():
        for a, b in zip(model._forward(x), frozen._forward(x)):
            assert torch.allclose(a, b, atol=1e-5)


def test_hard_sigmoid_gates_equal_mmcv_and_export_one_node(
        model, dynamic_file):
    import copy

    from mmcv.cnn.bricks import HSigmoid
    gated = hard_sigmoid_gates(copy.deepcopy(model))
    before = sum(isinstance(m, HSigmoid) for m in model.modules())
    assert before >= 11  # two in the stem, one per inverted residual
    assert not any(isinstance(m, HSigmoid) for m in gated.modules())
    assert sum(isinstance(m, torch.nn.Hardsigmoid)
               for m in gated.modules()) == before
    x = preprocessed_example(model, (96, 160))
    with torch.no_grad():
        for a, b in zip(model._forward(x), gated._forward(x)):
            assert torch.allclose(a, b, atol=1e-5)
    # the export writes each gate as one HardSigmoid, no Add/Div/Clip chain
    ops = [n.op_type for n in onnx.load(dynamic_file).graph.node]
    assert ops.count('HardSigmoid') == before
    assert 'Clip' not in ops


def test_hard_sigmoid_gates_keeps_other_settings():
    from mmcv.cnn.bricks import HSigmoid
    m = torch.nn.Sequential(HSigmoid(bias=1.0, divisor=2.0))
    assert isinstance(hard_sigmoid_gates(m)[0], HSigmoid)


def test_checker_names_and_metadata(dynamic_file):
    proto = onnx.load(dynamic_file)
    onnx.checker.check_model(proto)
    assert [i.name for i in proto.graph.input] == ['input']
    assert [o.name for o in proto.graph.output] == ['seg_logits', 'cls_logits']
    dims = [d.dim_param or d.dim_value
            for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == ['batch', 3, 'height', 'width']
    assert {p.key: p.value for p in proto.metadata_props} == dict(k='v')
    assert not [f for f in os.listdir(osp.dirname(dynamic_file))
                if '.tmp' in f]  # written via a temporary name


@pytest.mark.parametrize('shape,batch', [((128, 128), 1), ((256, 192), 3),
                                         ((64, 96), 2)])
def test_dynamic_export_runs_other_sizes_and_batches(model, dynamic_file,
                                                     shape, batch):
    """Sizes the export never saw: the output follows the input, and the
    logits are PyTorch's (a size frozen at export time fails here)."""
    sess = ort.InferenceSession(dynamic_file,
                                providers=['CPUExecutionProvider'])
    x = preprocessed_example(model, shape, batch)
    seg, cls = sess.run(None, {'input': x.numpy()})
    assert seg.shape == (batch, 2, *shape) and cls.shape == (batch, 2)
    report = compare_with_pytorch(sess, model, x, atol=1e-4)
    assert report['ok'], report


def test_without_static_padding_the_size_would_be_frozen(model, tmp_path,
                                                         monkeypatch,
                                                         dynamic_file):
    """Why static_same_padding exists: mmcv's adaptive padding traced at
    128 x 128 pads 256 x 192 inputs as if they were 128 x 128. With these
    weights the logits then differ from PyTorch's by ~1e-3, where the
    export with static padding differs by ~1e-8: the traced padding is
    wrong, not rounding."""
    from mtnet_plugin.apis import onnx_export
    x = preprocessed_example(model, (256, 192))
    good = compare_with_pytorch(
        ort.InferenceSession(dynamic_file,
                             providers=['CPUExecutionProvider']), model, x)
    monkeypatch.setattr(onnx_export, 'static_same_padding', lambda m: m)
    out = str(tmp_path / 'traced.onnx')
    export_onnx(model, out, (128, 128), dynamic=True)
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    try:
        sess.run(None, {'input': x.numpy()})
    except Exception:
        return  # refused: also not a working dynamic export
    traced = compare_with_pytorch(sess, model, x)
    assert good['seg_max_abs'] < 1e-5
    assert traced['seg_max_abs'] > 100 * max(good['seg_max_abs'], 1e-7)


def test_static_export_is_fixed(model, tmp_path):
    out = str(tmp_path / 'static.onnx')
    export_onnx(model, out, (64, 64), dynamic=False)
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    assert sess.get_inputs()[0].shape == [1, 3, 64, 64]


def test_cache_path_is_keyed_by_checkpoint_and_model(tmp_path, model):
    ckpt = tmp_path / 'w.pth'
    torch.save(dict(state_dict=model.state_dict()), str(ckpt))
    a = onnx_cache_path(str(ckpt), model.cfg.model)
    assert osp.dirname(a) == str(tmp_path) and a.startswith(
        str(tmp_path / 'w.')) and a.endswith('.onnx')
    assert onnx_cache_path(str(ckpt), model.cfg.model) == a
    other_cfg = model.cfg.model.copy()
    other_cfg['decode_head'] = dict(
        other_cfg['decode_head'], ham_kwargs=dict(
            other_cfg['decode_head']['ham_kwargs'], eval_steps=5))
    assert onnx_cache_path(str(ckpt), other_cfg) != a
    sd = model.state_dict()
    sd['cls_head.fc.weight'] = torch.zeros(1)
    torch.save(dict(state_dict=sd), str(ckpt))
    assert onnx_cache_path(str(ckpt), model.cfg.model) != a


def test_cache_goes_home_when_the_folder_is_read_only(tmp_path, model,
                                                      monkeypatch):
    from mtnet_plugin.apis import onnx_export
    ckpt = tmp_path / 'w.pth'
    ckpt.write_bytes(b'weights')
    monkeypatch.setattr(onnx_export.os, 'access', lambda p, m: False)
    path = onnx_cache_path(str(ckpt), model.cfg.model)
    assert osp.dirname(path) == onnx_export.CACHE_DIR


def test_static_dynamo_export_leaves_one_self_contained_file(model, tmp_path):
    out = tmp_path / 'static.onnx'
    export_onnx(model, str(out), (64, 64), dynamic=False, dynamo=True)
    assert os.listdir(tmp_path) == ['static.onnx']
    session = ort.InferenceSession(str(out),
                                   providers=['CPUExecutionProvider'])
    x = preprocessed_example(model, (64, 64))
    seg, cls = session.run(None, {'input': x.numpy()})
    with torch.no_grad():
        _, ref_cls = model._forward(x)
    assert seg.shape == (1, 2, 64, 64)
    assert abs(cls - ref_cls.numpy()).max() < 1e-3


def test_batch_free_export_fixes_height_and_width(model, tmp_path):
    """dynamic='batch': any N runs, another size is refused by onnxruntime;
    the tracer and torch.export give the same graph interface."""
    x = preprocessed_example(model, (64, 64), num=3)
    with torch.no_grad():
        ref_seg, ref_cls = model._forward(x)
    for dynamo in (False, True):
        out = str(tmp_path / f'batch-{dynamo}.onnx')
        export_onnx(model, out, (64, 64), dynamic='batch', dynamo=dynamo)
        session = ort.InferenceSession(out,
                                       providers=['CPUExecutionProvider'])
        dims = session.get_inputs()[0].shape
        assert isinstance(dims[0], str) and dims[1:] == [3, 64, 64]
        seg, cls = session.run(None, {'input': x.numpy()})
        assert seg.shape == (3, 2, 64, 64)
        assert abs(cls - ref_cls.numpy()).max() < 1e-3
        with pytest.raises(Exception):
            session.run(None, {'input': x[:, :, :32, :32].numpy()})


def test_export_refuses_free_sizes_through_torch_export(model, tmp_path):
    with pytest.raises(ValueError, match='fixed height and width'):
        export_onnx(model, str(tmp_path / 'a.onnx'), (64, 64), dynamo=True)
    with pytest.raises(ValueError, match="'batch'"):
        export_onnx(model, str(tmp_path / 'a.onnx'), (64, 64),
                    dynamic='height')
    assert os.listdir(tmp_path) == []


def test_lesion_pooled_class_head_exports_and_matches(tmp_path):
    """The class head that pools under the decode head's mask exports
    with dynamic sizes, its logits PyTorch's at a size it never saw."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    cfg = Config.fromfile(CONFIG)
    cfg.model.cls_head.update(
        lesion_in_index=(4, ), lesion_in_channels=(128, ))
    m = init_model(cfg)
    m.init_weights()
    torch.manual_seed(1)
    for p in m.parameters():
        p.data.add_(0.05 * torch.randn_like(p))
    m.eval()
    assert m.cls_pools_lesion
    out = str(tmp_path / 'lesion.onnx')
    export_onnx(m, out, (128, 128), dynamic=True)
    sess = ort.InferenceSession(out, providers=['CPUExecutionProvider'])
    x = preprocessed_example(m, (96, 160), 2)
    report = compare_with_pytorch(sess, m, x, atol=1e-4)
    assert report['ok'], report
