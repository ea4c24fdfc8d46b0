"""int8 quantization: the float islands stay float, a graph that quantizes
them is refused, the cache is keyed by the calibration set and settings,
and ``auto`` runs int8 only where a validation record matches."""
import json
import logging
import os
import os.path as osp
import shutil

import pytest
import torch

from mtnet_plugin.apis import (ONNXRuntimeBackend, ONNXRuntimeInt8Backend,
                               TumorInferencer,
                               build_backend, default_backend, init_model)
from mtnet_plugin.apis.backends import calibration_images
from mtnet_plugin.apis.inference import preprocessed_example
from mtnet_plugin.apis.onnx_export import file_sha256
from mtnet_plugin.apis.onnx_quantize import (FLOAT_ISLANDS, calibration_key,
                                             check_float_islands, int8_kernels,
                                             int8_record_path, is_quantized,
                                             island_nodes, quantized_islands)

from ..conftest import shipped_checkpoint

pytest.importorskip('onnxruntime')
onnx = pytest.importorskip('onnx')


@pytest.fixture(scope='module')
def shipped_copy(tmp_path_factory):
    """(config, a copy of the shipped checkpoint in a temporary folder): the
    exports and int8 files are cached beside it, not in checkpoints/."""
    found = shipped_checkpoint()
    if found is None:
        pytest.skip('no shipped checkpoint')
    config, ckpt = found
    folder = tmp_path_factory.mktemp('int8')
    copy = str(folder / osp.basename(ckpt))
    shutil.copy(ckpt, copy)
    return config, copy


@pytest.fixture(scope='module')
def model(shipped_copy):
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    return init_model(*shipped_copy)


def _options(synthetic_root, **kw):
    return dict(calib_images=osp.join(synthetic_root, 'train'), num_calib=8,
                **kw)


@pytest.fixture(scope='module')
def int8(model, shipped_copy, synthetic_root):
    """The int8 backend of the shipped weights, default islands, calibrated
    on 8 synthetic slices."""
    return build_backend('onnxruntime-int8', model,
                         checkpoint=shipped_copy[1],
                         int8_options=_options(synthetic_root))


@pytest.fixture(scope='module')
def all_int8(model, shipped_copy, synthetic_root):
    """The same with every node quantized (no float island)."""
    return build_backend('onnxruntime-int8', model,
                         checkpoint=shipped_copy[1],
                         int8_options=_options(synthetic_root,
                                               float_islands=()))


def test_islands_are_found_in_the_export(int8):
    proto = onnx.load(int8.onnx_file)
    found = island_nodes(proto, FLOAT_ISLANDS)
    # both Hamburgers' NMF, the head's FCs, the one resize to seg_logits
    assert sum('/cls_head/' not in n for n in found['nmf']) > 10
    assert sum(n.startswith('/cls_head/hamburger/ham/')
               for n in found['nmf']) > 10
    assert any(n.endswith('Gemm') for n in found['cls_head'])
    assert len(found['final_resize']) == 1
    assert found['stem'] == ['/backbone/learning_to_downsample/conv/conv/Conv']
    with pytest.raises(ValueError, match='unknown float islands'):
        island_nodes(proto, ['backbone'])


def test_default_file_keeps_the_islands_float_and_quantizes_the_rest(int8):
    proto = onnx.load(int8.onnx_file)
    assert is_quantized(int8.onnx_file)
    assert all(not v for v in quantized_islands(proto).values())
    check_float_islands(int8.onnx_file)  # no error
    # the backbone's convolutions read int8 weights (but the stem)
    init = {t.name for t in proto.graph.initializer}
    dq_weights = {
        n.output[0] for n in proto.graph.node
        if n.op_type == 'DequantizeLinear' and n.input[0] in init
    }
    convs = [n for n in proto.graph.node
             if n.op_type == 'Conv' and n.name.startswith('/backbone/')
             and n.input[0] != 'input']
    assert convs and all(n.input[1] in dq_weights for n in convs)


