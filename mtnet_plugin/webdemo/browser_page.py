"""The static page that runs the model in the browser (onnxruntime-web),
and a server for it.

:func:`build_page` writes a folder that any static file host can serve::

    index.html, app.js        the page (mtnet_plugin/webdemo/browser/)
    model.onnx                the checkpoint's ONNX export (the file the
                              onnxruntime backend runs)
    model.int8.onnx           its int8 file (``int8=True``)
    page_config.json          what the page takes from the config: input
                              size, mean/std, channel order, class names,
                              the class temperature (applied in the graph)
    ort/                      onnxruntime-web's script and WebAssembly files
    *.gz                      gzip copies of the large files (the model, the
                              runtime): 7.9 MB on the wire instead of 16.7 MB

:func:`serve_page` serves it with the cross-origin isolation headers that
WebAssembly threads need (without them the page runs on one thread), and
sends a file's ``.gz`` copy with ``Content-Encoding: gzip`` to a browser
that accepts it, as nginx's ``gzip_static`` does.
"""
import gzip
import json
import os
import os.path as osp
import shutil
import subprocess
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

import torch.nn as nn

PAGE_SRC = osp.join(osp.dirname(osp.abspath(__file__)), 'browser')
ORT_DIST = osp.join(PAGE_SRC, 'node_modules', 'onnxruntime-web', 'dist')
#: onnxruntime-web's files the page loads: the WebAssembly-only bundle and
#: its SIMD (threaded) runtime.
ORT_FILES = ('ort.wasm.min.js', 'ort-wasm-simd-threaded.mjs',
             'ort-wasm-simd-threaded.wasm')
#: files of at least this size get a gzip copy beside them
GZIP_MIN_BYTES = 4096
ISOLATION_HEADERS = {
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Embedder-Policy': 'require-corp',
}


def ensure_onnxruntime_web() -> str:
    """The folder of onnxruntime-web's files, installed with ``npm ci``
    from the pinned ``package-lock.json`` when absent (Node.js and the npm
    registry needed once; the page itself needs neither)."""
    if all(osp.isfile(osp.join(ORT_DIST, f)) for f in ORT_FILES):
        return ORT_DIST
    if shutil.which('npm') is None:
        raise RuntimeError(
            f'the browser page needs onnxruntime-web in {ORT_DIST}: install '
            f'Node.js and run `npm ci` in {PAGE_SRC}')
    proc = subprocess.run(['npm', 'ci', '--no-audit', '--no-fund'],
                          cwd=PAGE_SRC, capture_output=True, text=True)
    missing = [f for f in ORT_FILES if not osp.isfile(osp.join(ORT_DIST, f))]
    if proc.returncode != 0 or missing:
        raise RuntimeError(f'`npm ci` in {PAGE_SRC} failed: '
                           f'{(proc.stderr or proc.stdout)[-1000:]}')
    return ORT_DIST


def page_config(model: nn.Module, checkpoint: str, models: dict) -> dict:
    """What the page takes from the model's config (nothing typed twice)."""
    from mtnet_plugin.apis.inference import inference_input_shape
    from mtnet_plugin.apis.onnx_export import INPUT_NAME, OUTPUT_NAMES
    from mtnet_plugin.datasets.metainfo import config_metainfo
    cfg = model.cfg
    prep = cfg.model.data_preprocessor
    meta = config_metainfo(cfg)
    return dict(
        config=osp.relpath(cfg.filename) if cfg.filename else None,
        checkpoint=osp.basename(checkpoint),
        input_size=list(inference_input_shape(cfg)),
        mean=[float(v) for v in prep.mean],
        std=[float(v) for v in prep.std],
        channel_order='rgb' if prep.get('bgr_to_rgb', False) else 'bgr',
        seg_classes=list(meta['classes']),
        tumor_class='tumor',
        cls_classes=list(meta['cls_classes']),
        temperature=float(getattr(model, 'cls_temperature', 1.0)),
        temperature_in_graph=True,
        input_name=INPUT_NAME,
        output_names=list(OUTPUT_NAMES),
        models=models)


def build_page(model: nn.Module,
               checkpoint: str,
               out_dir: str,
               int8: bool = False,
               int8_options: Optional[dict] = None) -> dict:
    """Write the page's folder for ``model`` (loaded from ``checkpoint``);
    returns its ``page_config.json``. The ONNX files are the onnxruntime
    backends' own (exported, or quantized, once and cached beside the
    checkpoint), so the page runs the graph ``tools/infer.py`` runs."""
    import tempfile
    parent = osp.dirname(osp.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix='.page-', dir=parent)
    try:  # a failed build leaves no half-written page
        config = _write_page(model, checkpoint, tmp, int8, int8_options)
        if osp.isdir(out_dir):
            shutil.rmtree(out_dir)
        os.replace(tmp, out_dir)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return config


