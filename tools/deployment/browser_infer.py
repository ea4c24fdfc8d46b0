"""Run the browser page (onnxruntime-web) over images in headless Chromium
and write what it found, in tools/infer.py's format.

    python tools/deployment/browser_infer.py IN --config CONFIG \
        --checkpoint CKPT --out-dir OUT [--threads N] [--int8] [--page DIR]

IN is a PNG/JPEG file or a folder of them. The page is built
(tools/deployment/build_browser_page.py; ``--page`` reuses a built one),
served on 127.0.0.1 with the cross-origin isolation headers, and each image
goes through its file input as a user's would. OUT gets ``results.json``
(``results``, ``volumes``, ``skipped`` as tools/infer.py writes them; each
record also has ``latency_ms``, measured inside the page from the decoded
image to the mask, ``run_ms`` of the network alone, and ``mask``, a PNG
written beside it), and ``network.json``: every URL the browser requested.
``page.download_bytes`` is what the page's load took on the wire (gzip where
the server sends it), ``page.page_bytes`` the size of the files it loads.
The exit status is 1 if any request left the page's origin, or if no image
could be read.
"""
import argparse
import base64
import importlib.util
import json
import os
import os.path as osp
import statistics
import sys
import tempfile
import time

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
IMAGE_EXTENSIONS = ('.png', '.jpg', '.jpeg')


def _browser_helpers():
    spec = importlib.util.spec_from_file_location(
        'webdemo_browser', osp.join(REPO, 'tools', 'misc',
                                    'webdemo_browser.py'))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('inputs', help='a PNG/JPEG file or a folder of them')
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--out-dir', required=True)
    p.add_argument('--threads', type=int, default=None,
                   help='WebAssembly threads (default: the page\'s choice, '
                   'up to 4)')
    p.add_argument('--int8', action='store_true',
                   help='run the int8 file instead of fp32')
    p.add_argument('--page', default=None,
                   help='a page built by build_browser_page.py (default: '
                   'build one in a temporary folder)')
    p.add_argument('--no-isolation', action='store_true',
                   help='serve without the cross-origin isolation headers, '
                   'as a plain static host does (the page runs one thread)')
    p.add_argument('--native', action='store_true',
                   help='also time native onnxruntime on the same file, '
                   'threads and inputs, and print the ratio')
    p.add_argument('--timeout', type=float, default=120,
                   help='seconds to wait for the page and for each image')
    return p.parse_args(argv)


def list_inputs(path):
    if osp.isdir(path):
        return sorted(osp.join(path, f) for f in os.listdir(path)
                      if not f.startswith('.'))
    if not osp.isfile(path):
        raise FileNotFoundError(f'input not found: {path}')
    return [path]


def run_page(page_dir, files, out_dir, threads=None, int8=False,
             timeout=120, isolate=True):
    """Serve ``page_dir``, open it in headless Chromium, give it ``files``
    one by one; returns (results, skipped, info, urls)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from mtnet_plugin.webdemo.browser_page import serve_page
    helpers = _browser_helpers()
    if None in helpers.find_chrome():
        raise RuntimeError('headless Chromium and chromedriver are needed '
                           '(Debian: apt-get install chromium '
                           'chromium-driver; make browser)')
    server = serve_page(page_dir, isolate=isolate)
    origin = f'http://127.0.0.1:{server.server_address[1]}'
    query = [f'threads={threads}'] if threads else []
    query += ['model=int8'] if int8 else []
    url = f'{origin}/index.html' + ('?' + '&'.join(query) if query else '')
    results, skipped = [], []
    with tempfile.TemporaryDirectory() as profile:
        driver = helpers.chrome_driver(profile, network_log=True)
        try:
            t0 = time.perf_counter()
            driver.get(url)
            wait = WebDriverWait(driver, timeout)
            wait.until(lambda d: d.find_element(By.TAG_NAME, 'body')
                       .get_attribute('data-ready') in ('1', 'error'))
            first_load_s = time.perf_counter() - t0
            if driver.find_element(By.TAG_NAME, 'body').get_attribute(
                    'data-ready') != '1':
                raise RuntimeError('the page did not start: ' +
                                   driver.find_element(By.ID, 'status').text)
            info = driver.execute_script(
                'const m = window.mtnet; return {variant: m.variant, '
                'threads: m.threads, isolated: m.isolated, '
                'load_ms: m.loadMs};')
            info['first_load_s'] = first_load_s
            for i, path in enumerate(files):
                driver.find_element(By.ID, 'files').send_keys(
                    osp.abspath(path))
                wait.until(lambda d: d.execute_script(
                    'return window.mtnet.results.length') > i)
                r = driver.execute_script(
                    f'return window.mtnet.results[{i}];')
                if 'error' in r:
                    skipped.append(dict(path=path, error=r['error']))
                    print(f'skipped {path}: {r["error"]}', file=sys.stderr)
                    continue
                record = dict(r['record'], path=path,
                              latency_ms=r['latency_ms'],
                              run_ms=r['run_ms'], pre_ms=r['pre_ms'],
                              post_ms=r['post_ms'])
                name = osp.splitext(osp.basename(path))[0] + '_mask.png'
                with open(osp.join(out_dir, name), 'wb') as f:
                    f.write(base64.b64decode(r['mask_png'].split(',', 1)[1]))
                record['mask'] = name
                results.append(record)
            urls, wire = helpers.network_events(driver)
            info['download_bytes'] = sum(wire.values())
        finally:
            driver.quit()
            server.shutdown()
    return results, skipped, info, urls, origin


def time_native(page_dir, model_file, records, config, checkpoint,
                 threads, repeat=5):
    """Median ms of native onnxruntime's ``session.run`` on the same file,
    thread count and preprocessed inputs as the page's ``run_ms``."""
    import numpy as np
    import onnxruntime as ort

    from mtnet_plugin.apis import TumorInferencer
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    session = ort.InferenceSession(osp.join(page_dir, model_file), opts,
                                   providers=['CPUExecutionProvider'])
    prep = TumorInferencer(config, checkpoint, backend='pytorch',
                           num_workers=0)
    name = session.get_inputs()[0].name
    times = []
    for r in records:
        data = prep.model.data_preprocessor(prep.collate(r['path']), False)
        x = data['inputs'].float().numpy()
        session.run(None, {name: x})  # warm-up
        for _ in range(repeat):
            t0 = time.perf_counter()
            session.run(None, {name: x})
            times.append(1000 * (time.perf_counter() - t0))
    return float(np.median(times))


