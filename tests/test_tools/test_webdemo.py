"""tools/webdemo.py: the API in-process, and the page in headless Chromium
against a real server process."""
import json
import os
import os.path as osp
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request

import cv2
import numpy as np
import pytest

from ..conftest import REPO

fastapi = pytest.importorskip('fastapi', reason='demo extra not installed')
CONFIG = osp.join(REPO, 'configs', 'efficient_mtnet_demo_synthetic.py')


@pytest.fixture(scope='module')
def checkpoint(tmp_path_factory):
    """Random weights of the demo model, made less trivial."""
    import torch
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS
    from mmengine.config import Config
    init_default_scope('mmseg')
    torch.manual_seed(0)
    model = MODELS.build(Config.fromfile(CONFIG).model)
    model.init_weights()
    for p in model.parameters():
        p.data.add_(0.05 * torch.randn_like(p))
    path = str(tmp_path_factory.mktemp('ckpt') / 'demo.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


@pytest.fixture(scope='module')
def slice_png(tmp_path_factory):
    """A synthetic slice with a lesion."""
    from mtnet_plugin.datasets.synthetic_mri import render_slice
    img, poly = render_slice(np.random.default_rng(5), 256, kind=0)
    assert poly is not None
    path = str(tmp_path_factory.mktemp('img') / 'lesion.png')
    cv2.imwrite(path, img)
    return path


@pytest.fixture(scope='module')
def client(checkpoint, tmp_path_factory):
    pytest.importorskip('httpx')
    from fastapi.testclient import TestClient

    from mtnet_plugin.apis import TumorInferencer
    from mtnet_plugin.webdemo import create_app
    tmp = str(tmp_path_factory.mktemp('upload_tmp'))
    inf = TumorInferencer(CONFIG, checkpoint, backend='pytorch',
                          num_workers=0)
    app = create_app(inf, tmp, max_upload_mb=1, max_queue=64)
    return TestClient(app), inf, tmp


def test_api_result_matches_the_inferencer(client, slice_png):
    c, inf, tmp = client
    with open(slice_png, 'rb') as f:
        r = c.post('/api/predict', files=dict(file=('lesion.png', f)))
    assert r.status_code == 200, r.text
    body = r.json()
    (ref, ) = inf(slice_png)
    rec = body['result']
    assert rec['path'] == 'lesion.png'
    for k in ('class_index', 'class_name', 'tumor_area_px', 'bbox'):
        assert rec[k] == ref[k], k
    assert rec['tumor_area_pct'] == pytest.approx(ref['tumor_area_pct'])
    assert body['probability'] == pytest.approx(
        ref['class_probs'][ref['class_index']])
    mask = cv2.imdecode(np.frombuffer(__import__('base64').b64decode(
        body['mask'].split(',', 1)[1]), np.uint8), cv2.IMREAD_UNCHANGED)
    assert np.array_equal(mask > 0, ref['mask'] == 1)
    assert os.listdir(tmp) == []  # the upload was deleted


def test_api_grey_rgb_and_16_bit(client, slice_png, tmp_path):
    c, inf, _ = client
    grey = cv2.imread(slice_png, cv2.IMREAD_GRAYSCALE)
    paths = {
        'rgb.jpg': cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR),
        'deep.png': grey.astype(np.uint16) * 16,  # 12-bit data
    }
    for name, img in paths.items():
        p = str(tmp_path / name)
        cv2.imwrite(p, img)
        with open(p, 'rb') as f:
            r = c.post('/api/predict', files=dict(file=(name, f)))
        assert r.status_code == 200, (name, r.text)
        (ref, ) = inf(p)
        assert r.json()['result']['tumor_area_px'] == ref['tumor_area_px']


def test_api_bad_input(client, tmp_path):
    c, _, tmp = client
    r = c.post('/api/predict', files=dict(file=('notes.txt', b'hello')))
    assert r.status_code == 400 and 'notes.txt' in r.json()['detail']
    big = b'\x89PNG' + bytes(2 * 1024 * 1024)
    r = c.post('/api/predict', files=dict(file=('big.png', big)))
    assert r.status_code == 413 and '1 MB' in r.json()['detail']
    r = c.post('/api/predict', files=dict(file=('empty.png', b'')))
    assert r.status_code == 400
    assert c.get('/api/info').status_code == 200  # still serving
    assert os.listdir(tmp) == []


def test_api_info_and_examples(client):
    c, _, _ = client
    info = c.get('/api/info').json()
    assert info['backend'] == 'pytorch' and 'CC BY 4.0' in info['credit']
    for i in range(info['examples']):
        r = c.get(f'/api/examples/{i}')
        img = cv2.imdecode(np.frombuffer(r.content, np.uint8), 0)
        assert r.status_code == 200 and img.ndim == 2
    assert c.get(f'/api/examples/{info["examples"]}').status_code == 404


