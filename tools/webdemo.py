"""Serve a web page: drop MRI slices, see the tumor, the class and the
numbers.

    python tools/webdemo.py --config CONFIG --checkpoint CKPT \
        [--port 7860] [--host 127.0.0.1] [--backend auto] [--device cpu]
    python tools/webdemo.py --page DIR [--port 7860] [--host 127.0.0.1]

With ``--page`` it serves instead the static page built by
``tools/deployment/build_browser_page.py``, which runs the model in the
browser (no upload, no model in this process), with the headers that enable
WebAssembly threads (Cross-Origin-Opener-Policy and -Embedder-Policy).

Needs the demo extra (``pip install -e ".[demo]"``: FastAPI, uvicorn,
python-multipart). It listens on 127.0.0.1 unless ``--host`` says otherwise.
Uploads and, when an onnxruntime backend needs one and none is cached
beside the checkpoint, the ONNX export and its int8 quantization go to a
temporary folder that is removed when the server stops (Ctrl-C or
SIGTERM); nothing else is written.
"""
import argparse
import atexit
import logging
import os.path as osp
import shutil
import signal
import sys
import tempfile

from mtnet_plugin.apis import BACKENDS


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--config')
    p.add_argument('--checkpoint')
    p.add_argument('--page', default=None,
                   help='serve this built browser page instead (no '
                   '--config/--checkpoint)')
    p.add_argument('--port', type=int, default=7860)
    p.add_argument('--host', default='127.0.0.1',
                   help='address to listen on (0.0.0.0: every interface; '
                   'only on a network you trust)')
    p.add_argument('--backend', default='auto', choices=('auto', ) + BACKENDS)
    p.add_argument('--onnx', default=None,
                   help='.onnx for onnxruntime (an int8 one for '
                   'onnxruntime-int8)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--max-upload-mb', type=float, default=20)
    p.add_argument('--max-queue', type=int, default=32,
                   help='images allowed to wait for the model; more get '
                   '"busy"')
    args = p.parse_args(argv)
    if args.page is None and not (args.config and args.checkpoint):
        p.error('--config and --checkpoint are required (or --page DIR)')
    if args.page is not None and (args.config or args.checkpoint):
        p.error('--page serves a built page: no --config/--checkpoint')
    return args


def serve_browser_page(args):
    """Serve the built page until Ctrl-C or SIGTERM."""
    import threading

    from mtnet_plugin.webdemo.browser_page import serve_page
    server = serve_page(args.page, args.host, args.port)
    print(f'EfficientMTNet browser page on http://{args.host}:'
          f'{server.server_address[1]}/ (from {args.page}; the model runs '
          f'in the browser)', flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        server.shutdown()


def build_inferencer(args, tmp_dir):
    """The inferencer; an onnxruntime export (or int8 file) that is not
    cached beside the checkpoint is made in ``tmp_dir`` (the page writes
    nowhere else)."""
    from mtnet_plugin.apis import (TumorInferencer, default_backend,
                                   export_onnx, init_model, onnx_cache_path)
    from mtnet_plugin.apis.backends import fastest_onnxruntime
    from mtnet_plugin.apis.inference import inference_input_shape
    model = init_model(args.config, args.checkpoint, args.device)
    backend = args.backend
    if backend == 'auto':
        backend = default_backend(args.device, args.checkpoint, model.cfg)
    onnx_file, int8_options = args.onnx, None
    if backend.startswith('onnxruntime') and onnx_file is None:
        onnx_file = onnx_cache_path(args.checkpoint, model.cfg.model)
        if not osp.isfile(onnx_file):
            onnx_file = export_onnx(model, osp.join(tmp_dir, 'model.onnx'),
                                    inference_input_shape(model.cfg))
        if backend == 'onnxruntime-int8':  # quantize that file, once
            int8_options = dict(fp32_file=onnx_file, cache_dir=tmp_dir)
            if args.backend == 'auto':  # int8 only if faster on this CPU
                chosen = fastest_onnxruntime(model, args.checkpoint,
                                             int8_options=int8_options,
                                             fp32_file=onnx_file)
                return TumorInferencer(model, backend=chosen.name,
                                       onnx_file=chosen.onnx_file,
                                       num_workers=0)
            onnx_file = None
    return TumorInferencer(model, backend=backend, onnx_file=onnx_file,
                           num_workers=0, int8_options=int8_options)


def main(argv=None):
    args = parse_args(argv)
    if args.page is not None:
        return serve_browser_page(args)
    try:
        import fastapi  # noqa: F401  (create_app imports it)
        import uvicorn
    except ImportError as e:
        sys.exit(f'the web page needs the demo extra: pip install -e '
                 f'".[demo]" ({e})')
    tmp_dir = tempfile.mkdtemp(prefix='efficient-mtnet-webdemo-')
    # multipart uploads are spooled by the standard tempfile module: here
    tempfile.tempdir = tmp_dir
    atexit.register(shutil.rmtree, tmp_dir, ignore_errors=True)
    # SIGTERM: leave through uvicorn's graceful shutdown, then atexit
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(
        KeyboardInterrupt()))
    from mmengine.logging import MMLogger
    MMLogger.get_instance('mmengine').setLevel(logging.WARNING)
    from mtnet_plugin.webdemo import create_app
    inferencer = build_inferencer(args, tmp_dir)
    app = create_app(inferencer, tmp_dir, args.max_upload_mb, args.max_queue)
    print(f'EfficientMTNet page on http://{args.host}:{args.port}/ (backend '
          f'{inferencer.backend.name}; temporary folder {tmp_dir})',
          flush=True)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_level='warning')
    except KeyboardInterrupt:
        pass
    finally:
        shutil.rmtree(tmp_dir, ignore_errors=True)


if __name__ == '__main__':
    from mtnet_plugin.utils import exit_on_mismatch
    exit_on_mismatch(main)
