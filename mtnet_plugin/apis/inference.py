"""Build a model for inference and the forward that every backend runs."""
import copy
from typing import Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.config import Config
from mmengine.logging import print_log
from mmengine.registry import init_default_scope
from mmengine.runner.checkpoint import load_state_dict
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor

from ..utils.checkpoint_fit import (TRAINING_ONLY_PREFIXES,
                                    checkpoint_mismatches, raise_on_mismatch,
                                    read_state_dict)


def load_inference_weights(model: nn.Module, checkpoint: str,
                           drop_prefixes: Sequence[str] = TRAINING_ONLY_PREFIXES
                           ) -> dict:
    """Load ``checkpoint`` into an inference model, strictly, without the
    training-only heads.

    A checkpoint saved by training holds the auxiliary heads; the inference
    model has none. Rather than a warning per missing key (mmengine's
    non-strict load), their parameters are dropped first, one line says
    how many, and every other key must match: a
    :class:`~mtnet_plugin.utils.CheckpointMismatchError` names the
    checkpoint, the config and the first keys that do not.

    Returns:
        dict: the checkpoint's ``meta`` (empty if it has none).
    """
    # mmengine's loader would add a line of its own; read it directly
    # (any mmengine file backend; torch's weights_only unpickler with the
    # classes mtnet_plugin allow-lists)
    state_dict, ckpt = read_state_dict(checkpoint)
    dropped = [k for k in state_dict if k.startswith(tuple(drop_prefixes))]
    for k in dropped:
        del state_dict[k]
    cfg = getattr(model, 'cfg', None)
    raise_on_mismatch(checkpoint_mismatches(model, state_dict, ()),
                      checkpoint, getattr(cfg, 'filename', None))
    load_state_dict(model, state_dict, strict=True)
    if dropped:
        heads = sorted({k.split('.')[0] for k in dropped})
        print_log(
            f'loaded {checkpoint} for inference; its {len(dropped)} '
            f'training-only tensors ({", ".join(heads)}) are not used',
            logger='current')
    return ckpt.get('meta', {})


def init_model(config: Union[str, Config],
               checkpoint: Optional[str] = None,
               device: str = 'cpu',
               cfg_options: Optional[dict] = None) -> nn.Module:
    """Build the inference model of a config (no auxiliary heads, no
    ``train_cfg``), load ``checkpoint`` with
    :func:`load_inference_weights` and put it in eval mode on ``device``.

    The config is attached as ``model.cfg`` (as mmseg's ``init_model``
    does).
    """
    cfg = Config.fromfile(config) if isinstance(config, str) else \
        copy.deepcopy(config)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = copy.deepcopy(cfg.model)
    model_cfg.pop('auxiliary_head', None)  # training only
    model_cfg['train_cfg'] = None
    model_cfg.pop('pretrained', None)
    model = MODELS.build(model_cfg)
    model.cfg = cfg
    if checkpoint is not None:
        load_inference_weights(model, checkpoint)
    return model.to(device).eval()


class LogitsWrapper(nn.Module):
    """What every inference backend computes, and what ONNX exports.

    (N, 3, H, W) preprocessed batch (``model.data_preprocessor``'s output)
    -> segmentation logits (N, num_classes, H, W), resized to the input as
    ``decode_head.predict`` does, and class logits (N, num_cls_classes).
    Fed to ``model.postprocess_result`` this gives what ``model.predict``
    gives: the pre- and post-processing stay outside, shared by all
    backends.

    A config with ``test_cfg.mode='slide'`` runs mmseg's sliding-window
    inference for the mask (PyTorch backends only; not exportable).

    A single-task segmentor (mmseg's ``EncoderDecoder``, e.g. the
    benchmark's peer) gives ``(seg_logits, )``: it runs through the same
    backends and exports, for timing.
    """

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    @property
    def slide(self) -> bool:
        return self.model.test_cfg.get('mode', 'whole') == 'slide'

    def forward(self, x: Tensor) -> Tuple[Tensor, ...]:
        model = self.model
        if self.slide:
            shape = x.shape[2:]
            metas = [dict(img_shape=shape, ori_shape=shape, pad_shape=shape)
                     ] * x.shape[0]
            seg = model.slide_inference(x, metas)
            return seg, model.classify(model.extract_feat(x))
        out = model._forward(x)
        seg, cls = out if isinstance(out, (tuple, list)) else (out, None)
        seg = resize(seg, size=x.shape[2:], mode='bilinear',
                     align_corners=model.align_corners)
        return (seg, ) if cls is None else (seg, cls)


def inference_input_shape(cfg: Config) -> Tuple[int, int]:
    """(H, W) the test pipeline resizes images to, or (512, 512)."""
    for t in cfg.get('test_pipeline', []):
        if t.get('type') == 'Resize' and not t.get('keep_ratio', False):
            scale = t['scale']  # (W, H) in mmcv
            return int(scale[1]), int(scale[0])
    return 512, 512


def preprocessed_example(model: nn.Module, shape: Tuple[int, int],
                         num: int = 1, seed: int = 0) -> Tensor:
    """Synthetic MRI slices (not noise) through ``model.data_preprocessor``:
    (num, 3, H, W) float32 on the model's device."""
    import numpy as np

    from mtnet_plugin.datasets.synthetic_mri import render_slice
    rng = np.random.default_rng(seed)
    imgs = []
    for i in range(num):
        img, _ = render_slice(rng, max(shape), kind=i % 2)
        img = np.ascontiguousarray(img[:shape[0], :shape[1]])
        imgs.append(torch.from_numpy(np.repeat(img[None], 3, axis=0)))
    data = model.data_preprocessor(dict(inputs=imgs), training=False)
    return data['inputs'].float()
