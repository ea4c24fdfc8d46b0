"""A FastAPI app with one HTML page: drop MRI slices, see the tumor, the
class and the numbers.

Routes::

    GET  /                  the page (index.html next to this file)
    GET  /api/info          classes, backend, limits, examples, data credit
    GET  /api/examples/{i}  synthetic example slice i as PNG (made in memory)
    POST /api/predict       multipart ``file`` -> the result (JSON)

Uploads: JPEG, PNG (grey, RGB, 16-bit), DICOM (``.dcm``, or any file with
the DICOM preamble; single- or multi-frame) and NIfTI (``.nii``,
``.nii.gz``, 2D or 3D; the ``.[medical]`` extra).

``POST /api/predict`` answers::

    result      the record tools/infer.py writes (path = uploaded name,
                class_index, class_name, class_probs, tumor_area_px,
                tumor_area_pct, bbox, pixel_spacing_mm, tumor_area_mm2)
    probability the predicted class's probability
    width, height
    image       data URL of the image as the model saw it (8-bit PNG)
    mask        data URL of the mask (PNG, 0 / 255)

and for a volume (multi-frame DICOM, 3D NIfTI), the fields above for the
slice shown first (the one with the largest tumor area), plus::

    volume      tools/infer.py's volume record (tumor_volume_ml,
                slices_with_tumor, the volume's class, per-slice records)
    slices      per slice: result, probability, image, mask (as above)
    shown       index of the slice the top-level fields describe
    mask_nifti  data URL of <name>_mask.nii.gz (the input's shape and
                affine: it opens over the scan in 3D Slicer or ITK-SNAP)

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

from mtnet_plugin.apis.tumor_inferencer import RECORD_KEYS, SLICE_KEYS
from mtnet_plugin.datasets.medical_volume import (MedicalImageError,
                                                  write_mask_nifti)

#: extensions kept on the temporary copy of an upload (the readers use them)
UPLOAD_EXTENSIONS = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.dcm',
                     '.dicom', '.nii', '.nii.gz')

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

    def run_model(path: str, name: str) -> List[dict]:
        with waiting_lock:
            if waiting['n'] >= max_queue:
                raise HTTPException(
                    503, f'busy: {max_queue} images are waiting; try again')
            waiting['n'] += 1
        try:
            with model_lock:
                results = list(inferencer.iter_results(
                    [path], batch_size=8, keep_image=True))
        except MedicalImageError as e:  # says what is wrong with the file
            raise HTTPException(400, str(e).replace(path, repr(name))) from e
        except (IOError, ValueError) as e:
            raise HTTPException(
                400, f'cannot read {name!r} as an image (JPEG, PNG, DICOM '
                'or NIfTI expected)') from e
        finally:
            with waiting_lock:
                waiting['n'] -= 1
        return results

    def slice_answer(res: dict, name: str) -> dict:
        record = {k: res[k] for k in RECORD_KEYS}
        record['path'] = name
        if res.get('num_slices', 1) > 1:
            record.update({k: res[k] for k in SLICE_KEYS})
        h, w = res['mask'].shape
        return dict(
            result=record,
            probability=res['class_probs'][res['class_index']],
            width=w,
            height=h,
            image=_png_data_url(res['image']),
            mask=_png_data_url(res['mask'] * 255))

    def volume_answer(results: List[dict], name: str, stem: str) -> dict:
        slices = [slice_answer(r, name) for r in results]
        volume = results[0]['volume']
        summary = inferencer.summarize_volume(volume, results)
        summary['path'] = name
        out = osp.join(tmp_dir, f'{uuid.uuid4().hex}_mask.nii.gz')
        try:
            write_mask_nifti(volume, [r['mask'] for r in results], out)
            with open(out, 'rb') as f:
                nifti = f.read()
        finally:
            if osp.exists(out):
                os.remove(out)
        shown = int(np.argmax([r['tumor_area_px'] for r in results])) \
            if any(r['tumor_area_px'] for r in results) else len(results) // 2
        answer = dict(slices[shown])
        answer.update(
            volume=summary,
            slices=slices,
            shown=shown,
            mask_nifti_name=f'{stem}_mask.nii.gz',
            mask_nifti='data:application/gzip;base64,' +
            base64.b64encode(nifti).decode())
        return answer

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
        ext = next((e for e in UPLOAD_EXTENSIONS
                    if name.lower().endswith(e)), '')
        stem = name[:len(name) - len(ext)] if ext else name
        # no extension: DICOM is recognised by its preamble, images by
        # their bytes
        path = osp.join(tmp_dir, f'{uuid.uuid4().hex}{ext}')
        with open(path, 'wb') as f:
            f.write(data)
        try:
            results = run_model(path, name)
        finally:
            os.remove(path)
        if 'error' in results[0]:
            raise HTTPException(400, results[0]['error'])
        if results[0].get('num_slices', 1) > 1:
            return volume_answer(results, name, stem)
        return slice_answer(results[0], name)

    return app
