"""The browser page (onnxruntime-web): built from a config and checkpoint,
run in headless Chromium by tools/deployment/browser_infer.py, it gives
tools/infer.py's results, keeps its requests on its origin and survives bad
files."""
import json
import os
import os.path as osp
import shutil
import urllib.request

import cv2
import numpy as np
import pytest
import torch

from ..conftest import REPO, load_tool

pytest.importorskip('onnxruntime')
pytest.importorskip('selenium')


def _need_browser():
    helpers = load_tool('misc/webdemo_browser.py')
    if None in helpers.find_chrome():
        pytest.skip('Chromium/chromedriver absent (make browser installs '
                    'them)')


@pytest.fixture(scope='module')
def page(shipped, synthetic_root, tmp_path_factory):
    """The page of (a copy of) the shipped weights, fp32 and int8."""
    from mtnet_plugin.apis import init_model
    from mtnet_plugin.webdemo.browser_page import build_page
    config, ckpt = shipped
    folder = tmp_path_factory.mktemp('page_weights')
    copy = str(folder / osp.basename(ckpt))
    shutil.copy(ckpt, copy)
    out = str(tmp_path_factory.mktemp('page') / 'page')
    try:
        built = build_page(init_model(config, copy), copy, out, int8=True,
                           int8_options=dict(calib_images=osp.join(
                               synthetic_root, 'train'), num_calib=8))
    except RuntimeError as e:  # no npm, no registry
        pytest.skip(str(e))
    return config, copy, out, built


@pytest.fixture(scope='module')
def slices(synthetic_root, tmp_path_factory):
    """A few slices (real valid/ ones where the data is here), then a
    corrupt JPEG, a text file named .png, and one more good slice."""
    from ..conftest import REAL_DATA
    folder = tmp_path_factory.mktemp('slices')
    real = osp.join(REAL_DATA, 'valid')
    src = real if osp.isdir(real) else osp.join(synthetic_root, 'test')
    good = sorted(f for f in os.listdir(src) if f.endswith(('.jpg', '.png')))
    for i, name in enumerate(good[:4]):
        shutil.copy(osp.join(src, name), folder / f'{i}_{name}')
    (folder / '4_broken.jpg').write_bytes(b'\xff\xd8\xff\xe0 not a jpeg')
    (folder / '5_notes.png').write_text('not an image at all')
    shutil.copy(osp.join(src, good[4]), folder / f'6_{good[4]}')
    return str(folder)


def test_page_config_comes_from_the_config(page):
    from mmengine.config import Config
    config, copy, out, built = page
    cfg = Config.fromfile(config)
    on_disk = json.load(open(osp.join(out, 'page_config.json')))
    assert on_disk == built
    assert built['input_size'] == [320, 320]
    assert built['mean'] == list(cfg.model.data_preprocessor.mean)
    assert built['std'] == list(cfg.model.data_preprocessor.std)
    assert built['channel_order'] == 'rgb'
    assert built['cls_classes'] == ['0', '1']
    # the temperature stored with the weights, which calibration fitted
    state = torch.load(copy, map_location='cpu')['state_dict']
    assert built['temperature'] == pytest.approx(
        float(state['cls_temperature']), abs=1e-6)
    assert built['temperature'] != 1.0
    for name in ('index.html', 'app.js', 'model.onnx', 'model.int8.onnx',
                 'ort/ort.wasm.min.js', 'ort/ort-wasm-simd-threaded.wasm'):
        assert osp.isfile(osp.join(out, name)), name
    html = open(osp.join(out, 'index.html')).read()
    assert '://' not in html.replace('http://www.w3.org', '')  # no CDN


def test_page_server_sends_isolation_headers(page):
    from mtnet_plugin.webdemo.browser_page import serve_page
    server = serve_page(page[2])
    try:
        base = f'http://127.0.0.1:{server.server_address[1]}/'
        r = urllib.request.urlopen(base + 'ort/ort-wasm-simd-threaded.wasm')
        body = r.read()
        assert body[:4] == b'\0asm'  # a WebAssembly module, whole
        assert r.headers['Cross-Origin-Opener-Policy'] == 'same-origin'
        assert r.headers['Cross-Origin-Embedder-Policy'] == 'require-corp'
        assert r.headers['Content-Type'] == 'application/wasm'
    finally:
        server.shutdown()
    with pytest.raises(FileNotFoundError, match='build_browser_page'):
        serve_page(osp.dirname(page[2]))


def test_large_files_have_gzip_copies_served_to_who_accepts_them(page):
    """Each large file has a level-9 gzip copy with its exact bytes; the
    server sends the copy with Content-Encoding: gzip to a client that
    accepts gzip, the plain file to one that does not."""
    import gzip
    from mtnet_plugin.webdemo.browser_page import (GZIP_MIN_BYTES,
                                                   gzip_copies, serve_page)
    out = page[2]
    for name in ('model.onnx', 'model.int8.onnx', 'app.js',
                 'ort/ort-wasm-simd-threaded.wasm', 'ort/ort.wasm.min.js'):
        raw = open(osp.join(out, name), 'rb').read()
        assert gzip.decompress(
            open(osp.join(out, name + '.gz'), 'rb').read()) == raw, name
    assert not osp.isfile(osp.join(out, 'page_config.json.gz'))  # small
    assert os.path.getsize(osp.join(out, 'page_config.json')) < GZIP_MIN_BYTES
    wasm = osp.join(out, 'ort', 'ort-wasm-simd-threaded.wasm')
    assert os.path.getsize(wasm + '.gz') < 0.4 * os.path.getsize(wasm)
    server = serve_page(out)
    try:
        url = (f'http://127.0.0.1:{server.server_address[1]}/'
               'ort/ort-wasm-simd-threaded.wasm')
        r = urllib.request.urlopen(urllib.request.Request(
            url, headers={'Accept-Encoding': 'gzip, deflate'}))
        body = r.read()
        assert r.headers['Content-Encoding'] == 'gzip'
        assert r.headers['Content-Type'] == 'application/wasm'
        assert r.headers['Cross-Origin-Embedder-Policy'] == 'require-corp'
        assert int(r.headers['Content-Length']) == len(body) == \
            os.path.getsize(wasm + '.gz')
        assert gzip.decompress(body) == open(wasm, 'rb').read()
        plain = urllib.request.urlopen(url)  # urllib asks for no encoding
        assert plain.headers['Content-Encoding'] is None
        assert plain.read() == open(wasm, 'rb').read()
    finally:
        server.shutdown()
    # the copies are the same bytes at every build (no time stamp)
    before = open(wasm + '.gz', 'rb').read()
    assert wasm + '.gz' in gzip_copies(osp.dirname(wasm))
    assert open(wasm + '.gz', 'rb').read() == before