def test_a_graph_quantizing_the_islands_is_refused(all_int8, model):
    proto = onnx.load(all_int8.onnx_file)
    bad = quantized_islands(proto)
    assert bad['stem'] and bad['nmf'] and bad['final_resize'] and \
        bad['cls_head']
    with pytest.raises(ValueError,
                       match=r'quantizes what must stay float \(stem'):
        check_float_islands(all_int8.onnx_file)
    # and the backend will not run it as the default int8 file
    with pytest.raises(ValueError, match=osp.basename(all_int8.onnx_file)):
        ONNXRuntimeInt8Backend(model, onnx_file=all_int8.onnx_file)


def test_a_float_file_is_not_an_int8_file(int8, model, shipped_copy):
    fp32 = build_backend('onnxruntime', model, checkpoint=shipped_copy[1])
    assert not is_quantized(fp32.onnx_file)
    with pytest.raises(ValueError, match='not an int8'):
        ONNXRuntimeInt8Backend(model, onnx_file=fp32.onnx_file)


def test_int8_agrees_with_fp32_on_slices(int8, model, shipped_copy,
                                         synthetic_root):
    paths = TumorInferencer.list_images(osp.join(synthetic_root, 'valid'))
    fp32 = TumorInferencer(model, backend='onnxruntime',
                           checkpoint=None, num_workers=0)
    q = TumorInferencer(model, backend='onnxruntime-int8', num_workers=0,
                        onnx_file=int8.onnx_file)
    assert q.backend.name == 'onnxruntime-int8'
    for a, b in zip(fp32(paths), q(paths)):
        assert a['class_index'] == b['class_index']
        assert abs(a['class_probs'][1] - b['class_probs'][1]) < 0.1
        assert (a['mask'] == b['mask']).mean() > 0.98


def test_cache_is_keyed_by_calibration_set_and_settings(
        int8, model, shipped_copy, synthetic_root):
    again = build_backend('onnxruntime-int8', model,
                          checkpoint=shipped_copy[1],
                          int8_options=_options(synthetic_root))
    assert again.onnx_file == int8.onnx_file
    # the cache sits beside the float export, beside the checkpoint
    assert osp.dirname(int8.onnx_file) == osp.dirname(shipped_copy[1])
    settings = int8.settings
    paths = calibration_images(model.cfg, osp.join(synthetic_root, 'train'),
                               8)
    key = calibration_key(paths, settings)
    assert key == int8.calibration_key
    assert calibration_key(paths[:-1], settings) != key
    assert calibration_key(paths, dict(settings, method='percentile')) != key
    assert calibration_key(paths[::-1], settings) != key


def test_calibration_images_missing_say_what_to_do(model):
    cfg = model.cfg.copy()
    cfg.train_dataloader.dataset.data_root = '/nowhere'
    with pytest.raises(FileNotFoundError, match='calib'):
        calibration_images(cfg)
    with pytest.raises(FileNotFoundError, match='/nowhere/x'):
        calibration_images(cfg, '/nowhere/x')


def test_auto_runs_int8_only_where_a_record_matches(int8, model,
                                                    shipped_copy,
                                                    synthetic_root,
                                                    tmp_path):
    ckpt = str(tmp_path / 'w.pth')
    shutil.copy(shipped_copy[1], ckpt)
    cfg = model.cfg.copy()
    cfg.train_dataloader.dataset.data_root = synthetic_root
    cfg.train_dataloader.dataset.data_prefix = dict(img_path='train')
    settings = ONNXRuntimeInt8Backend.default_settings()
    key = calibration_key(calibration_images(cfg, None, 64), settings)
    record = dict(checkpoint_sha256=file_sha256(ckpt), settings=settings,
                  calibration_key=key, meets_rule=True, dataset='valid',
                  fp32=dict(tumor_Dice=75.4, accuracy=99.3),
                  int8=dict(tumor_Dice=75.3, accuracy=99.3))

    def auto(rec):
        if rec is not None:
            with open(int8_record_path(ckpt), 'w') as f:
                json.dump(rec, f)
        return default_backend('cpu', ckpt, cfg)

    assert auto(None) == 'onnxruntime'  # no record
    assert auto(record) == 'onnxruntime-int8'
    assert auto(dict(record, meets_rule=False)) == 'onnxruntime'
    assert auto(dict(record, checkpoint_sha256='0' * 64)) == 'onnxruntime'
    assert auto(dict(record, calibration_key='f' * 64)) == 'onnxruntime'
    assert auto(dict(record, settings=dict(settings, num_calib=16))) == \
        'onnxruntime'
    # a record names the int8 kernels it was made with; another class of
    # kernels rounds differently, so its record does not count here
    here = int8_kernels()
    assert auto(dict(record, int8_kernels=here)) == 'onnxruntime-int8'
    other = 'avx2' if here != 'avx2' else 'vnni'
    assert auto(dict(record, int8_kernels=other)) == 'onnxruntime'
    cfg.train_dataloader.dataset.data_root = '/nowhere'
    assert auto(record) == 'onnxruntime'  # cannot calibrate here
    assert default_backend('cuda:0', ckpt, cfg) == 'pytorch'


