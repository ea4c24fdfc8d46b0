"""Inference backends: one callable per way of running
:class:`LogitsWrapper`.

Each backend maps a preprocessed batch (N, 3, H, W) float32 on the model's
device to ``(seg_logits (N, C, H, W), cls_logits (N, K))`` float32 tensors
on that device. :class:`TumorInferencer` does the same pre- and
post-processing around every backend.

========================  ==================================================
``pytorch``               eager PyTorch (optionally fp16/bf16 autocast)
``compile``               ``torch.compile`` of the same forward; ``mode=
                          'reduce-overhead'`` records CUDA graphs on a GPU
``onnxruntime``           an ONNX export run by onnxruntime (CPU, or CUDA
                          when onnxruntime-gpu is installed)
========================  ==================================================
"""
import contextlib
import importlib.util
import os.path as osp
from typing import Optional, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from torch import Tensor

from .inference import (LogitsWrapper, inference_input_shape,
                        preprocessed_example)
from .onnx_export import (CACHE_DIR, INPUT_NAME, OUTPUT_NAMES, compare_with_pytorch,
                          export_onnx, model_signature, onnx_cache_path,
                          require_onnxruntime)

BACKENDS = ('pytorch', 'compile', 'onnxruntime')
PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def default_backend(device: str = 'cpu') -> str:
    """The fastest backend installed for ``device``: onnxruntime on CPU
    when it (and onnx, to export) is importable, else eager PyTorch.

    ``compile`` is never the default: it is faster than eager per call but
    takes a minute or more to compile, which a folder of a few hundred
    images does not win back.
    """
    if device.startswith('cpu') and all(
            importlib.util.find_spec(m) is not None
            for m in ('onnxruntime', 'onnx')):
        return 'onnxruntime'
    return 'pytorch'