def main(argv=None):
    args = parse_args(argv)
    files = list_inputs(args.inputs)
    os.makedirs(args.out_dir, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        page = args.page
        if page is None:
            from mtnet_plugin.apis import init_model
            from mtnet_plugin.webdemo.browser_page import build_page
            page = osp.join(tmp, 'page')
            build_page(init_model(args.config, args.checkpoint),
                       args.checkpoint, page, int8=args.int8)
        page_size = {
            f: osp.getsize(osp.join(page, f))
            for f in ('index.html', 'app.js', 'page_config.json',
                      'model.int8.onnx' if args.int8 else 'model.onnx')
        }
        page_size.update({f'ort/{f}': osp.getsize(osp.join(page, 'ort', f))
                          for f in os.listdir(osp.join(page, 'ort'))
                          if not f.endswith('.gz')})
        results, skipped, info, urls, origin = run_page(
            page, files, args.out_dir, args.threads, args.int8, args.timeout,
            not args.no_isolation)
        info['page_bytes'] = sum(page_size.values())
        if args.native and results:
            info['native_run_ms'] = time_native(
                page, 'model.int8.onnx' if args.int8 else 'model.onnx',
                results, args.config, args.checkpoint, info['threads'])
            info['page_run_ms'] = statistics.median(
                r['run_ms'] for r in results)
    # the browser's own pages (its new-tab page at start-up) are not the
    # page's requests; anything else must stay on the page's origin
    internal = ('chrome:', 'chrome-extension:', 'chrome-untrusted:',
                'about:', 'devtools:', 'data:', 'blob:')
    outside = [u for u in urls if not (u.startswith(origin + '/')
                                       or u.startswith(internal))]
    with open(osp.join(args.out_dir, 'network.json'), 'w') as f:
        json.dump(dict(origin=origin, requests=urls, outside_origin=outside),
                  f, indent=2)
    out = osp.join(args.out_dir, 'results.json')
    with open(out, 'w') as f:
        json.dump(dict(results=results, volumes=[], skipped=skipped,
                       page=info), f, indent=2)
    lat = [r['latency_ms'] for r in results]
    print(f'{len(results)} images done, {len(skipped)} skipped in the '
          f'browser ({info["variant"]}, {info["threads"]} thread(s), '
          f'cross-origin isolated: {info["isolated"]}; model loaded in '
          f'{info["load_ms"]:.0f} ms); median latency '
          f'{statistics.median(lat) if lat else float("nan"):.1f} ms; '
          f'{len(urls)} requests, {len(outside)} outside {origin}; '
          f'page download {info["download_bytes"] / 2**20:.1f} MiB on the '
          f'wire ({info["page_bytes"] / 2**20:.1f} MiB of files), first '
          f'load {info["first_load_s"]:.2f} s; results in {out}',
          file=sys.stderr)
    if 'native_run_ms' in info:
        print(f'network alone, median: browser {info["page_run_ms"]:.1f} ms, '
              f'native onnxruntime {info["native_run_ms"]:.1f} ms on the same '
              f'file and {info["threads"]} thread(s): ratio '
              f'{info["page_run_ms"] / info["native_run_ms"]:.2f}',
              file=sys.stderr)
    return dict(results=results, skipped=skipped, page=info, urls=urls,
                outside_origin=outside, out=out)


def cli(argv=None) -> int:
    from mtnet_plugin.utils import CheckpointMismatchError
    try:
        summary = main(argv)
    except (CheckpointMismatchError, FileNotFoundError, RuntimeError) as e:
        print(f'error: {e}', file=sys.stderr)
        return 1
    if summary['outside_origin']:
        print(f'error: requests left the page\'s origin: '
              f'{summary["outside_origin"][:5]}', file=sys.stderr)
        return 1
    return 0 if summary['results'] else 1


if __name__ == '__main__':
    sys.exit(cli())