def test_int8_kernels_by_how_the_cpu_sums_int8_products():
    # an AVX-512 VNNI/AMX Xeon, a Zen 3 EPYC (AVX2 only), a client CPU with
    # AVX-VNNI and no AVX-512, a Neoverse with dot products, an old x86
    assert int8_kernels(['avx2', 'avx512f', 'avx512_vnni', 'amx_int8']) \
        == 'vnni'
    assert int8_kernels(['sse4_2', 'avx', 'avx2', 'fma']) == 'avx2'
    assert int8_kernels(['avx2', 'avx_vnni']) == 'vnni'
    assert int8_kernels(['fp', 'asimd', 'asimddp']) == 'arm-dot'
    assert int8_kernels(['sse4_2']) == 'other'
    assert int8_kernels() in ('vnni', 'avx2', 'arm-dot', 'other')


def test_a_record_of_other_kernels_is_refused_by_name(tmp_path,
                                                      monkeypatch):
    from mtnet_plugin.apis import onnx_quantize
    ckpt = tmp_path / 'w.pth'
    ckpt.write_bytes(b'weights')
    record = dict(checkpoint_sha256=file_sha256(str(ckpt)), settings={},
                  calibration_key='k', meets_rule=True, dataset='valid',
                  int8_kernels='vnni', command='python compare_backends.py',
                  fp32=dict(tumor_Dice=79.95, accuracy=99.3),
                  int8=dict(tumor_Dice=79.95, accuracy=99.3))
    with open(int8_record_path(str(ckpt)), 'w') as f:
        json.dump(record, f)
    monkeypatch.setattr(onnx_quantize, 'int8_kernels', lambda: 'avx2')
    ok, why = onnx_quantize.read_int8_record(str(ckpt), {}, 'k')
    assert not ok
    assert 'vnni' in why and 'avx2' in why and 'compare_backends' in why
    monkeypatch.setattr(onnx_quantize, 'int8_kernels', lambda: 'vnni')
    ok, why = onnx_quantize.read_int8_record(str(ckpt), {}, 'k')
    assert ok and 'with vnni kernels' in why


def test_each_class_of_int8_kernels_reads_its_own_record(tmp_path,
                                                         monkeypatch):
    """A record per class: validating on an AVX2 CPU (rule met there)
    keeps the VNNI CPU's record (rule missed there), and each CPU reads
    its own; a record written before records named a class is read only
    where no record of this class exists."""
    from mtnet_plugin.apis import onnx_quantize
    ckpt = str(tmp_path / 'w.pth')
    with open(ckpt, 'wb') as f:
        f.write(b'weights')
    base = dict(checkpoint_sha256=file_sha256(ckpt), settings={},
                calibration_key='k', dataset='valid',
                fp32=dict(tumor_Dice=79.95, accuracy=99.3),
                int8=dict(tumor_Dice=79.85, accuracy=99.3))
    for kernels, met in (('vnni', False), ('avx2', True)):
        path = int8_record_path(ckpt, kernels)
        assert path.endswith(f'w.int8-valid-{kernels}.json')
        with open(path, 'w') as f:
            json.dump(dict(base, int8_kernels=kernels, meets_rule=met), f)
    for kernels, met in (('vnni', False), ('avx2', True)):
        monkeypatch.setattr(onnx_quantize, 'int8_kernels', lambda: kernels)
        assert onnx_quantize.find_int8_record(ckpt) == \
            int8_record_path(ckpt, kernels)
        ok, why = onnx_quantize.read_int8_record(ckpt, {}, 'k')
        assert ok is met and f'-{kernels}.json' in why
    # an Arm CPU has no record of its class: the old record without one
    monkeypatch.setattr(onnx_quantize, 'int8_kernels', lambda: 'arm-dot')
    ok, why = onnx_quantize.read_int8_record(ckpt, {}, 'k')
    assert not ok and 'arm-dot' in why and 'int8-valid-arm-dot' in why
    with open(int8_record_path(ckpt), 'w') as f:
        json.dump(dict(base, meets_rule=True), f)
    assert onnx_quantize.find_int8_record(ckpt) == int8_record_path(ckpt)
    ok, why = onnx_quantize.read_int8_record(ckpt, {}, 'k')
    assert ok and why.endswith(f'({int8_record_path(ckpt)})')


