"""Brain-tumor dataset from COCO instance annotations (Roboflow export)."""
import json
import os.path as osp
from collections import defaultdict
from typing import Dict, List, Optional

from mmengine.logging import print_log
from mmseg.datasets import BaseSegDataset
from mmseg.registry import DATASETS
from PIL import Image
from pycocotools import mask as mask_utils

from .medical_volume import is_medical_path, slice_size


class BadSampleError(ValueError):
    """Raised for an annotation or image that cannot be used as is."""


@DATASETS.register_module()
class CocoTumorDataset(BaseSegDataset):
    """COCO tumor annotations as semantic masks plus an image-level label.

    Layouts (through the usual ``data_root`` / ``ann_file`` / ``data_prefix``
    keys):

    - Roboflow: a split folder with its images and
      ``_annotations.coco.json``: ``data_root='data/brain-tumor-coco/train'``
      and the defaults ``ann_file='_annotations.coco.json'``,
      ``data_prefix=dict(img_path='')``;
    - plain COCO: ``ann_file='annotations/instances_train.json'``,
      ``data_prefix=dict(img_path='images/train')``.

    JSON files with and without a UTF-8 byte-order mark are read.

    Segmentation classes (``metainfo['classes']``): ``('background',
    'tumor')``; every annotation, whatever its category, is tumor (1). Masks
    are rasterised by :class:`LoadTumorAnnotations` from the ``ann_info``
    kept here (polygons, uncompressed or compressed RLE; ``iscrowd`` regions
    become ``ignore_index`` as COCO ignores crowds in evaluation).

    Image classes (``metainfo['cls_classes']``), by ``label_mode``:

    - ``'category'``: ``category_map`` maps COCO category *names* to class
      indices (Roboflow export: ``{'0': 0, '1': 1}``; its super-category
      "Tumor" is used by no annotation). An image whose annotations map to
      different classes is an error; an image without annotation gets
      ``empty_label`` (None makes it an error);
    - ``'presence'``: 1 if the image has a tumor annotation, else 0.

    Bad input (missing or unparsable JSON; a missing image, a corrupt image
    header, an image whose size differs from the JSON; a polygon with fewer
    than 3 points; a zero-area annotation; an annotation whose ``image_id``
    or ``category_id`` does not exist) raises :class:`BadSampleError` naming
    the file, the image and the annotation id. With
    ``on_bad_sample='skip'`` the image concerned is skipped instead (an
    annotation without a valid image is dropped), each skip is logged and the
    count is reported when the dataset is built. Coordinates outside the
    image are clipped, and counted in the build report.

    Args:
        ann_file (str): Annotation file, relative to ``data_root``.
            Default: '_annotations.coco.json'.
        label_mode (str): 'category' or 'presence'. Default: 'category'.
        category_map (dict, optional): Category name -> image class, for
            'category' mode. Default: ``{'0': 0, '1': 1}``.
        empty_label (int, optional): Label of an image without annotation in
            'category' mode; None makes it an error. Default: None.
        on_bad_sample (str): 'error' or 'skip'. Default: 'error'.
        check_image_files (bool): Open each image header at build time to
            check that it exists, is an image and has the size given in the
            JSON. Default: True.
        **kwargs: :class:`mmseg.datasets.BaseSegDataset` arguments.
    """

    METAINFO = dict(
        classes=('background', 'tumor'),
        palette=[[0, 0, 0], [255, 0, 0]],
        cls_classes=('0', '1'))

    def __init__(self,
                 ann_file: str = '_annotations.coco.json',
                 label_mode: str = 'category',
                 category_map: Optional[Dict[str, int]] = None,
                 empty_label: Optional[int] = None,
                 on_bad_sample: str = 'error',
                 check_image_files: bool = True,
                 data_prefix: dict = dict(img_path=''),
                 **kwargs):
        if label_mode not in ('category', 'presence'):
            raise ValueError(f'label_mode must be "category" or "presence", '
                             f'got {label_mode!r}')
        if on_bad_sample not in ('error', 'skip'):
            raise ValueError(f'on_bad_sample must be "error" or "skip", got '
                             f'{on_bad_sample!r}')
        self.label_mode = label_mode
        self.category_map = dict(
            category_map if category_map is not None else {
                '0': 0,
                '1': 1
            })
        self.empty_label = empty_label
        self.on_bad_sample = on_bad_sample
        self.check_image_files = check_image_files
        self.build_report: Dict[str, int] = {}
        self.skipped: List[str] = []
        super().__init__(
            ann_file=ann_file,
            data_prefix=data_prefix,
            img_suffix='',
            seg_map_suffix='',
            **kwargs)

    # ------------------------------------------------------------------ #
    def _bad(self, msg: str) -> None:
        """Raise, or (``on_bad_sample='skip'``) log the skip."""
        if self.on_bad_sample == 'error':
            raise BadSampleError(msg)
        self.skipped.append(msg)
        print_log(f'[CocoTumorDataset] skipped: {msg}', logger='current')

    def _read_json(self) -> dict:
        if not osp.isfile(self.ann_file):
            split = osp.basename(osp.dirname(self.ann_file))
            hint = ''
            if self.data_root and not osp.isdir(self.data_root):
                hint = (f'. The data root {self.data_root} does not exist: '
                        'lay the export out there with python '
                        'tools/dataset_converters/brain_tumor_coco.py '
                        'DOWNLOAD, or point every dataloader at your copy '
                        'with BRAIN_TUMOR_DATA_ROOT=/path/to/copy')
            elif split == 'test':
                # The Roboflow export has train/valid/test; copies that keep
                # test/ back have only the first two.
                hint = (
                    '. This copy has no test/ split; to evaluate on valid/ '
                    'instead, add --cfg-options '
                    'test_dataloader.dataset.ann_file='
                    'valid/_annotations.coco.json '
                    'test_dataloader.dataset.data_prefix.img_path=valid')
            raise FileNotFoundError(
                f'COCO annotation file not found: {self.ann_file}{hint}')
        try:
            with open(self.ann_file, encoding='utf-8-sig') as f:
                coco = json.load(f)
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise BadSampleError(
                f'{self.ann_file}: not a valid JSON file ({e})') from e
        for key in ('images', 'annotations', 'categories'):
            if not isinstance(coco.get(key), list):
                raise BadSampleError(
                    f'{self.ann_file}: no "{key}" list in the COCO JSON')
        return coco

    @staticmethod
    def _clip_polygon(poly: List[float], w: int, h: int):
        clipped = [
            min(max(v, 0.0), float(w if i % 2 == 0 else h))
            for i, v in enumerate(poly)
        ]
        return clipped, clipped != list(poly)

    @staticmethod
    def _polygon_area(poly: List[float]) -> float:
        xs, ys = poly[0::2], poly[1::2]
        n = len(xs)
        return abs(
            sum(xs[i] * ys[(i + 1) % n] - xs[(i + 1) % n] * ys[i]
                for i in range(n))) / 2

    @staticmethod
    def _rle(seg: dict, h: int, w: int) -> dict:
        """A compressed RLE from an uncompressed or compressed one."""
        if isinstance(seg['counts'], list):
            return mask_utils.frPyObjects(seg, h, w)
        rle = dict(seg)
        if isinstance(rle['counts'], str):
            rle['counts'] = rle['counts'].encode('ascii')
        return rle

    def _check_annotation(self, ann: dict, img: dict, where: str):
        """Validate (and clip) one annotation in place; return an error
        message or None."""
        seg = ann.get('segmentation')
        w, h = img['width'], img['height']
        if isinstance(seg, list):
            if not seg:
                return f'{where}: empty segmentation'
            polys, any_clipped = [], False
            for poly in seg:
                if not isinstance(poly, list) or len(poly) < 6 or \
                        len(poly) % 2:
                    n = len(poly) // 2 if isinstance(poly, list) else 0
                    return (f'{where}: polygon with {n} points '
                            '(at least 3 needed)')
                poly, clipped = self._clip_polygon(poly, w, h)
                any_clipped |= clipped
                polys.append(poly)
            if any_clipped:
                self.build_report['clipped_annotations'] += 1
                print_log(
                    f'[CocoTumorDataset] {where}: coordinates outside the '
                    f'{w}x{h} image clipped',
                    logger='current')
            if sum(self._polygon_area(p) for p in polys) <= 0:
                return f'{where}: zero-area annotation'
            ann['segmentation'] = polys
        elif isinstance(seg, dict) and 'counts' in seg and 'size' in seg:
            if list(seg['size']) != [h, w]:
                return (f'{where}: RLE size {seg["size"]} differs from the '
                        f'image size [{h}, {w}]')
            try:
                area = int(mask_utils.area(self._rle(seg, h, w)))
            except Exception as e:  # pycocotools: TypeError, ValueError...
                return f'{where}: unreadable RLE ({e})'
            if area == 0:
                return f'{where}: zero-area annotation (empty RLE)'
        else:
            return f'{where}: unsupported segmentation {type(seg).__name__}'
        return None

    def load_data_list(self) -> List[dict]:
        """Read the COCO JSON into mmseg data infos (one per image)."""
        self.build_report = defaultdict(int)
        self.skipped = []
        coco = self._read_json()
        ann_path = self.ann_file
        images = {img['id']: img for img in coco['images']}
        cats = {c['id']: c for c in coco['categories']}
        if self.label_mode == 'category':
            # Only categories that annotations use must be mapped (the
            # Roboflow super-category is not).
            used = {a.get('category_id') for a in coco['annotations']}
            missing = {
                cats[i]['name']
                for i in used
                if i in cats and cats[i]['name'] not in self.category_map
            }
            if missing:
                raise BadSampleError(
                    f'{ann_path}: categories {sorted(missing)} are used by '
                    f'annotations but not in category_map '
                    f'{self.category_map}')

        bad_images = set()
        anns_by_img = defaultdict(list)
        for ann in coco['annotations']:
            aid = ann.get('id')
            img = images.get(ann.get('image_id'))
            if img is None:
                self._bad(f'{ann_path}: annotation id {aid} refers to '
                          f'image_id {ann.get("image_id")}, which does not '
                          'exist')
                continue
            where = (f'{ann_path}: image {img["file_name"]} (id {img["id"]})'
                     f', annotation id {aid}')
            if ann.get('category_id') not in cats:
                self._bad(f'{where}: category_id {ann.get("category_id")} '
                          'does not exist')
                bad_images.add(img['id'])
                continue
            msg = self._check_annotation(ann, img, where)
            if msg is not None:
                self._bad(msg)
                bad_images.add(img['id'])
                continue
            anns_by_img[img['id']].append(ann)

        data_list = []
        for img_id, img in images.items():
            if img_id in bad_images:
                continue
            img_path = osp.join(self.data_prefix.get('img_path', ''),
                                img['file_name'])
            where = f'{ann_path}: image {img["file_name"]} (id {img_id})'
            if self.check_image_files and not self._image_ok(
                    img_path, img, where):
                continue
            anns = anns_by_img.get(img_id, [])
            label = self._image_label(anns, cats, where)
            if label is None:
                continue
            data_list.append(
                dict(
                    img_path=img_path,
                    seg_map_path=None,
                    img_id=img_id,
                    height=img['height'],
                    width=img['width'],
                    gt_label=label,
                    ann_info=[
                        dict(
                            id=a.get('id'),
                            segmentation=a['segmentation'],
                            iscrowd=a.get('iscrowd', 0),
                            category=cats[a['category_id']]['name'])
                        for a in anns
                    ],
                    label_map=self.label_map,
                    reduce_zero_label=self.reduce_zero_label,
                    seg_fields=[]))
        self.build_report['images'] = len(data_list)
        self.build_report['skipped'] = len(self.skipped)
        print_log(
            f'[CocoTumorDataset] {ann_path}: {len(data_list)} images loaded, '
            f'{len(self.skipped)} bad samples skipped, '
            f'{self.build_report["clipped_annotations"]} annotations '
            'clipped to the image',
            logger='current')
        return data_list

    def _image_ok(self, img_path: str, img: dict, where: str) -> bool:
        if not osp.isfile(img_path):
            self._bad(f'{where}: image file not found: {img_path}')
            return False
        try:
            if is_medical_path(img_path):  # DICOM / NIfTI: header only
                size = slice_size(img_path)
            else:
                with Image.open(img_path) as im:
                    size = im.size
        except Exception as e:  # PIL raises several types for bad files
            self._bad(f'{where}: corrupt or unreadable image {img_path} '
                      f'({e})')
            return False
        if size != (img['width'], img['height']):
            self._bad(f'{where}: image {img_path} is {size[0]}x{size[1]} '
                      f'but the JSON says {img["width"]}x{img["height"]}')
            return False
        return True

    def _image_label(self, anns: list, cats: dict, where: str):
        if self.label_mode == 'presence':
            return int(any(not a.get('iscrowd', 0) for a in anns))
        if not anns:
            if self.empty_label is None:
                self._bad(f'{where}: no annotation, and empty_label is None')
                return None
            return int(self.empty_label)
        labels = {
            self.category_map[cats[a['category_id']]['name']]
            for a in anns
        }
        if len(labels) > 1:
            ids = [a.get('id') for a in anns]
            self._bad(f'{where}: annotations {ids} disagree on the image '
                      f'class ({sorted(labels)})')
            return None
        return labels.pop()
