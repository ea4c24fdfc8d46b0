"""get_flops and benchmark (short runs; speed targets live in benchmarks)."""
import os.path as osp
import time

import pytest
import torch
from mmengine.config import Config

from ..conftest import REPO, load_tool


get_flops = load_tool('analysis_tools/get_flops.py')
benchmark = load_tool('analysis_tools/benchmark.py')
CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet_640.py')


def test_budget_at_640_and_groups_add_up():
    r = get_flops.count(Config.fromfile(CONFIG), (640, 640))
    assert r['params_inference'] <= 1.5e6
    assert r['params_total'] > r['params_inference']  # aux heads exist
    assert r['macs'] <= 2.0e9
    assert set(r['groups']) == {
        'backbone', 'neck', 'segmentation branch', 'classification branch',
        'other (functional resizes)'
    }
    assert sum(r['groups'].values()) == pytest.approx(r['macs'], rel=1e-6)
    assert all(v > 0 for v in r['groups'].values())
    assert r['groups']['other (functional resizes)'] < 0.01 * r['macs']
    assert 'aten::bmm' not in r['unsupported']  # NMF products are counted


def test_nmf_matrix_products_are_counted():
    cfg = Config.fromfile(CONFIG)
    base = get_flops.count(cfg, (256, 256))['groups']['segmentation branch']
    steps = cfg.model.decode_head.ham_kwargs['eval_steps']
    cfg.model.decode_head.ham_kwargs = dict(
        cfg.model.decode_head.ham_kwargs, eval_steps=steps + 7)
    more = get_flops.count(cfg, (256, 256))['groups']['segmentation branch']
    # 7 more NMF steps on a 64 x 1024 map with rank 16: each has two
    # (D x N) @ (N x R) products (64 * 1024 * 16 multiply-adds each) and
    # four small ones (N*R*R twice, D*R*R twice)
    step = 2 * 64 * 1024 * 16 + 2 * 1024 * 16 * 16 + 2 * 64 * 16 * 16
    assert more - base == pytest.approx(7 * step, rel=0.01)


class _Sleeper:
    """A backend whose call takes a known time."""

    def __init__(self, seconds):
        self.seconds = seconds

    def __call__(self, x):
        time.sleep(self.seconds)
        return x


def test_benchmark_times_the_forward_and_keeps_the_pair_apart():
    stats = benchmark.run(
        dict(model=_Sleeper(0.02), compare=_Sleeper(0.06)), (8, 8),
        batch=4, device='cpu', repeat=5, warmup=1)
    fast, slow = stats['model'], stats['compare']
    assert 20 <= fast['median_ms'] < 35
    assert 60 <= slow['median_ms'] < 80
    assert fast['median_ms'] <= fast['p90_ms']
    # 4 images per forward
    assert 4000 / 35 < fast['images_per_s'] <= 4000 / 20


def test_benchmark_builds_inference_models_only():
    a = benchmark.build(CONFIG)
    assert not hasattr(a, 'auxiliary_head')  # training-only heads dropped


def test_benchmark_backends_and_folder(tmp_path, capsys):
    """Every backend is timed in one run, and the infer CLI's images/s on a
    folder is parsed from real runs of tools/infer.py."""
    pytest.importorskip('onnxruntime')
    from mtnet_plugin.apis import init_model
    from mtnet_plugin.datasets.synthetic_mri import generate_dataset
    demo = osp.join(REPO, 'configs', 'efficient_mtnet',
                  'efficient_mtnet_1xb8-12e_synthetic-256x256.py')
    ckpt = str(tmp_path / 'w.pth')
    torch.save(dict(state_dict=init_model(demo).state_dict()), ckpt)
    generate_dataset(str(tmp_path / 'd'), dict(test=4), size=96, seed=0)
    benchmark.main([
        demo, ckpt, '--shape', '64', '64', '--repeat', '3', '--warmup', '1',
        '--backend', 'pytorch', 'onnxruntime', '--threads', '2',
        '--folder', str(tmp_path / 'd' / 'test'), '--folder-runs', '1'
    ])
    out = capsys.readouterr().out
    for name in ('pytorch', 'onnxruntime'):
        assert f'[{name}]: median' in out
        line = [ln for ln in out.splitlines()
                if f'--backend {name} --batch-size 8' in ln]
        assert len(line) == 1
        rate = float(line[0].split('median ')[1].split(' images/s')[0])
        assert rate > 0