def _write_page(model, checkpoint, out_dir, int8, int8_options) -> dict:
    from mtnet_plugin.apis.backends import (ONNXRuntimeBackend,
                                            ONNXRuntimeInt8Backend)
    dist = ensure_onnxruntime_web()
    os.makedirs(osp.join(out_dir, 'ort'), exist_ok=True)
    os.chmod(out_dir, 0o755)
    models = dict(fp32='model.onnx')
    fp32 = ONNXRuntimeBackend(model, checkpoint=checkpoint).onnx_file
    shutil.copyfile(fp32, osp.join(out_dir, 'model.onnx'))
    if int8:
        q = ONNXRuntimeInt8Backend(model, checkpoint=checkpoint,
                                   **(int8_options or {}))
        shutil.copyfile(q.onnx_file, osp.join(out_dir, 'model.int8.onnx'))
        models['int8'] = 'model.int8.onnx'
    for name in ('index.html', 'app.js'):
        shutil.copyfile(osp.join(PAGE_SRC, name), osp.join(out_dir, name))
    for name in ORT_FILES:
        shutil.copyfile(osp.join(dist, name), osp.join(out_dir, 'ort', name))
    config = page_config(model, checkpoint, models)
    with open(osp.join(out_dir, 'page_config.json'), 'w') as f:
        json.dump(config, f, indent=2)
    gzip_copies(out_dir)
    return config


def gzip_copies(folder: str, min_bytes: int = GZIP_MIN_BYTES) -> list:
    """Write ``<file>.gz`` (level 9, no time stamp: the same bytes every
    build) beside each file of ``folder`` of at least ``min_bytes``;
    returns their paths. The WebAssembly runtime shrinks to about a
    quarter; the weights to about 0.92."""
    written = []
    for root, _, files in os.walk(folder):
        for name in sorted(files):
            path = osp.join(root, name)
            if name.endswith('.gz') or osp.getsize(path) < min_bytes:
                continue
            with open(path, 'rb') as f:
                data = gzip.compress(f.read(), compresslevel=9, mtime=0)
            with open(path + '.gz', 'wb') as f:
                f.write(data)
            written.append(path + '.gz')
    return written


class _Handler(SimpleHTTPRequestHandler):
    """Static files with cross-origin isolation and the right types."""

    extensions_map = dict(SimpleHTTPRequestHandler.extensions_map,
                          **{'.mjs': 'text/javascript',
                             '.wasm': 'application/wasm',
                             '.onnx': 'application/octet-stream'})

    def __init__(self, *args, isolate=True, **kwargs):
        self.isolate = isolate
        super().__init__(*args, **kwargs)

    def send_head(self):
        """A file's gzip copy, when it has one and the browser accepts
        gzip; else the file as ``SimpleHTTPRequestHandler`` sends it."""
        path = self.translate_path(self.path)
        accepts = 'gzip' in self.headers.get('Accept-Encoding', '')
        if not (accepts and osp.isfile(path) and osp.isfile(path + '.gz')):
            return super().send_head()
        f = open(path + '.gz', 'rb')
        try:
            size = os.fstat(f.fileno()).st_size
            self.send_response(200)
            self.send_header('Content-Type', self.guess_type(path))
            self.send_header('Content-Encoding', 'gzip')
            self.send_header('Content-Length', str(size))
            self.send_header('Vary', 'Accept-Encoding')
            self.end_headers()
            return f
        except Exception:
            f.close()
            raise

    def end_headers(self):
        if self.isolate:
            for key, value in ISOLATION_HEADERS.items():
                self.send_header(key, value)
        self.send_header('Cache-Control', 'no-cache')
        super().end_headers()

    def log_message(self, *args):  # quiet; the caller says where it serves
        pass


class _Server(ThreadingHTTPServer):
    """A browser that stops reading (a reload, a closed tab) resets its
    connection: not an error worth a traceback."""

    daemon_threads = True

    def handle_error(self, request, client_address):
        import sys
        if isinstance(sys.exc_info()[1], (ConnectionResetError,
                                          BrokenPipeError)):
            return
        super().handle_error(request, client_address)


def serve_page(folder: str, host: str = '127.0.0.1', port: int = 0,
               isolate: bool = True) -> ThreadingHTTPServer:
    """A server for the page's ``folder`` running in a daemon thread
    (``server.server_address`` has the port; ``server.shutdown()`` stops
    it). ``isolate`` sends the COOP/COEP headers that enable WebAssembly
    threads."""
    if not osp.isfile(osp.join(folder, 'page_config.json')):
        raise FileNotFoundError(
            f'{folder} is not a built page (no page_config.json): build it '
            f'with tools/deployment/build_browser_page.py')
    handler = partial(_Handler, directory=folder, isolate=isolate)
    server = _Server((host, port), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
