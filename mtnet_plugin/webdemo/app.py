"""A FastAPI app with one HTML page: drop MRI slices, see the tumor, the
class and the numbers.

Routes::

    GET  /                  the page (index.html next to this file)
    GET  /api/info          classes, backend, limits, examples, data credit
    GET  /api/examples/{i}  synthetic example slice i as PNG (made in memory)
    POST /api/predict       multipart ``file`` -> the result (JSON)

``POST /api/predict`` answers::

    result      the record tools/infer.py writes (path = uploaded name,
                class_index, class_name, class_probs, tumor_area_px,
                tumor_area_pct, bbox)
    probability the predicted class's probability
    width, height
    image       data URL of the image as the model saw it (8-bit PNG)
    mask        data URL of the mask (PNG, 0 / 255)

Bad input gets a 4xx answer with a ``detail`` message and the server goes
on: an undecodable file (400), an upload over ``max_upload_mb`` (413),
more than ``max_queue`` requests waiting (503). Requests run one at a time
through the model (a lock), so simultaneous requests wait in turn. Uploads
are written, for the decoder only, into ``tmp_dir`` and deleted at once;
the folder itself belongs to the caller.
"""
import base64
import os
import os.path as osp
import threading
import uuid
from typing import List, Optional

import cv2
import numpy as np

from mtnet_plugin.apis.tumor_inferencer import RECORD_KEYS

DATA_CREDIT = (
    'Weights trained on the Roboflow "TumorSegmentation" brain-tumor '
    'dataset (Kaggle: "Brain Tumor Image DataSet: Semantic Segmentation"), '
    'licensed CC BY 4.0; credit Roboflow and the dataset\'s authors. '
    'Research use only, not a medical device.')


def _png_data_url(img: np.ndarray) -> str:
    ok, buf = cv2.imencode('.png', img)
    assert ok
    return 'data:image/png;base64,' + base64.b64encode(buf).decode()


def synthetic_examples(num: int = 3, size: int = 320,
                       seed: int = 11) -> List[bytes]:
    """PNG bytes of ``num`` synthetic slices, lesions in all but the last
    (``mtnet_plugin.datasets.synthetic_mri``)."""
    from mtnet_plugin.datasets.synthetic_mri import render_slice
    rng = np.random.default_rng(seed)
    out = []
    for i in range(num):
        img, _ = render_slice(rng, size, kind=None if i == num - 1 else i % 2)
        out.append(cv2.imencode('.png', img)[1].tobytes())
    return out


def create_app(inferencer,
               tmp_dir: str,
               max_upload_mb: float = 20,
               max_queue: int = 32,
               examples: Optional[List[bytes]] = None,
               title: str = 'EfficientMTNet'):
    """The app around a :class:`TumorInferencer`.

    Args:
        inferencer: The model (any backend).
        tmp_dir (str): Folder for the uploads while they are decoded.
        max_upload_mb (float): Larger uploads are refused (413).
        max_queue (int): Requests allowed to wait for the model; more get
            503 "busy".
        examples (list[bytes], optional): PNG example slices. Default:
            :func:`synthetic_examples`.
    """
    from fastapi import FastAPI, File, HTTPException, Request, UploadFile
    from fastapi.responses import HTMLResponse, JSONResponse, Response

    app = FastAPI(title=title, docs_url=None, redoc_url=None)
    limit = int(max_upload_mb * 1024 * 1024)
    examples = synthetic_examples() if examples is None else examples
    page = open(osp.join(osp.dirname(__file__), 'index.html'),
                encoding='utf-8').read()
    model_lock = threading.Lock()
    waiting = dict(n=0)
    waiting_lock = threading.Lock()

    @app.middleware('http')
    async def refuse_large_uploads(request: Request, call_next):
        size = request.headers.get('content-length')
        if size is not None and size.isdigit() and int(size) > limit:
            return JSONResponse(
                status_code=413,
                content=dict(detail=f'upload refused: larger than '
                             f'{max_upload_mb:g} MB'))
        return await call_next(request)

    @app.get('/', response_class=HTMLResponse)
    def index():
        return page

    @app.get('/api/info')
    def info():
        return dict(
            title=title,
            classes=inferencer.cls_classes,
            backend=inferencer.backend.name,
            max_upload_mb=max_upload_mb,
            examples=len(examples),
            credit=DATA_CREDIT)

    @app.get('/api/examples/{index}')
    def example(index: int):
        if not 0 <= index < len(examples):
            raise HTTPException(404, f'no example {index}')
        return Response(examples[index], media_type='image/png')

    def run_model(path: str, name: str) -> dict:
        with waiting_lock:
            if waiting['n'] >= max_queue:
                raise HTTPException(
                    503, f'busy: {max_queue} images are waiting; try again')
            waiting['n'] += 1
        try:
            with model_lock:
                (res, ) = list(
                    inferencer.iter_results([path], keep_image=True))
        except (IOError, ValueError) as e:
            raise HTTPException(
                400, f'cannot read {name!r} as an image (JPEG or PNG '
                'expected)') from e
        finally:
            with waiting_lock:
                waiting['n'] -= 1
        return res

    # a plain function: FastAPI runs it in its thread pool, so the event
    # loop keeps serving while the model runs
    @app.post('/api/predict')
    def predict(file: UploadFile = File(...)):
        name = osp.basename(file.filename or 'upload')
        data = file.file.read(limit + 1)
        if len(data) > limit:
            raise HTTPException(
                413, f'upload refused: larger than {max_upload_mb:g} MB')
        if not data:
            raise HTTPException(400, f'{name!r} is empty')
        ext = osp.splitext(name)[1].lower()
        if ext not in ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff'):
            ext = '.img'
        path = osp.join(tmp_dir, f'{uuid.uuid4().hex}{ext}')
        with open(path, 'wb') as f:
            f.write(data)
        try:
            res = run_model(path, name)
        finally:
            os.remove(path)
        record = {k: res[k] for k in RECORD_KEYS}
        record['path'] = name
        h, w = res['mask'].shape
        return dict(
            result=record,
            probability=res['class_probs'][res['class_index']],
            width=w,
            height=h,
            image=_png_data_url(res['image']),
            mask=_png_data_url(res['mask'] * 255))

    return app
