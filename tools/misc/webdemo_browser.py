"""Drive tools/webdemo.py in headless Chromium (Debian's chromium and
chromedriver, through Selenium): the browser test uses these helpers, and
run as a script it takes the README's screenshot.

    python tools/misc/webdemo_browser.py --config CONFIG --checkpoint CKPT \
        --images IMG [IMG ...] --out docs/webdemo.png
"""
import argparse
import json
import os
import os.path as osp
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Chromium on a closed network: no background connections, no first run.
CHROME_FLAGS = ('--headless=new', '--no-sandbox', '--disable-gpu',
                '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
                '--disable-background-networking',
                '--disable-component-update', '--disable-sync')


def find_chrome():
    """(chromium, chromedriver) paths, or None where absent."""
    chrome = next((shutil.which(e) for e in ('chromium', 'chromium-browser',
                                            'google-chrome')
                   if shutil.which(e)), None)
    return chrome, shutil.which('chromedriver')


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def start_server(config, checkpoint, log_path, port=None, extra=(),
                 timeout=180):
    """Start tools/webdemo.py; return (process, url, /api/info) once it
    answers."""
    port = port or free_port()
    log = open(log_path, 'w')
    proc = subprocess.Popen([
        sys.executable, osp.join(REPO, 'tools', 'webdemo.py'), '--config',
        config, '--checkpoint', checkpoint, '--port', str(port)
    ] + list(extra), stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/'
    deadline = time.time() + timeout
    while True:
        try:
            info = json.load(urllib.request.urlopen(url + 'api/info'))
            return proc, url, info
        except OSError:
            if proc.poll() is not None or time.time() > deadline:
                stop_server(proc)
                raise RuntimeError('the page did not start:\n' +
                                   open(log_path).read()[-3000:])
            time.sleep(0.5)


def stop_server(proc, timeout=30):
    """SIGTERM by pid (a graceful stop), SIGKILL if it hangs."""
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def chrome_driver(profile_dir, size=(1200, 1000), network_log=False):
    """Headless Chromium under Selenium; ``network_log`` records the
    browser's network events (``driver.get_log('performance')``)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    chrome, driver_exe = find_chrome()
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in CHROME_FLAGS + (f'--user-data-dir={profile_dir}',
                                f'--window-size={size[0]},{size[1]}'):
        opts.add_argument(flag)
    if network_log:
        opts.set_capability('goog:loggingPrefs', {'performance': 'ALL'})
    return webdriver.Chrome(service=Service(driver_exe), options=opts)


def network_events(driver):
    """Every URL the browser asked for since the last call, and the bytes
    each response took on the wire (compressed, headers included; Chrome's
    ``encodedDataLength``), from the performance log (needs
    ``network_log``): ``(urls, {url: bytes})``."""
    urls, url_of, wire = [], {}, {}
    for entry in driver.get_log('performance'):
        message = json.loads(entry['message'])['message']
        method, params = message.get('method'), message.get('params', {})
        if method == 'Network.requestWillBeSent':
            urls.append(params['request']['url'])
            url_of[params['requestId']] = params['request']['url']
        elif method == 'Network.loadingFinished':
            url = url_of.get(params['requestId'])
            if url is not None:
                wire[url] = wire.get(url, 0) + int(
                    params.get('encodedDataLength', 0))
    return urls, wire


def requested_urls(driver):
    """Every URL the browser asked for since the last call (needs
    ``network_log``)."""
    return network_events(driver)[0]


def open_page(driver, url, timeout=60):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    driver.get(url)
    wait = WebDriverWait(driver, timeout)
    wait.until(lambda d: d.find_element(By.TAG_NAME, 'body').get_attribute(
        'data-ready') == '1')
    return wait


def upload(driver, wait, path):
    """Upload ``path`` through the file input; return its result or error
    card."""
    from selenium.webdriver.common.by import By
    driver.find_element(By.ID, 'files').send_keys(osp.abspath(path))
    name = osp.basename(path)
    return wait.until(lambda d: (d.find_elements(
        By.CSS_SELECTOR, f'.card[data-name="{name}"]') or [None])[0])


def main():
    p = argparse.ArgumentParser(description='screenshot of the web page')
    p.add_argument('--config', required=True)
    p.add_argument('--checkpoint', required=True)
    p.add_argument('--images', nargs='+', required=True)
    p.add_argument('--out', default='docs/webdemo.png')
    p.add_argument('--size', type=int, nargs=2, default=(1200, 900))
    args = p.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url, _ = start_server(args.config, args.checkpoint,
                                    osp.join(tmp, 'server.log'))
        driver = None
        try:
            driver = chrome_driver(osp.join(tmp, 'profile'), args.size)
            wait = open_page(driver, url)
            for path in args.images:
                upload(driver, wait, path)
            driver.save_screenshot(args.out)
        finally:
            if driver is not None:
                driver.quit()
            stop_server(proc)
    print(f'screenshot: {args.out}')


if __name__ == '__main__':
    main()