class PyTorchBackend:
    """Eager PyTorch, optionally under autocast (``precision`` 'fp16' or
    'bf16'; outputs are returned as float32)."""

    name = 'pytorch'

    def __init__(self, model: nn.Module, precision: str = 'fp32'):
        if precision not in PRECISIONS:
            raise ValueError(f'precision must be one of {list(PRECISIONS)}, '
                             f'got {precision!r}')
        self.wrapper = LogitsWrapper(model).eval()
        self.device_type = next(model.parameters()).device.type
        self.dtype = PRECISIONS[precision]
        self.forward = self.wrapper

    def _autocast(self):
        if self.dtype is None:
            return contextlib.nullcontext()
        return torch.autocast(self.device_type, dtype=self.dtype)

    @torch.no_grad()
    def __call__(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        with self._autocast():
            seg, cls = self.forward(inputs)
        return seg.float(), cls.float()


class CompileBackend(PyTorchBackend):
    """``torch.compile`` of the same forward.

    Args:
        mode (str): ``torch.compile`` mode; 'reduce-overhead' captures CUDA
            graphs on a GPU (launch-bound small batches), 'max-autotune'
            also tunes kernels. Default: 'default'.
        dynamic (bool): passed to ``torch.compile``. Default: False: each
            new input shape compiles a static graph (tens of seconds on a
            CPU). Dynamic shapes (True, or torch's automatic choice after a
            second shape) took over ten minutes to compile this model on 2
            CPU cores.
    """

    name = 'compile'

    def __init__(self, model: nn.Module, precision: str = 'fp32',
                 mode: str = 'default', dynamic: bool = False):
        super().__init__(model, precision)
        if self.wrapper.slide:
            raise ValueError('the compile backend needs test_cfg.mode='
                             '"whole"')
        self.forward = torch.compile(
            self.wrapper, mode=None if mode == 'default' else mode,
            dynamic=dynamic)


class ONNXRuntimeBackend:
    """An ONNX export of the model run by onnxruntime.

    Args:
        model (nn.Module): The PyTorch model the file must match; it is
            exported from when no file is given, and the file is checked
            against it on load: the output names and shapes, and both
            logits on a synthetic slice at the config's input size. A file
            from another model, a fixed-size export of another size or an
            unreadable file raises a ``ValueError`` naming the file.
        onnx_file (str, optional): An exported ``.onnx``. Default: export
            once and cache it beside ``checkpoint`` (keyed by the
            checkpoint's hash and the model config), see
            :func:`onnx_cache_path`.
        checkpoint (str, optional): The weights ``model`` was loaded from,
            to key the cache. Without it and without ``onnx_file`` the
            export goes to a temporary cache entry keyed by the weights.
        threads (int, optional): onnxruntime intra-op threads. Default:
            ``torch.get_num_threads()``.
        check (bool): Run the parity check on load. Default: True.
    """

    name = 'onnxruntime'

    def __init__(self,
                 model: nn.Module,
                 onnx_file: Optional[str] = None,
                 checkpoint: Optional[str] = None,
                 threads: Optional[int] = None,
                 precision: str = 'fp32',
                 check: bool = True):
        ort = require_onnxruntime()
        if precision != 'fp32':
            raise ValueError('the onnxruntime backend runs fp32 only')
        self.device = next(model.parameters()).device
        cfg = getattr(model, 'cfg', None)
        if onnx_file is None:
            onnx_file = self._cached_export(model, checkpoint, cfg)
        self.onnx_file = onnx_file
        if not osp.isfile(onnx_file):
            raise FileNotFoundError(f'ONNX file not found: {onnx_file}')
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = threads or torch.get_num_threads()
        opts.inter_op_num_threads = 1
        providers = ['CPUExecutionProvider']
        if (self.device.type == 'cuda' and 'CUDAExecutionProvider'
                in ort.get_available_providers()):
            providers.insert(0, 'CUDAExecutionProvider')
        try:
            self.session = ort.InferenceSession(
                onnx_file, opts, providers=providers)
        except Exception as e:
            raise ValueError(f'cannot load ONNX file {onnx_file}: '
                             f'{str(e).strip()[:300]}') from e
        names = ([i.name for i in self.session.get_inputs()],
                 [o.name for o in self.session.get_outputs()])
        if names != ([INPUT_NAME], list(OUTPUT_NAMES)):
            raise ValueError(
                f'{onnx_file} is not an EfficientMTNet export: inputs/outputs '
                f'{names}, expected ([{INPUT_NAME!r}], {list(OUTPUT_NAMES)})')
        if check:
            shape = inference_input_shape(cfg) if cfg is not None else (
                320, 320)
            self.check(model, preprocessed_example(model, shape))

    @staticmethod
    def _cached_export(model, checkpoint, cfg):
        if checkpoint is not None:
            path = onnx_cache_path(checkpoint, cfg.model if cfg else None)
        else:  # key by the weights themselves
            import hashlib
            h = hashlib.sha256()
            for t in model.state_dict().values():
                h.update(t.detach().cpu().numpy().tobytes())
            path = osp.join(
                CACHE_DIR, f'weights-{h.hexdigest()[:8]}-'
                f'{model_signature(cfg.model if cfg else None)[:8]}.onnx')
        if not osp.isfile(path):
            shape = inference_input_shape(cfg) if cfg is not None else (
                320, 320)
            print_log(f'exporting the model to {path} (once per checkpoint)',
                      logger='current')
            export_onnx(model, path, shape, dynamic=True,
                        metadata=dict(checkpoint=checkpoint or ''))
        return path

    def check(self, model: nn.Module, inputs: Tensor):
        """Raise a ``ValueError`` naming the file unless the export gives
        ``model``'s logits on ``inputs``."""
        try:
            report = compare_with_pytorch(self.session, model, inputs)
        except Exception as e:  # wrong rank or fixed size of another shape
            raise ValueError(
                f'{self.onnx_file} does not run on a {tuple(inputs.shape)} '
                f'batch of this model: {str(e).strip()[:300]}') from e
        if not report['ok']:
            raise ValueError(
                f'{self.onnx_file} does not match the loaded model (another '
                f'model or other weights?): max |logit difference| seg '
                f'{report["seg_max_abs"]:.3g}, class '
                f'{report["cls_max_abs"]:.3g}')

    def __call__(self, inputs: Tensor) -> Tuple[Tensor, Tensor]:
        seg, cls = self.session.run(
            None, {INPUT_NAME: inputs.float().cpu().contiguous().numpy()})
        return (torch.from_numpy(seg).to(self.device),
                torch.from_numpy(cls).to(self.device))


def build_backend(name: str,
                  model: nn.Module,
                  precision: str = 'fp32',
                  compile_mode: str = 'default',
                  onnx_file: Optional[str] = None,
                  checkpoint: Optional[str] = None,
                  threads: Optional[int] = None):
    """A backend of ``model``: ``name`` in :data:`BACKENDS`, or 'auto' for
    :func:`default_backend` of the model's device. ``compile_mode`` is for
    'compile'; ``onnx_file``, ``checkpoint`` (the cache key) and
    ``threads`` are for 'onnxruntime'."""
    if name == 'auto':
        name = default_backend(str(next(model.parameters()).device))
    if onnx_file is not None and name != 'onnxruntime':
        raise ValueError(f'an ONNX file ({onnx_file}) is run by the '
                         f"onnxruntime backend, not {name!r}")
    if name == 'pytorch':
        return PyTorchBackend(model, precision)
    if name == 'compile':
        return CompileBackend(model, precision, compile_mode)
    if name == 'onnxruntime':
        return ONNXRuntimeBackend(model, onnx_file, checkpoint, threads,
                                  precision)
    raise ValueError(f'unknown backend {name!r}; choose from {BACKENDS} or '
                     f"'auto'")
