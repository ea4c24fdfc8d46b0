"""ONNX export of both outputs with dynamic batch, height and width, its
check against PyTorch, and the cache of exports beside a checkpoint."""
import copy
import hashlib
import os
import os.path as osp
import warnings
from typing import Optional, Tuple, Union

import numpy as np
import torch
import torch.nn as nn

from .inference import LogitsWrapper

INPUT_NAME = 'input'
OUTPUT_NAMES = ('seg_logits', 'cls_logits')
DEFAULT_OPSET = 17
#: Version of what :func:`export_onnx` writes for the same weights; part of
#: the cache key and of the int8 settings, so that a changed export (2: the
#: SE gates as ``HardSigmoid``) is exported, quantized and validated again.
EXPORT_VERSION = 2
CACHE_DIR = osp.join(osp.expanduser('~'), '.cache', 'efficient-mtnet', 'onnx')

ONNX_EXTRA_HINT = ('install the deployment extra: pip install -e ".[deploy]" '
                   '(or: pip install onnx onnxruntime)')


def require_onnxruntime():
    """Import onnxruntime, or raise an ImportError that names the extra."""
    try:
        import onnxruntime
    except ImportError as e:
        raise ImportError(f'the onnxruntime backend needs onnxruntime; '
                          f'{ONNX_EXTRA_HINT}') from e
    return onnxruntime