def test_benchmark_runs_the_peer_through_the_same_backends(
        shipped, synthetic_root, tmp_path, capsys):
    """--compare: Fast-SCNN is exported (fp32 and int8) and timed on each
    backend of the model, and the ratios are per backend."""
    pytest.importorskip('onnxruntime')
    import shutil
    config, ckpt = shipped
    copy = str(tmp_path / osp.basename(ckpt))
    shutil.copy(ckpt, copy)  # exports are cached beside it
    peer = osp.join(REPO, 'configs', 'fast_scnn',
                    'fast_scnn_brain-tumor-640x640.py')
    benchmark.main([
        config, copy, '--shape', '128', '128', '--repeat', '2', '--warmup',
        '1', '--block', '1', '--threads', '2', '--backend', 'onnxruntime',
        'onnxruntime-int8', '--compare', peer, '--calib-images',
        osp.join(synthetic_root, 'train'), '--num-calib', '4'
    ])
    out = capsys.readouterr().out
    for name in ('onnxruntime', 'onnxruntime-int8'):
        assert f'{peer} [{name}]: median' in out
        assert f'ratio [{name}] / compare [{name}] (medians)' in out
    assert 'ratio [onnxruntime-int8] / [onnxruntime] (medians)' in out
    with pytest.raises(SystemExit):  # the peer's export is batch 1
        benchmark.parse_args([config, '--batch-size', '4', '--backend',
                              'onnxruntime', '--compare', peer])


def test_benchmark_times_several_peers_with_their_weights(
        shipped, tmp_path, capsys):
    """--compare takes several peers and --compare-checkpoint their
    weights ('none': random), loaded strictly; every peer gets its own
    line and ratio."""
    pytest.importorskip('onnxruntime')
    import shutil

    from mmseg.registry import MODELS

    from mtnet_plugin.utils import CheckpointMismatchError
    config, ckpt = shipped
    copy = str(tmp_path / osp.basename(ckpt))
    shutil.copy(ckpt, copy)
    peers = [osp.join(REPO, 'configs', 'fast_scnn', n) for n in (
        'fast_scnn_brain-tumor-640x640.py',
        'fast_scnn_1xb8-45e_brain-tumor-320x320.py')]
    weights = str(tmp_path / 'peer.pth')
    torch.save(dict(state_dict=MODELS.build(
        Config.fromfile(peers[1]).model).state_dict()), weights)
    with pytest.raises(SystemExit):  # one checkpoint per peer
        benchmark.parse_args([config, '--compare', *peers,
                              '--compare-checkpoint', weights])
    common = [config, copy, '--shape', '64', '64', '--repeat', '2',
              '--warmup', '1', '--block', '1', '--threads', '1',
              '--backend', 'onnxruntime']
    benchmark.main(common + ['--compare', *peers, '--compare-checkpoint',
                             'none', weights])
    out = capsys.readouterr().out
    for peer in peers:
        assert f'{peer} [onnxruntime]: median' in out
    assert 'ratio [onnxruntime] / compare [onnxruntime]' in out
    assert 'ratio [onnxruntime] / compare2 [onnxruntime]' in out
    # our checkpoint given as the peer's is refused, naming it
    with pytest.raises(CheckpointMismatchError, match=osp.basename(copy)):
        benchmark.main(common + ['--compare', peers[1],
                                 '--compare-checkpoint', copy])


def test_profile_onnx_splits_the_time_by_operator(tmp_path, capsys):
    pytest.importorskip('onnxruntime')
    from mmseg.registry import MODELS

    from mtnet_plugin.apis import export_onnx
    model = MODELS.build(Config.fromfile(osp.join(
        REPO, 'configs', '_base_', 'models', 'efficient_mtnet.py')).model)
    model.eval()
    onnx_file = export_onnx(model, str(tmp_path / 'm.onnx'), (64, 64))
    tool = load_tool('analysis_tools/profile_onnx.py')
    p = tool.main([onnx_file, '--shape', '64', '64', '--runs', '3',
                   '--threads', '1'])
    assert p['total_ms'] > 0
    assert sum(p['by_op'].values()) == pytest.approx(p['total_ms'])
    assert sum(p['by_node'].values()) == pytest.approx(p['total_ms'])
    assert 'Conv' in p['by_op']  # the largest share on an idle machine
    assert any(n.startswith('/backbone/') for n in p['by_node'])
    out = capsys.readouterr().out
    assert 'ms of node time per run' in out and 'Conv' in out