def test_api_concurrent_requests_are_queued(client, slice_png):
    c, _, _ = client
    data = open(slice_png, 'rb').read()
    answers = [None] * 8

    def post(i):
        answers[i] = c.post('/api/predict',
                            files=dict(file=(f'{i}.png', data)))

    threads = [threading.Thread(target=post, args=(i, )) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(a.status_code == 200 for a in answers)
    areas = {a.json()['result']['tumor_area_px'] for a in answers}
    assert len(areas) == 1


def _free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def _chrome():
    for exe in ('chromium', 'chromium-browser', 'google-chrome'):
        path = shutil.which(exe)
        if path:
            return path
    return None


@pytest.mark.slow
def test_page_in_headless_chromium(checkpoint, slice_png, tmp_path):
    """Upload a slice with a lesion and a text file through the page; the
    numbers shown are the inferencer's; the server stops by its pid and
    leaves no temporary folder behind."""
    selenium = pytest.importorskip('selenium')
    chrome, driver_exe = _chrome(), shutil.which('chromedriver')
    if not chrome or not driver_exe:
        pytest.skip('Debian chromium + chromium-driver not installed '
                    '(make browser)')
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    from mtnet_plugin.apis import TumorInferencer
    port = _free_port()
    log = open(tmp_path / 'server.log', 'w')
    server = subprocess.Popen([
        sys.executable, osp.join(REPO, 'tools', 'webdemo.py'), '--config',
        CONFIG, '--checkpoint', checkpoint, '--port', str(port),
        '--backend', 'pytorch'
    ], stdout=log, stderr=subprocess.STDOUT)
    url = f'http://127.0.0.1:{port}/'
    driver = None
    try:
        deadline = time.time() + 120
        while True:
            try:
                info = json.load(urllib.request.urlopen(url + 'api/info'))
                break
            except OSError:
                assert server.poll() is None, open(tmp_path /
                                                   'server.log').read()
                assert time.time() < deadline, 'server did not start'
                time.sleep(0.5)
        assert info['backend'] == 'pytorch'
        opts = webdriver.ChromeOptions()
        opts.binary_location = chrome
        for flag in ('--headless=new', '--no-sandbox', '--disable-gpu',
                     '--disable-dev-shm-usage', '--disable-quic',
                     '--no-first-run', '--disable-background-networking',
                     '--disable-component-update', '--disable-sync',
                     f'--user-data-dir={tmp_path / "profile"}',
                     '--window-size=1200,1000'):
            opts.add_argument(flag)
        driver = webdriver.Chrome(service=Service(driver_exe),
                                  options=opts)
        driver.get(url)
        wait = WebDriverWait(driver, 60)
        wait.until(lambda d: d.find_element(By.TAG_NAME, 'body')
                   .get_attribute('data-ready') == '1')
        assert 'CC BY 4.0' in driver.find_element(By.ID, 'credit').text

        driver.find_element(By.ID, 'files').send_keys(slice_png)
        card = wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, '.result[data-name="lesion.png"]')))
        shown = {
            cls: card.find_element(By.CSS_SELECTOR, '.' + cls).text
            for cls in ('cls', 'prob', 'area-px', 'area-pct', 'bbox')
        }
        (ref, ) = TumorInferencer(CONFIG, checkpoint, backend='pytorch')(
            slice_png)
        assert shown['cls'] == ref['class_name']
        assert int(shown['area-px']) == ref['tumor_area_px']
        assert float(shown['area-pct']) == pytest.approx(
            ref['tumor_area_pct'], abs=1e-3)
        assert float(shown['prob']) == pytest.approx(
            ref['class_probs'][ref['class_index']], abs=1e-4)
        want_box = ('[' + ', '.join(map(str, ref['bbox'])) + ']'
                    if ref['bbox'] else 'none')
        assert shown['bbox'] == want_box
        # the opacity slider reaches the overlay
        mask = card.find_element(By.CSS_SELECTOR, 'img.mask')
        driver.execute_script(
            "const s = document.getElementById('opacity'); s.value = 80;"
            "s.dispatchEvent(new Event('input'));")
        assert float(mask.value_of_css_property('opacity')) == \
            pytest.approx(0.8)
        for link in ('dl-mask', 'dl-json'):
            assert card.find_element(By.CSS_SELECTOR, '.' + link)\
                .get_attribute('download')

        text_file = tmp_path / 'notes.txt'
        text_file.write_text('not an image')
        driver.find_element(By.ID, 'files').send_keys(str(text_file))
        err = wait.until(EC.presence_of_element_located(
            (By.CSS_SELECTOR, '.card.error[data-name="notes.txt"]')))
        assert 'notes.txt' in err.text and 'image' in err.text

        shot = os.environ.get('WEBDEMO_SCREENSHOT')
        if shot:  # the README's picture: WEBDEMO_SCREENSHOT=docs/webdemo.png
            driver.find_element(By.CSS_SELECTOR, '.example').click()
            wait.until(lambda d: len(d.find_elements(
                By.CSS_SELECTOR, '.result')) == 2)
            driver.save_screenshot(shot)
        assert server.poll() is None  # still up after the bad upload
    finally:
        if driver is not None:
            driver.quit()
        os.kill(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        finally:
            if server.poll() is None:
                server.kill()
            log.close()
    out = open(tmp_path / 'server.log').read()
    tmp_dir = out.split('temporary folder ')[1].split(')')[0]
    assert not osp.exists(tmp_dir), 'temporary folder left behind'