def static_same_padding(model: nn.Module) -> nn.Module:
    """Replace mmcv's ``Conv2dAdaptivePadding`` (TensorFlow "same" padding,
    used by the stride-2 depthwise convolutions of the inverted-residual
    stages) in ``model`` by a fixed zero pad and a plain ``nn.Conv2d``.

    Its padding is computed from the input size in Python, which the ONNX
    tracer records as a constant: an export would then give every input
    the output size of the export's dummy input. For an input divisible by
    the stride the padding is the same for every size (total
    ``max(dilation * (kernel - 1) + 1 - stride, 0)``), and every input of
    these layers is, since the data preprocessor pads images to multiples
    of 32 (``size_divisor``). Weights are shared, not copied.
    """
    from mmcv.cnn.bricks.conv2d_adaptive_padding import \
        Conv2dAdaptivePadding
    for name, child in list(model.named_children()):
        if isinstance(child, Conv2dAdaptivePadding):
            pads = []
            for k, s, d in zip(child.kernel_size, child.stride,
                               child.dilation):
                total = max(d * (k - 1) + 1 - s, 0)
                pads.append((total // 2, total - total // 2))
            conv = nn.Conv2d(
                child.in_channels, child.out_channels, child.kernel_size,
                child.stride, 0, child.dilation, child.groups,
                child.bias is not None)
            conv.weight, conv.bias = child.weight, child.bias
            (top, bottom), (left, right) = pads
            setattr(model, name,
                    nn.Sequential(nn.ZeroPad2d((left, right, top, bottom)),
                                  conv))
        else:
            static_same_padding(child)
    return model


def hard_sigmoid_gates(model: nn.Module) -> nn.Module:
    """Replace mmcv's ``HSigmoid`` with its defaults (``clamp((x + 3) / 6,
    0, 1)``, the gate of mmseg's ``SELayer``) in ``model`` by
    ``nn.Hardsigmoid``, the same function.

    The tracer writes mmcv's as three ONNX nodes (Add, Div, Clip) outside
    onnxruntime's blocked layout; ``nn.Hardsigmoid`` is one
    ``HardSigmoid`` node, which onnxruntime fuses into the 1x1 conv before
    it. The outputs agree to float rounding (``x / 6 + 0.5`` against
    ``(x + 3) / 6``). Other ``HSigmoid`` settings are left as they are.
    """
    from mmcv.cnn.bricks import HSigmoid
    for name, child in list(model.named_children()):
        if (isinstance(child, HSigmoid) and child.bias == 3.0
                and child.divisor == 6.0 and child.min_value == 0.0
                and child.max_value == 1.0):
            setattr(model, name, nn.Hardsigmoid())
        else:
            hard_sigmoid_gates(child)
    return model


def export_onnx(model: nn.Module,
                out: str,
                shape: Tuple[int, int] = (640, 640),
                dynamic: Union[bool, str] = True,
                opset: int = DEFAULT_OPSET,
                metadata: Optional[dict] = None,
                dynamo: bool = False) -> str:
    """Export ``LogitsWrapper(model)`` to ``out`` and check it with
    ``onnx.checker``.

    Input ``input`` (N, 3, H, W) float32, preprocessed; outputs
    ``seg_logits`` (N, num_classes, H, W) and ``cls_logits``
    (N, num_cls_classes). With ``dynamic`` True N, H and W are free (H and
    W multiples of 32, what the data preprocessor pads to); with 'batch'
    N alone, the graph fixed to (N, 3, *shape); with False fixed to
    (1, 3, *shape). The file is written to a temporary name and renamed,
    so ``out`` is never left half-written.

    ``dynamo=True`` uses ``torch.export`` (opset >= 18) instead of the
    TorchScript tracer: what mmseg's Fast-SCNN needs (it pools to 3x3 and
    6x6 bins of a 20x20 map, which the tracer cannot write); H and W are
    then fixed (``dynamic`` False or 'batch').
    """
    try:
        import onnx
    except ImportError as e:
        raise ImportError(f'ONNX export needs onnx; {ONNX_EXTRA_HINT}') from e
    if dynamic not in (True, False, 'batch'):
        raise ValueError(f"dynamic must be True, False or 'batch', not "
                         f'{dynamic!r}')
    if dynamo and dynamic is True:
        raise ValueError("dynamo=True exports a fixed height and width: "
                         "dynamic=False or 'batch'")
    wrapper = LogitsWrapper(
        hard_sigmoid_gates(
            static_same_padding(copy.deepcopy(model).cpu().float()))).eval()
    if wrapper.slide:
        raise ValueError('a config with test_cfg.mode="slide" cannot be '
                         'exported; use mode="whole"')
    dummy = torch.zeros(1, 3, *shape)
    with torch.no_grad():  # (seg, cls), or (seg, ) for a single-task peer
        names = list(OUTPUT_NAMES[:len(wrapper(dummy))])
    axes = dynamic_shapes = None
    if dynamic and dynamo:  # 'batch': N free, as torch.export spells it
        dynamic_shapes = ({0: torch.export.Dim('batch', max=4096)}, )
        dummy = torch.zeros(2, 3, *shape)  # a size-1 dim would be fixed
    elif dynamic:
        free = {0: 'batch'} if dynamic == 'batch' else {
            0: 'batch', 2: 'height', 3: 'width'}
        axes = {INPUT_NAME: free, OUTPUT_NAMES[0]: free}
        if len(names) > 1:
            axes[OUTPUT_NAMES[1]] = {0: 'batch'}
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp = f'{out}.tmp{os.getpid()}'
    try:
        # The tracer's warnings (Python ints from shapes, constant folding)
        # are about what static_same_padding fixes and the parity checks
        # verify; users of the inferencer should not get a wall of them.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter('ignore')
            torch.onnx.export(
                wrapper, (dummy, ), tmp, input_names=[INPUT_NAME],
                output_names=names, dynamic_axes=axes,
                opset_version=max(opset, 18) if dynamo else opset,
                dynamo=dynamo,
                **(dict(dynamic_shapes=dynamic_shapes)
                   if dynamic_shapes else {}))
        proto = onnx.load(tmp)
        for key, value in (metadata or {}).items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = str(key), str(value)
        onnx.checker.check_model(proto)
        onnx.save(proto, tmp)
        os.replace(tmp, out)
    finally:
        # the torch.export exporter writes the weights beside the graph
        # (``<tmp>.data``); the saved file holds them inline
        for path in (tmp, f'{tmp}.data'):
            if osp.exists(path):
                os.remove(path)
    return out


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def model_signature(model_cfg) -> str:
    """Hash of a model config: exports of other NMF steps, heads, etc. do
    not share a cache entry."""
    return hashlib.sha256(repr(model_cfg).encode()).hexdigest()


def onnx_cache_path(checkpoint: str, model_cfg,
                    opset: int = DEFAULT_OPSET) -> str:
    """``<checkpoint dir>/<stem>.<ckpt hash>-<model hash>.onnx``, or the
    same name under ``~/.cache/efficient-mtnet/onnx`` when the checkpoint's
    folder is not writable."""
    key = (f'{file_sha256(checkpoint)[:8]}-'
           f'{model_signature(model_cfg)[:8]}-op{opset}-v{EXPORT_VERSION}')
    stem = osp.splitext(osp.basename(checkpoint))[0]
    folder = osp.dirname(osp.abspath(checkpoint))
    if not os.access(folder, os.W_OK):
        folder = CACHE_DIR
    return osp.join(folder, f'{stem}.{key}.onnx')


def compare_with_pytorch(session, model: nn.Module, inputs: torch.Tensor,
                         atol: float = 1e-3) -> dict:
    """Run an onnxruntime ``session`` and ``LogitsWrapper(model)`` on
    ``inputs`` (N, 3, H, W); return the largest logit differences, the
    number of mask pixels and classes that differ, and ``ok``.

    ``atol`` is relative to the largest logit magnitude (at least 1).
    """
    wrapper = LogitsWrapper(model).eval()
    device = next(model.parameters()).device
    with torch.no_grad():
        ref = [t.float().cpu().numpy() for t in wrapper(inputs.to(device))]
    out = session.run(None, {INPUT_NAME: inputs.cpu().numpy()})
    if len(out) != len(ref):
        raise ValueError(f'{len(out)} outputs, the model gives {len(ref)}')
    seg_t, seg_o = ref[0], out[0]
    # a single-task peer has no class logits: compare empty ones
    cls_t, cls_o = (ref[1], out[1]) if len(ref) > 1 else (np.zeros(
        (len(seg_t), 1)), np.zeros((len(seg_o), 1)))
    scale = max(1.0, float(np.abs(seg_t).max()), float(np.abs(cls_t).max()))
    report = dict(
        seg_max_abs=float(np.abs(seg_t - seg_o).max()),
        cls_max_abs=float(np.abs(cls_t - cls_o).max()),
        mask_mismatch=int((seg_t.argmax(1) != seg_o.argmax(1)).sum()),
        mask_pixels=int(seg_t.shape[0] * seg_t.shape[2] * seg_t.shape[3]),
        class_mismatch=int((cls_t.argmax(1) != cls_o.argmax(1)).sum()))
    report['ok'] = (report['seg_max_abs'] <= atol * scale
                    and report['cls_max_abs'] <= atol * scale
                    and report['class_mismatch'] == 0)
    return report