def test_without_takes_out_what_it_names():
    """Each part of --without leaves the rest of the network as it was:
    no SE gate, no NMF, no class output, or a 1/8 prediction."""
    from mmseg.models.utils import SELayer

    from mtnet_plugin.models.utils import DeterministicHamburger
    model = benchmark.build(CONFIG).eval()
    x = torch.randn(1, 3, 64, 64)

    def count(m, kind):
        return sum(isinstance(c, kind) for c in m.modules())

    assert count(model, SELayer) == 11
    no_se = benchmark.without(model, ['se'])
    assert count(no_se, SELayer) == 0 and count(model, SELayer) == 11
    no_nmf = benchmark.without(model, ['nmf'])
    hams = [m for m in no_nmf.modules()
            if isinstance(m, DeterministicHamburger)]
    assert len(hams) == 2 and all(
        isinstance(h.ham, torch.nn.Identity) for h in hams)
    with torch.no_grad():
        seg, cls = model._forward(x)
        assert not torch.equal(no_se._forward(x)[0], seg)
        assert isinstance(benchmark.without(model, ['cls'])._forward(x),
                          torch.Tensor)
        up = benchmark.without(model, ['up'])._forward(x)[0]
        both = benchmark.without(model, ['se', 'nmf'])
    assert seg.shape[-1] == 16 and up.shape[-1] == 8  # 1/4 -> 1/8
    assert count(both, SELayer) == 0
    with pytest.raises(ValueError, match='unknown part'):
        benchmark.without(model, ['attention'])


def test_without_cls_survives_a_deep_copy():
    """The ONNX export deep-copies the model: the copy of a 'cls' variant
    must run its own weights (a closure over the original made the export
    fail with 'a Tensor that requires grad as a constant')."""
    import copy
    variant = benchmark.without(benchmark.build(CONFIG).eval(), ['cls'])
    twin = copy.deepcopy(variant)
    assert twin._forward.__self__ is twin
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        before = twin._forward(x)
        for p in twin.decode_head.conv_seg.parameters():
            p.add_(1.0)
        assert not torch.equal(twin._forward(x), before)
        assert torch.equal(variant._forward(x), before)


def test_without_up_also_takes_out_the_skip_connection():
    """With a 1/4 skip connection, 'up' leaves no skip conv behind: the
    variant predicts at 1/8 and runs."""
    skip_cfg = osp.join(
        REPO, 'configs', 'efficient_mtnet',
        'efficient_mtnet_1xb8-boxaux-skip4-45e_brain-tumor-320x320.py')
    model = benchmark.build(skip_cfg).eval()
    assert len(model.decode_head.skip_convs) == 1
    up = benchmark.without(model, ['up'])
    assert not len(up.decode_head.skip_convs)
    with torch.no_grad():
        assert up._forward(torch.randn(1, 3, 64, 64))[0].shape[-1] == 8


def test_without_variants_are_timed_beside_the_model(capsys):
    pytest.importorskip('onnxruntime')
    benchmark.main([
        CONFIG, '--shape', '64', '64', '--repeat', '2', '--warmup', '1',
        '--block', '1', '--threads', '2', '--backend', 'onnxruntime',
        '--without', 'se', 'se+nmf'
    ])
    out = capsys.readouterr().out
    for entry in ('se', 'se+nmf'):
        assert f'[onnxruntime without={entry}]: median' in out
        assert f'ratio [onnxruntime without={entry}] / [onnxruntime]' in out
    with pytest.raises(SystemExit):  # float variants only
        benchmark.parse_args([CONFIG, '--backend', 'onnxruntime-int8',
                              '--without', 'se'])


def test_benchmark_pauses_before_each_models_block(monkeypatch):
    """The rotation waits ``settle`` s before each model's calls, so the
    previous model's onnxruntime threads are idle: with a fake clock and
    backends that are slow while another one spun less than 40 ms ago, the
    medians are the backends' own costs only with the pause."""
    from ..timing_fakes import FakeClock, SpinningBackend
    clock = FakeClock()
    monkeypatch.setattr(benchmark, 'time', clock)

    def medians(**kw):
        fns = {n: SpinningBackend(clock, n, cost)
               for n, cost in (('model', 0.005), ('compare', 0.006))}
        stats = benchmark.run(fns, (8, 8), 1, 'cpu', repeat=10, warmup=1,
                              **kw)
        return {n: s['median_ms'] for n, s in stats.items()}

    assert medians(block=5, settle=0.05) == pytest.approx(
        dict(model=5.0, compare=6.0))
    slowed = medians(block=1, settle=0.0)
    assert slowed == pytest.approx(dict(model=15.0, compare=16.0))
