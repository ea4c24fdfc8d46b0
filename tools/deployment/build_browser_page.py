"""Build the static page that runs a checkpoint in the browser with
onnxruntime-web: no server-side inference, no image leaves the machine.

    python tools/deployment/build_browser_page.py CONFIG CHECKPOINT \
        --out-dir work_dirs/page [--int8] [--calib-images DIR] [--num-calib N]
    python tools/webdemo.py --page work_dirs/page     # http://127.0.0.1:7860/

The folder holds the page, the checkpoint's ONNX export (and its int8 file
with ``--int8``; the page loads it with ``?model=int8``),
``page_config.json`` (input size, mean/std, class names and temperature,
from the config) and onnxruntime-web's files (installed once from the
pinned ``mtnet_plugin/webdemo/browser/package-lock.json`` with ``npm ci``).
Any static file host serves it; ``tools/webdemo.py --page`` adds the
headers that enable WebAssembly threads (``?threads=N``).
"""
import argparse
import os.path as osp


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('config')
    p.add_argument('checkpoint')
    p.add_argument('--out-dir', required=True)
    p.add_argument('--int8', action='store_true',
                   help='also ship the int8 file (calibrated on the config\'s '
                   'training images, or --calib-images)')
    p.add_argument('--calib-images', default=None)
    p.add_argument('--num-calib', type=int, default=None)
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    from mtnet_plugin.apis import init_model
    from mtnet_plugin.webdemo.browser_page import build_page
    model = init_model(args.config, args.checkpoint)
    options = {k: v for k, v in dict(calib_images=args.calib_images,
                                     num_calib=args.num_calib).items()
               if v is not None}
    config = build_page(model, args.checkpoint, args.out_dir, args.int8,
                        options)
    size = sum(osp.getsize(osp.join(args.out_dir, f))
               for f in config['models'].values())
    print(f'page for {args.checkpoint} in {args.out_dir} ({", ".join(config["models"].values())}: '
          f'{size / 2**20:.1f} MiB); serve it with: python tools/webdemo.py '
          f'--page {args.out_dir}')
    return config


if __name__ == '__main__':
    from mtnet_plugin.utils import exit_on_mismatch
    exit_on_mismatch(main)