def test_misplaced_int8_options(model):
    with pytest.raises(ValueError, match='int8_options'):
        build_backend('onnxruntime', model, int8_options=dict(num_calib=4))


def test_a_truncated_int8_cache_is_moved_aside_and_rebuilt(
        int8, model, shipped_copy, synthetic_root, current_logger):
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    current_logger.addHandler(handler)
    good = open(int8.onnx_file, 'rb').read()
    with open(int8.onnx_file, 'wb') as f:
        f.write(good[:len(good) // 3])  # a copy cut short
    healed = build_backend('onnxruntime-int8', model,
                           checkpoint=shipped_copy[1],
                           int8_options=_options(synthetic_root))
    assert healed.onnx_file == int8.onnx_file
    assert osp.getsize(healed.onnx_file) > len(good) // 3
    check_float_islands(healed.onnx_file)
    assert open(int8.onnx_file + '.corrupt', 'rb').read() == \
        good[:len(good) // 3]
    said = [r.getMessage() for r in records if 'unusable' in r.getMessage()]
    assert len(said) == 1 and int8.onnx_file in said[0]
    assert 'rebuilt' in said[0]
    x = preprocessed_example(model, (64, 64))
    assert torch.equal(healed(x)[1].argmax(1), int8(x)[1].argmax(1))


def test_a_truncated_fp32_cache_under_int8_is_exported_again(
        int8, model, shipped_copy, synthetic_root, current_logger):
    fp32 = ONNXRuntimeBackend(model, checkpoint=shipped_copy[1]).onnx_file
    good = open(fp32, 'rb').read()
    with open(fp32, 'wb') as f:
        f.write(good[:4000])
    os.remove(int8.onnx_file)  # its int8 file must be quantized again
    healed = build_backend('onnxruntime-int8', model,
                           checkpoint=shipped_copy[1],
                           int8_options=_options(synthetic_root))
    assert osp.isfile(healed.onnx_file)
    assert onnx.load(fp32) is not None  # readable again
    assert osp.isfile(fp32 + '.corrupt')


@pytest.fixture
def auto_setup(model, shipped_copy, synthetic_root, tmp_path, monkeypatch):
    """A checkpoint whose int8 record matches (calibration on the synthetic
    train/ split), and ``auto``'s timings kept under tmp_path."""
    from mtnet_plugin.apis import backends
    ckpt = str(tmp_path / 'w.pth')
    shutil.copy(shipped_copy[1], ckpt)
    cfg = model.cfg.copy()
    cfg.train_dataloader.dataset.data_root = synthetic_root
    cfg.train_dataloader.dataset.data_prefix = dict(img_path='train')
    monkeypatch.setattr(model, 'cfg', cfg)
    settings = ONNXRuntimeInt8Backend.default_settings()
    key = calibration_key(calibration_images(cfg, None, 64), settings)
    with open(int8_record_path(ckpt), 'w') as f:
        json.dump(dict(checkpoint_sha256=file_sha256(ckpt), settings=settings,
                       calibration_key=key, meets_rule=True,
                       dataset='valid',
                       fp32=dict(tumor_Dice=75.4, accuracy=99.3),
                       int8=dict(tumor_Dice=75.3, accuracy=99.3)), f)
    monkeypatch.setattr(backends, 'AUTO_TIMINGS',
                        str(tmp_path / 'auto_backend.json'))
    return backends, ckpt


def _said(records, text):
    return [r.getMessage() for r in records if text in r.getMessage()]


def test_auto_runs_int8_only_where_it_is_faster_on_this_cpu(
        auto_setup, model, monkeypatch, current_logger):
    backends, ckpt = auto_setup
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    current_logger.addHandler(handler)
    calls = []

    def fake(ms):
        def time_backends(b, inputs, **kw):
            calls.append(sorted(b))
            assert tuple(inputs.shape[-2:]) == (320, 320)  # config's size
            return dict(ms)
        return time_backends

    # int8 slower here: fp32 runs, and the line gives both timings
    monkeypatch.setattr(backends, 'time_backends',
                        fake({'onnxruntime': 5.0, 'onnxruntime-int8': 6.0}))
    chosen = build_backend('auto', model, checkpoint=ckpt)
    assert chosen.name == 'onnxruntime' and len(calls) == 1
    (line, ) = _said(records, 'backend auto ->')
    assert 'int8 6.00 ms vs fp32 5.00 ms' in line and 'timed now' in line
    assert backends.cpu_model() in line
    # the timing is kept per CPU model: not timed again
    monkeypatch.setattr(backends, 'time_backends', None)  # would fail
    assert build_backend('auto', model, checkpoint=ckpt).name == \
        'onnxruntime'
    assert 'timed earlier' in _said(records, 'backend auto ->')[-1]
    # another CPU model where int8 is faster: timed, int8 runs
    monkeypatch.setattr(backends, 'cpu_model', lambda: 'Other CPU')
    monkeypatch.setattr(backends, 'time_backends',
                        fake({'onnxruntime': 5.0, 'onnxruntime-int8': 3.0}))
    assert build_backend('auto', model, checkpoint=ckpt).name == \
        'onnxruntime-int8'
    assert len(calls) == 2
    # a gain inside the timing spread does not count as faster
    monkeypatch.setattr(backends, 'cpu_model', lambda: 'Third CPU')
    monkeypatch.setattr(backends, 'time_backends',
                        fake({'onnxruntime': 5.0, 'onnxruntime-int8': 4.9}))
    assert build_backend('auto', model, checkpoint=ckpt).name == \
        'onnxruntime'
    kept = json.load(open(backends.AUTO_TIMINGS))
    assert len(kept) == 3 and all('|320x320' in k for k in kept)


def test_auto_timings_damaged_are_timed_again(auto_setup, model,
                                              monkeypatch):
    backends, ckpt = auto_setup
    with open(backends.AUTO_TIMINGS, 'w') as f:
        f.write('{not json')
    monkeypatch.setattr(
        backends, 'time_backends',
        lambda b, inputs, **kw: {'onnxruntime': 4.0,
                                 'onnxruntime-int8': 2.0})
    assert build_backend('auto', model, checkpoint=ckpt).name == \
        'onnxruntime-int8'
    assert len(json.load(open(backends.AUTO_TIMINGS))) == 1


def test_time_backends_takes_turns_and_times_the_block_only(monkeypatch):
    from mtnet_plugin.apis import backends
    order, slept = [], []
    clock = iter(range(0, 10000))
    monkeypatch.setattr(backends.time, 'perf_counter',
                        lambda: next(clock) / 1000)
    monkeypatch.setattr(backends.time, 'sleep', slept.append)
    out = backends.time_backends(
        dict(a=lambda x: order.append('a'), b=lambda x: order.append('b')),
        None, rounds=3, block=2, warmup=1, settle_s=0.05)
    # each turn: a pause, one untimed and two timed calls; turns alternate
    assert order == (['a'] * 3 + ['b'] * 3) * 3
    assert slept == [0.05] * 6
    assert out == dict(a=1.0, b=1.0)  # one fake millisecond per timed call
