"""get_flops and benchmark (short runs; speed targets live in benchmarks)."""
import importlib.util
import os.path as osp

import pytest
from mmengine.config import Config

from ..conftest import REPO


def _load(name, rel):
    spec = importlib.util.spec_from_file_location(name, osp.join(REPO, rel))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


get_flops = _load('get_flops', 'tools/analysis_tools/get_flops.py')
benchmark = _load('benchmark', 'tools/analysis_tools/benchmark.py')
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
    cfg.model.decode_head.ham_kwargs = dict(
        cfg.model.decode_head.ham_kwargs, eval_steps=14)
    more = get_flops.count(cfg, (256, 256))['groups']['segmentation branch']
    # 7 more NMF steps on a 64 x 1024 map with rank 16: each has two
    # (D x N) @ (N x R) products (64 * 1024 * 16 multiply-adds each) and
    # four small ones (N*R*R twice, D*R*R twice)
    step = 2 * 64 * 1024 * 16 + 2 * 1024 * 16 * 16 + 2 * 64 * 16 * 16
    assert more - base == pytest.approx(7 * step, rel=0.01)


def test_benchmark_short_run_with_compare():
    a = benchmark.build(CONFIG)
    b = benchmark.build(osp.join(REPO, 'configs', 'fast_scnn_peer_640.py'))
    stats = benchmark.run(dict(model=a, compare=b), (128, 128), batch=2,
                          device='cpu', repeat=3, warmup=1)
    for s in stats.values():
        assert 0 < s['median_ms'] <= s['p90_ms']
        assert s['images_per_s'] == pytest.approx(
            2000 / s['median_ms'], rel=1e-6)
    assert not hasattr(a, 'auxiliary_head')  # training-only heads dropped
