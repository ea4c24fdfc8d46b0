"""tools/webdemo.py: the API in-process, and the page in headless Chromium
against a real server process."""
import os
import os.path as osp
import shutil
import threading

import cv2
import numpy as np
import pytest

from ..conftest import load_tool

fastapi = pytest.importorskip('fastapi', reason='demo extra not installed')


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
def client(shipped, tmp_path_factory):
    """The app in-process around the shipped weights (they find the
    synthetic lesions: the numbers compared below are not zeros)."""
    pytest.importorskip('httpx')
    from fastapi.testclient import TestClient

    from mtnet_plugin.apis import TumorInferencer
    from mtnet_plugin.webdemo import create_app
    tmp = str(tmp_path_factory.mktemp('upload_tmp'))
    inf = TumorInferencer(*shipped, backend='pytorch', num_workers=0)
    app = create_app(inf, tmp, max_upload_mb=1, max_queue=64)
    return TestClient(app), inf, tmp


def test_api_result_matches_the_inferencer(client, slice_png):
    c, inf, tmp = client
    with open(slice_png, 'rb') as f:
        r = c.post('/api/predict', files=dict(file=('lesion.png', f)))
    assert r.status_code == 200, r.text
    body = r.json()
    (ref, ) = inf(slice_png)
    assert ref['tumor_area_px'] > 0
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


