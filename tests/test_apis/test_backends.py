"""Inference backends: the same logits from every one, clear errors."""
import os.path as osp
import shutil
import sys

import pytest
import torch

from mtnet_plugin.apis import (ONNXRuntimeBackend, PyTorchBackend,
                               build_backend, default_backend, export_onnx,
                               init_model)
from mtnet_plugin.apis.inference import LogitsWrapper, preprocessed_example

from ..conftest import REPO
from ..timing_fakes import FakeClock, SpinningBackend

CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-12e_synthetic-256x256.py')


def _model(seed):
    torch.manual_seed(seed)
    m = init_model(CONFIG)
    m.init_weights()
    for p in m.parameters():
        p.data.add_(0.05 * torch.randn_like(p))
    return m.eval()


@pytest.fixture(scope='module')
def model():
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    return _model(0)


@pytest.fixture(scope='module')
def onnx_file(model, tmp_path_factory):
    pytest.importorskip('onnxruntime')
    out = str(tmp_path_factory.mktemp('onnx') / 'm.onnx')
    return export_onnx(model, out, (96, 96))


def test_default_backend():
    have_ort = all(
        __import__('importlib').util.find_spec(m) is not None
        for m in ('onnxruntime', 'onnx'))
    assert default_backend('cpu') == ('onnxruntime'
                                      if have_ort else 'pytorch')
    assert default_backend('cuda:0') == 'pytorch'


def test_onnxruntime_gives_pytorch_logits(model, onnx_file):
    x = preprocessed_example(model, (64, 128), num=2)
    seg_t, cls_t = PyTorchBackend(model)(x)
    backend = build_backend('onnxruntime', model, onnx_file=onnx_file)
    assert backend.name == 'onnxruntime'
    seg_o, cls_o = backend(x)
    assert seg_o.shape == seg_t.shape == (2, 2, 64, 128)
    assert seg_o.dtype == torch.float32
    assert torch.allclose(seg_o, seg_t, atol=1e-4)
    assert torch.allclose(cls_o, cls_t, atol=1e-4)


def test_bf16_autocast_runs_in_bf16_and_returns_fp32(model):
    x = preprocessed_example(model, (64, 64))
    fp32 = PyTorchBackend(model)(x)
    bf16 = PyTorchBackend(model, precision='bf16')(x)
    assert all(t.dtype == torch.float32 for t in bf16)
    # close, yet not bit-identical: the forward did run in bf16
    assert not torch.equal(bf16[0], fp32[0])
    assert torch.allclose(bf16[1], fp32[1], atol=0.15, rtol=0.1)
    with pytest.raises(ValueError, match='precision'):
        PyTorchBackend(model, precision='int8')


def test_file_of_another_model_is_refused_by_name(model, onnx_file,
                                                  tmp_path):
    other = str(tmp_path / 'other.onnx')
    export_onnx(_model(1), other, (96, 96))
    with pytest.raises(ValueError, match='other.onnx.*does not match'):
        ONNXRuntimeBackend(model, other)


def test_fixed_size_export_of_another_size_is_refused(model, tmp_path):
    pytest.importorskip('onnxruntime')
    static = str(tmp_path / 'static64.onnx')
    export_onnx(model, static, (64, 64), dynamic=False)
    # the demo config runs 256 x 256
    with pytest.raises(ValueError, match='static64.onnx.*does not run'):
        ONNXRuntimeBackend(model, static)


def test_missing_and_corrupt_files(model, onnx_file, tmp_path):
    with pytest.raises(FileNotFoundError, match='nowhere.onnx'):
        ONNXRuntimeBackend(model, str(tmp_path / 'nowhere.onnx'))
    corrupt = tmp_path / 'corrupt.onnx'
    corrupt.write_bytes(open(onnx_file, 'rb').read()[:5000])
    with pytest.raises(ValueError, match='corrupt.onnx'):
        ONNXRuntimeBackend(model, str(corrupt))


def test_missing_onnxruntime_names_the_extra(model, monkeypatch):
    monkeypatch.setitem(sys.modules, 'onnxruntime', None)
    with pytest.raises(ImportError, match=r'\.\[deploy\]'):
        ONNXRuntimeBackend(model)


def test_unknown_backend_and_misplaced_onnx(model, onnx_file):
    with pytest.raises(ValueError, match='unknown backend'):
        build_backend('tensorrt', model)
    with pytest.raises(ValueError, match='onnxruntime'):
        build_backend('pytorch', model, onnx_file=onnx_file)