def test_browser_results_equal_infer_and_stay_on_the_machine(
        page, slices, tmp_path):
    _need_browser()
    from mtnet_plugin.apis import TumorInferencer
    from mtnet_plugin.apis.tumor_inferencer import RECORD_KEYS
    config, ckpt, out_page, _ = page
    out = tmp_path / 'out'
    tool = load_tool('deployment/browser_infer.py')
    summary = tool.main([slices, '--config', config, '--checkpoint', ckpt,
                         '--out-dir', str(out), '--page', out_page,
                         '--threads', '2'])
    # no request left the page's origin; the images were never requested
    assert summary['outside_origin'] == []
    assert not any(osp.basename(p) in u for u in summary['urls']
                   for p in os.listdir(slices))
    assert json.load(open(out / 'network.json'))['outside_origin'] == []
    # the browser took the gzip copies: the load is under 60 % of the files
    info = summary['page']
    assert 0 < info['download_bytes'] < 0.6 * info['page_bytes']
    # the bad files: a clear message each, and the next image still worked
    skipped = {osp.basename(s['path']): s['error']
               for s in summary['skipped']}
    assert set(skipped) == {'4_broken.jpg', '5_notes.png'}
    assert all('cannot read this file as an image' in m
               for m in skipped.values())
    results = json.load(open(out / 'results.json'))['results']
    assert [osp.basename(r['path'])[0] for r in results] == \
        ['0', '1', '2', '3', '6']
    ref = TumorInferencer(config, ckpt, backend='onnxruntime', num_workers=0)
    for r in results:
        assert set(RECORD_KEYS) <= set(r) and r['latency_ms'] > 0
        assert r['latency_ms'] >= r['run_ms'] + r['pre_ms'] > 0 <= r['post_ms']
        (want, ) = ref(r['path'])
        mask = cv2.imread(str(out / r['mask']), cv2.IMREAD_GRAYSCALE) > 127
        assert r['class_index'] == want['class_index']
        np.testing.assert_allclose(r['class_probs'], want['class_probs'],
                                   atol=1e-4)
        assert (mask == (want['mask'] == 1)).mean() >= 0.99
        assert abs(r['tumor_area_px'] - want['tumor_area_px']) <= \
            max(1, 0.01 * want['tumor_area_px'])


def test_browser_int8_runs_the_int8_file_as_onnxruntime_does(
        page, slices, tmp_path):
    """``--int8``: the page runs model.int8.onnx; its masks agree with
    native onnxruntime on the same file (WebAssembly's int8 kernels may
    round differently, so the bound is a share of the pixels)."""
    _need_browser()
    from mtnet_plugin.apis import TumorInferencer
    config, ckpt, out_page, _ = page
    out = tmp_path / 'int8'
    summary = load_tool('deployment/browser_infer.py').main([
        slices, '--config', config, '--checkpoint', ckpt, '--out-dir',
        str(out), '--page', out_page, '--threads', '1', '--int8'])
    assert summary['page']['variant'] == 'int8'
    assert summary['page']['threads'] == 1
    ref = TumorInferencer(config, ckpt, backend='onnxruntime-int8',
                          onnx_file=osp.join(out_page, 'model.int8.onnx'),
                          num_workers=0)
    for r in summary['results']:
        (want, ) = ref(r['path'])
        mask = cv2.imread(str(out / r['mask']), cv2.IMREAD_GRAYSCALE) > 127
        assert r['class_index'] == want['class_index']
        assert (mask == (want['mask'] == 1)).mean() >= 0.99


def test_webdemo_page_options(page):
    tool = load_tool('webdemo.py')
    assert tool.parse_args(['--page', page[2]]).page == page[2]
    for bad in (['--page', page[2], '--config', page[0]], []):
        with pytest.raises(SystemExit):
            tool.parse_args(bad)


def test_a_plain_static_host_runs_the_page_on_one_thread(page, slices,
                                                         tmp_path):
    """Without the isolation headers (any static file host) the page still
    works, on one WebAssembly thread, with the same results."""
    _need_browser()
    config, ckpt, out_page, _ = page
    tool = load_tool('deployment/browser_infer.py')
    summary = tool.main([slices, '--config', config, '--checkpoint', ckpt,
                         '--out-dir', str(tmp_path / 'o'), '--page',
                         out_page, '--no-isolation'])
    assert summary['page']['isolated'] is False
    assert summary['page']['threads'] == 1
    assert summary['outside_origin'] == [] and len(summary['results']) == 5