def test_api_under_load_answers_200_400_or_503_and_stays_up(
        shipped, slice_png, tmp_path):
    """40 concurrent uploads (good ones and garbage) against a queue of 4:
    every answer is 200, 400 or 503 "busy", the server answers afterwards
    and no upload is left in its temporary folder."""
    pytest.importorskip('httpx')
    from fastapi.testclient import TestClient

    from mtnet_plugin.apis import TumorInferencer
    from mtnet_plugin.webdemo import create_app
    tmp = str(tmp_path / 'uploads')
    os.makedirs(tmp)
    inf = TumorInferencer(*shipped, backend='pytorch', num_workers=0)
    c = TestClient(create_app(inf, tmp, max_upload_mb=1, max_queue=4))
    good = open(slice_png, 'rb').read()
    answers = [None] * 40

    def post(i):
        name, data = (f'{i}.png', good) if i % 4 else (f'{i}.png', b'junk')
        answers[i] = c.post('/api/predict', files=dict(file=(name, data)))

    threads = [threading.Thread(target=post, args=(i, )) for i in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    codes = [a.status_code for a in answers]
    assert set(codes) <= {200, 400, 503}, codes
    # The queue starts empty, so some requests are admitted; which ones
    # (good or junk) depends on the scheduler.
    assert {200, 400} & set(codes), codes
    for i, a in enumerate(answers):
        if i % 4:  # a good slice: answered, or turned away as busy
            assert a.status_code in (200, 503), (i, a.status_code)
        else:  # junk: refused, or turned away before reading
            assert a.status_code in (400, 503), (i, a.status_code)
    # Once the load is gone the server still tells the two apart.
    r = c.post('/api/predict', files=dict(file=('after.png', good)))
    assert r.status_code == 200
    r = c.post('/api/predict', files=dict(file=('after.png', b'junk')))
    assert r.status_code == 400
    assert os.listdir(tmp) == []


def _load_browser_helpers():
    return load_tool('misc/webdemo_browser.py')


@pytest.mark.slow
def test_page_in_headless_chromium(shipped, slice_png, tmp_path):
    """Upload a slice with a lesion, a 3D NIfTI and a text file through the
    page run as users run it (shipped weights, default backend); the
    numbers shown are the inferencer's; the server stops by its pid and
    leaves nothing behind (its ONNX export included)."""
    pytest.importorskip('selenium')
    pytest.importorskip('nibabel')
    from tests.medical_files import synthetic_stack, write_nifti
    volume_nii = write_nifti(
        str(tmp_path / 'scan.nii.gz'),
        np.transpose(synthetic_stack(5, size=96, seed=4),
                     (2, 1, 0)).astype(np.float32),
        np.diag([-0.9, -0.9, 3.0, 1.0]))
    wb = _load_browser_helpers()
    chrome, driver_exe = wb.find_chrome()
    if not chrome or not driver_exe:
        pytest.skip('Debian chromium + chromium-driver not installed '
                    '(make browser)')
    from selenium.webdriver.common.by import By

    from mtnet_plugin.apis import TumorInferencer, default_backend
    config = shipped[0]
    weights = tmp_path / 'weights'
    weights.mkdir()
    checkpoint = str(weights / osp.basename(shipped[1]))
    shutil.copy(shipped[1], checkpoint)
    log = str(tmp_path / 'server.log')
    server, url, info = wb.start_server(config, checkpoint, log)
    driver = None
    shown = None
    try:
        assert info['backend'] == default_backend('cpu')
        driver = wb.chrome_driver(str(tmp_path / 'profile'))
        wait = wb.open_page(driver, url)
        assert 'CC BY 4.0' in driver.find_element(By.ID, 'credit').text

        card = wb.upload(driver, wait, slice_png)
        assert 'error' not in card.get_attribute('class'), card.text
        shown = {
            cls: card.find_element(By.CSS_SELECTOR, '.' + cls).text
            for cls in ('cls', 'prob', 'area-px', 'area-pct', 'bbox')
        }
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
        err = wb.upload(driver, wait, str(text_file))
        assert 'error' in err.get_attribute('class')
        assert 'notes.txt' in err.text and 'image' in err.text

        # a 3D NIfTI: the slice slider changes the slice shown and its
        # numbers; the volume summary and the NIfTI mask download are there
        vol_card = wb.upload(driver, wait, volume_nii)
        assert 'error' not in vol_card.get_attribute('class'), vol_card.text
        slider = vol_card.find_element(By.CSS_SELECTOR, 'input.slice')
        first = vol_card.find_element(By.CSS_SELECTOR, '.area-px').text
        vol_shown = dict(first=int(first), start=int(slider.get_attribute(
            'value')), ml=vol_card.find_element(By.CSS_SELECTOR,
                                                '.v-ml').text)
        driver.execute_script(
            "arguments[0].value = 0;"
            "arguments[0].dispatchEvent(new Event('input'));", slider)
        wait.until(lambda d: vol_card.find_element(
            By.CSS_SELECTOR, '.slice-text').text.strip() == 'slice 1 of 5')
        vol_shown['slice0'] = int(vol_card.find_element(
            By.CSS_SELECTOR, '.area-px').text)
        assert vol_card.find_element(By.CSS_SELECTOR, '.dl-nifti')\
            .get_attribute('download') == 'scan_mask.nii.gz'

        # an example slice, one click
        driver.find_element(By.CSS_SELECTOR, '.example').click()
        wait.until(lambda d: d.find_elements(
            By.CSS_SELECTOR, '.result[data-name="synthetic_example_1.png"]'))
        assert server.poll() is None  # still up after the bad upload
    finally:
        if driver is not None:
            driver.quit()
        wb.stop_server(server)
    assert server.returncode == 0, open(log).read()[-2000:]
    out = open(log).read()
    tmp_dir = out.split('temporary folder ')[1].split(')')[0]
    assert not osp.exists(tmp_dir), 'temporary folder left behind'
    assert os.listdir(weights) == [osp.basename(checkpoint)]  # no cache
    # the numbers on the page are the inferencer's, same backend
    (ref, ) = TumorInferencer(config, checkpoint,
                              backend=info['backend'])(slice_png)
    assert shown['cls'] == ref['class_name']
    assert int(shown['area-px']) == ref['tumor_area_px'] > 0
    assert float(shown['area-pct']) == pytest.approx(
        ref['tumor_area_pct'], abs=1e-3)
    assert float(shown['prob']) == pytest.approx(
        ref['class_probs'][ref['class_index']], abs=1e-4)
    assert shown['bbox'] == '[' + ', '.join(map(str, ref['bbox'])) + ']'
    vol = TumorInferencer(config, checkpoint,
                          backend=info['backend']).infer_volume(volume_nii)
    areas = [s['tumor_area_px'] for s in vol['slices']]
    assert vol_shown['start'] == int(np.argmax(areas))
    assert vol_shown['first'] == max(areas) > 0
    assert vol_shown['slice0'] == areas[0]
    assert float(vol_shown['ml']) == pytest.approx(vol['tumor_volume_ml'],
                                                   abs=0.005)


def _b64(url):
    import base64
    return base64.b64decode(url.split(',', 1)[1])


def test_api_nifti_volume_slider_data_and_mask_download(client, tmp_path):
    """A 3D NIfTI: one answer per slice (as the inferencer's), the volume
    summary in mL, and the NIfTI mask with the upload's shape and affine."""
    pytest.importorskip('nibabel')
    import nibabel as nib
    from tests.medical_files import synthetic_stack, write_nifti
    c, inf, tmp = client
    stack = synthetic_stack(5, size=96, seed=4)
    affine = np.diag([-0.9, -0.9, 3.0, 1.0])
    path = write_nifti(str(tmp_path / 'scan.nii.gz'),
                       np.transpose(stack, (2, 1, 0)).astype(np.float32),
                       affine)
    with open(path, 'rb') as f:
        r = c.post('/api/predict', files=dict(file=('scan.nii.gz', f)))
    assert r.status_code == 200, r.text
    body = r.json()
    ref = inf.infer_volume(path)
    assert len(body['slices']) == 5
    areas = [s['result']['tumor_area_px'] for s in body['slices']]
    assert areas == [s['tumor_area_px'] for s in ref['slices']]
    assert sum(areas) > 0
    assert body['shown'] == int(np.argmax(areas))
    assert body['result'] == body['slices'][body['shown']]['result']
    v = body['volume']
    assert v['path'] == 'scan.nii.gz'
    assert v['tumor_volume_ml'] == pytest.approx(ref['tumor_volume_ml'])
    assert v['slices_with_tumor'] == ref['slices_with_tumor']
    for s in body['slices']:
        assert s['result']['tumor_area_mm2'] == pytest.approx(
            s['result']['tumor_area_px'] * 0.81, rel=1e-6)
    assert body['mask_nifti_name'] == 'scan_mask.nii.gz'
    out = tmp_path / 'dl.nii.gz'
    out.write_bytes(_b64(body['mask_nifti']))
    mask = nib.load(str(out))
    assert mask.shape == (96, 96, 5)
    np.testing.assert_allclose(mask.affine, affine, atol=1e-5)
    np.testing.assert_array_equal(
        np.asarray(mask.dataobj), np.transpose(ref['masks'], (2, 1, 0)))
    assert os.listdir(tmp) == []  # upload and mask file both deleted


def test_api_dicom_slice_mm2_and_bad_dicom(client, tmp_path):
    pytest.importorskip('pydicom')
    import pydicom
    from tests.medical_files import synthetic_stack, write_dicom_file
    c, inf, tmp = client
    px = synthetic_stack(3, size=96, seed=4)[1]
    path = write_dicom_file(str(tmp_path / 'a.dcm'), px,
                            PixelSpacing=[0.5, 0.6])
    with open(path, 'rb') as f:  # no extension: found by the preamble
        r = c.post('/api/predict', files=dict(file=('slice0001', f)))
    assert r.status_code == 200, r.text
    rec = r.json()['result']
    assert rec['pixel_spacing_mm'] == [0.5, 0.6]
    assert rec['tumor_area_mm2'] == pytest.approx(rec['tumor_area_px'] * 0.3)
    assert 'volume' not in r.json()
    ds = pydicom.dcmread(path)
    del ds.PixelData
    ds.save_as(path)
    with open(path, 'rb') as f:
        r = c.post('/api/predict', files=dict(file=('nopix.dcm', f)))
    assert r.status_code == 400
    assert "'nopix.dcm'" in r.json()['detail']
    assert 'no pixel data' in r.json()['detail']
    assert os.listdir(tmp) == []


@pytest.mark.parametrize('int8_faster', [True, False])
def test_auto_int8_page_writes_only_to_its_temporary_folder(
        int8_validated, real_data, tmp_path, monkeypatch, int8_faster):
    """With shipped weights whose int8 validation record meets the rule
    (the default's when it does) and the real training images (the
    calibration set the record names), ``auto`` runs int8 where it is faster
    (a faked timing, both ways); the page's export and int8 file go to its
    temporary folder."""
    pytest.importorskip('onnxruntime')
    from mtnet_plugin.apis import backends
    from mtnet_plugin.apis.onnx_quantize import find_int8_record
    monkeypatch.setattr(backends, 'AUTO_TIMINGS', str(tmp_path / 't.json'))
    monkeypatch.setattr(
        backends, 'time_backends', lambda b, inputs, **kw: {
            'onnxruntime': 5.0,
            'onnxruntime-int8': 3.0 if int8_faster else 6.0})
    tool = load_tool('webdemo.py')
    config, shipped_ckpt = int8_validated
    weights = tmp_path / 'weights'
    weights.mkdir()
    ckpt = str(weights / osp.basename(shipped_ckpt))
    shutil.copy(shipped_ckpt, ckpt)
    record = osp.join(weights, osp.basename(find_int8_record(shipped_ckpt)))
    shutil.copy(find_int8_record(shipped_ckpt), record)
    page_tmp = tmp_path / 'page'
    page_tmp.mkdir()
    args = tool.parse_args(['--config', config, '--checkpoint', ckpt])
    inferencer = tool.build_inferencer(args, str(page_tmp))
    assert inferencer.backend.name == ('onnxruntime-int8' if int8_faster
                                       else 'onnxruntime')
    assert osp.dirname(inferencer.backend.onnx_file) == str(page_tmp)
    assert sorted(os.listdir(weights)) == sorted(
        [osp.basename(ckpt), osp.basename(record)])