def test_export_on_first_use_is_cached_beside_the_checkpoint(model,
                                                             tmp_path):
    pytest.importorskip('onnxruntime')
    ckpt = str(tmp_path / 'w.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    first = ONNXRuntimeBackend(model, checkpoint=ckpt)
    assert osp.dirname(first.onnx_file) == str(tmp_path)
    mtime = osp.getmtime(first.onnx_file)
    second = ONNXRuntimeBackend(model, checkpoint=ckpt)
    assert second.onnx_file == first.onnx_file
    assert osp.getmtime(second.onnx_file) == mtime  # reused, not re-export
    # a stale cache entry (same name, other weights) is caught by the check
    shutil.copy(first.onnx_file, str(tmp_path / 'keep.onnx'))
    with pytest.raises(ValueError, match='does not match'):
        ONNXRuntimeBackend(_model(2), onnx_file=str(tmp_path / 'keep.onnx'))


@pytest.mark.slow
def test_a_model_the_tracer_cannot_write_is_exported_with_a_free_batch(
        tmp_path):
    """mmseg's Fast-SCNN pools to bins that do not divide its maps: the
    cached export falls back to torch.export at the config's size, N
    free, and gives PyTorch's logits (segmentation only)."""
    pytest.importorskip('onnxruntime')
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(
        REPO, 'configs', 'fast_scnn',
        'fast_scnn_1xb8-45e_brain-tumor-320x320.py'))
    for t in cfg.test_pipeline:
        if t['type'] == 'Resize':
            t['scale'] = (160, 160)  # a 5x5 map at 1/32: bins of 2, 3, 6
    torch.manual_seed(0)
    peer = init_model(cfg)
    peer.init_weights()
    peer.eval()
    ckpt = str(tmp_path / 'peer.pth')
    torch.save(dict(state_dict=peer.state_dict()), ckpt)
    backend = ONNXRuntimeBackend(peer, checkpoint=ckpt)
    dims = backend.session.get_inputs()[0].shape
    assert isinstance(dims[0], str) and dims[1:] == [3, 160, 160]
    x = preprocessed_example(peer, (160, 160), num=2)
    out = backend(x)
    with torch.no_grad():
        ref = LogitsWrapper(peer)(x)
    assert len(out) == len(ref) == 1 and out[0].shape == (2, 2, 160, 160)
    assert torch.allclose(out[0], ref[0], atol=1e-3)


@pytest.mark.slow
def test_compile_backend_gives_pytorch_logits(model):
    x = preprocessed_example(model, (64, 64))
    ref = PyTorchBackend(model)(x)
    backend = build_backend('compile', model)
    assert backend.name == 'compile'
    for a, b in zip(backend(x), ref):
        assert torch.allclose(a, b, atol=1e-4)


@pytest.mark.parametrize('damage', ['truncate', 'garbage'])
def test_a_damaged_cached_export_is_moved_aside_and_rebuilt(
        model, tmp_path, damage):
    pytest.importorskip('onnxruntime')
    ckpt = str(tmp_path / 'w.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    cached = ONNXRuntimeBackend(model, checkpoint=ckpt).onnx_file
    good = open(cached, 'rb').read()
    bad = good[:len(good) // 2] if damage == 'truncate' else \
        b'not onnx' * 1000
    with open(cached, 'wb') as f:
        f.write(bad)
    healed = ONNXRuntimeBackend(model, checkpoint=ckpt)
    assert healed.onnx_file == cached
    assert open(cached + '.corrupt', 'rb').read() == bad
    x = preprocessed_example(model, (64, 64))
    for a, b in zip(healed(x), PyTorchBackend(model)(x)):
        assert torch.allclose(a, b, atol=1e-4)


def test_a_cached_export_of_other_weights_is_rebuilt(model, tmp_path):
    pytest.importorskip('onnxruntime')
    ckpt = str(tmp_path / 'w.pth')
    torch.save(dict(state_dict=model.state_dict()), ckpt)
    cached = ONNXRuntimeBackend(model, checkpoint=ckpt).onnx_file
    export_onnx(_model(3), cached, (96, 96))  # readable, but wrong
    healed = ONNXRuntimeBackend(model, checkpoint=ckpt)
    x = preprocessed_example(model, (64, 64))
    assert torch.allclose(healed(x)[0], PyTorchBackend(model)(x)[0],
                          atol=1e-4)


def test_a_file_the_user_named_is_never_rebuilt(model, onnx_file, tmp_path):
    corrupt = tmp_path / 'mine.onnx'
    corrupt.write_bytes(open(onnx_file, 'rb').read()[:5000])
    with pytest.raises(ValueError, match='mine.onnx') as e:
        ONNXRuntimeBackend(model, str(corrupt))
    assert '\n' not in str(e.value)
    assert corrupt.read_bytes() == open(onnx_file, 'rb').read()[:5000]
    assert not osp.exists(str(corrupt) + '.corrupt')


def test_time_backends_waits_for_the_other_session_to_settle(monkeypatch):
    from mtnet_plugin.apis import backends
    clock = FakeClock()
    monkeypatch.setattr(backends, 'time', clock)
    fns = {n: SpinningBackend(clock, n, cost)
           for n, cost in (('fp32', 0.005), ('int8', 0.004))}
    ms = backends.time_backends(fns, torch.zeros(1))
    assert ms == pytest.approx({'fp32': 5.0, 'int8': 4.0})
    # without the pause and the untimed calls, the neighbour's spinning
    # threads are timed too: both slower, and by more than the gap
    ms = backends.time_backends(fns, torch.zeros(1), warmup=0, block=1,
                                settle_s=0)
    assert ms == pytest.approx({'fp32': 15.0, 'int8': 14.0})
