"""Python inference API for both tasks."""
import os
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint
from mmseg.registry import MODELS

IMG_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff')
InputType = Union[str, np.ndarray]


class TumorInferencer:
    """Segment the tumor and classify the image, for one image, an array, a
    list of them or a folder.

    Args:
        model (str | Config | nn.Module): A config (path or ``Config``) to
            build the model from, or a built model (then ``cfg`` is needed
            for the pipeline unless the model carries one as ``model.cfg``).
        checkpoint (str, optional): Weights to load.
        device (str): 'cpu' or 'cuda[:i]'. Default: 'cpu'.
        cfg (str | Config, optional): Config of a model passed as a module.

    Each result is a dict::

        mask            (H, W) uint8, 1 = tumor, at the input's size
        class_index     int
        class_name      str (``metainfo['cls_classes']``)
        class_probs     list[float], softmax over the image classes
        tumor_area_px   int
        tumor_area_pct  float, percent of the image
        bbox            [x0, y0, x1, y1] (inclusive pixels) or None
        path            the input file, or None for an array
    """

    def __init__(self,
                 model: Union[str, Config, nn.Module],
                 checkpoint: Optional[str] = None,
                 device: str = 'cpu',
                 cfg: Optional[Union[str, Config]] = None):
        import mtnet_plugin  # noqa: F401
        if isinstance(model, nn.Module):
            cfg = cfg if cfg is not None else getattr(model, 'cfg', None)
            if cfg is None:
                raise ValueError('a model passed as a module needs `cfg` '
                                 '(its config) for the test pipeline')
        else:
            cfg = model
        self.cfg = Config.fromfile(cfg) if isinstance(cfg, str) else cfg
        init_default_scope(self.cfg.get('default_scope', 'mmseg'))
        if not isinstance(model, nn.Module):
            model_cfg = self.cfg.model.copy()
            model_cfg.pop('auxiliary_head', None)  # training only
            model_cfg['train_cfg'] = None
            model = MODELS.build(model_cfg)
            if checkpoint is not None:
                load_checkpoint(model, checkpoint, map_location='cpu')
        elif checkpoint is not None:
            load_checkpoint(model, checkpoint, map_location='cpu')
        self.model = model.to(device).eval()
        meta = self.cfg.get('metainfo', None) or \
            self.cfg.train_dataloader.dataset.get('metainfo', {}) or {}
        self.cls_classes = list(meta.get('cls_classes', ('0', '1')))
        pipeline = [
            t for t in self.cfg.test_pipeline
            if t['type'] not in ('LoadTumorAnnotations', 'LoadAnnotations')
        ]
        self.file_pipeline = Compose(pipeline)
        array_pipeline = [dict(type='LoadImageFromNDArray')] + pipeline[1:]
        self.array_pipeline = Compose(array_pipeline)

    @staticmethod
    def list_images(folder: str) -> List[str]:
        """Image files of a folder, sorted."""
        return sorted(
            osp.join(folder, f) for f in os.listdir(folder)
            if f.lower().endswith(IMG_EXTENSIONS))

    def _expand(self, inputs) -> list:
        if isinstance(inputs, str) and osp.isdir(inputs):
            return self.list_images(inputs)
        if isinstance(inputs, (str, np.ndarray)):
            return [inputs]
        return list(inputs)

    def _prepare(self, item: InputType) -> dict:
        if isinstance(item, np.ndarray):
            img = item if item.ndim == 3 else np.repeat(
                item[..., None], 3, axis=2)
            return self.array_pipeline(dict(img=img))
        return self.file_pipeline(dict(img_path=item))

    @torch.no_grad()
    def __call__(self, inputs: Union[InputType, Sequence[InputType]],
                 batch_size: int = 1) -> List[dict]:
        """Run inference; see the class docstring for the result fields."""
        items = self._expand(inputs)
        results = []
        for start in range(0, len(items), batch_size):
            chunk = items[start:start + batch_size]
            data = pseudo_collate([self._prepare(x) for x in chunk])
            for item, sample in zip(chunk, self.model.test_step(data)):
                results.append(self._to_result(item, sample))
        return results

    def _to_result(self, item, sample) -> dict:
        mask = (sample.pred_sem_seg.data[0] == 1).cpu().numpy().astype(
            np.uint8)
        probs = sample.pred_score.float().cpu().numpy()
        idx = int(probs.argmax())
        area = int(mask.sum())
        ys, xs = np.nonzero(mask)
        bbox = None if area == 0 else [
            int(xs.min()), int(ys.min()), int(xs.max()), int(ys.max())
        ]
        return dict(
            path=item if isinstance(item, str) else None,
            mask=mask,
            class_index=idx,
            class_name=self.cls_classes[idx]
            if idx < len(self.cls_classes) else str(idx),
            class_probs=[float(p) for p in probs],
            tumor_area_px=area,
            tumor_area_pct=100.0 * area / mask.size,
            bbox=bbox)
