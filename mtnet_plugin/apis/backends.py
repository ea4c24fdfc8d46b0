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
``onnxruntime-int8``      the same export statically quantized to int8
                          (QDQ, per-channel weights; float islands kept),
                          calibrated on train images; CPU
========================  ==================================================
"""
import contextlib
import importlib.util
import logging
import os
import os.path as osp
import time
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from torch import Tensor

from .inference_pipeline import InferencePipeline, list_images
from .inference import (LogitsWrapper, inference_input_shape,
                        preprocessed_example)
from .onnx_export import (CACHE_DIR, EXPORT_VERSION, INPUT_NAME,
                          OUTPUT_NAMES, compare_with_pytorch, export_onnx,
                          model_signature, onnx_cache_path,
                          require_onnxruntime)
from .onnx_quantize import (FLOAT_ISLANDS, calibration_key,
                            check_float_islands, int8_cache_path,
                            quantize_onnx, read_int8_record, spread)

BACKENDS = ('pytorch', 'compile', 'onnxruntime', 'onnxruntime-int8')
PRECISIONS = {'fp32': None, 'fp16': torch.float16, 'bf16': torch.bfloat16}


def default_backend(device: str = 'cpu',
                    checkpoint: Optional[str] = None,
                    cfg=None) -> str:
    """The backend ``auto`` runs on ``device``.

    - CUDA, or no onnxruntime/onnx installed: eager PyTorch.
    - CPU: onnxruntime; its int8 backend is a candidate only where the
      int8 file that would run was validated on valid/ and met the accuracy
      rule (:data:`~.onnx_quantize.INT8_RULE`) on a CPU of this one's
      class of int8 kernels: a record
      ``<checkpoint stem>.int8-valid-<kernels>.json`` beside
      ``checkpoint`` (written by
      ``tools/analysis_tools/compare_backends.py --record``; or
      ``<stem>.int8-valid.json``, written before records named a class)
      for these weights, the default settings, and the calibration images
      this machine would use (the config's training images, hashed). One
      log line says which and why. :func:`build_backend` then runs the
      candidate only if it is also faster on this CPU
      (:func:`fastest_onnxruntime`).

    ``compile`` is never the default: it is faster than eager per call but
    takes a minute or more to compile, which a folder of a few hundred
    images does not win back.
    """
    if not device.startswith('cpu') or not all(
            importlib.util.find_spec(m) is not None
            for m in ('onnxruntime', 'onnx')):
        return 'pytorch'
    if checkpoint is None or not osp.isfile(checkpoint):
        return 'onnxruntime'
    settings = ONNXRuntimeInt8Backend.default_settings()
    try:
        key = calibration_key(
            calibration_images(cfg, None, settings['num_calib']), settings)
    except FileNotFoundError as e:
        ok, why = False, f'no calibration images here ({e})'
    else:
        ok, why = read_int8_record(checkpoint, settings, key)
    name = 'onnxruntime-int8' if ok else 'onnxruntime'
    print_log(f'backend auto: int8 meets the accuracy record ({why}); '
              'it runs if it is also faster here' if ok else
              f'backend auto -> onnxruntime: int8 not used: {why}',
              logger='current')
    return name


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
    def __call__(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        with self._autocast():
            out = self.forward(inputs)
        return tuple(t.float() for t in out)


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
        require_onnxruntime()
        if precision != 'fp32':
            raise ValueError('the onnxruntime backend runs fp32 only')
        self.device = next(model.parameters()).device
        cfg = getattr(model, 'cfg', None)
        if onnx_file is not None:  # the user's file: checked, never rebuilt
            self._open(model, onnx_file, cfg, threads, check)
            return
        path = self._cached_file(model, checkpoint, cfg)
        try:
            self._open(model, path, cfg, threads, check)
        except Exception as e:  # a damaged cache entry: derived, rebuild it
            aside = move_aside(path)
            print_log(
                f'cached {path} is unusable ({one_line(e)}); moved to '
                f'{aside} and rebuilt', logger='current', level=logging.WARNING)
            path = self._cached_file(model, checkpoint, cfg)
            try:
                self._open(model, path, cfg, threads, check)
            except Exception as e2:
                raise ValueError(f'{path} was rebuilt and still fails: '
                                 f'{one_line(e2)}') from e2

    def _open(self, model, onnx_file: str, cfg, threads, check) -> None:
        """Open ``onnx_file`` in a session and check it against ``model``;
        a ``ValueError`` (or ``FileNotFoundError``) names the file."""
        ort = require_onnxruntime()
        self.onnx_file = onnx_file
        if not osp.isfile(onnx_file):
            raise FileNotFoundError(f'ONNX file not found: {onnx_file}')
        try:
            self._check_file(onnx_file)
        except ValueError:
            raise
        except Exception as e:  # e.g. protobuf's DecodeError of a cut file
            raise ValueError(f'cannot read ONNX file {onnx_file}: '
                             f'{one_line(e)}') from e
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
                             f'{one_line(e)}') from e
        names = ([i.name for i in self.session.get_inputs()],
                 [o.name for o in self.session.get_outputs()])
        # (seg, cls); a single-task peer exports seg alone
        if names not in (([INPUT_NAME], list(OUTPUT_NAMES)),
                         ([INPUT_NAME], list(OUTPUT_NAMES[:1]))):
            raise ValueError(
                f'{onnx_file} is not an EfficientMTNet export: inputs/outputs '
                f'{names}, expected ([{INPUT_NAME!r}], {list(OUTPUT_NAMES)})')
        if check:
            shape = inference_input_shape(cfg) if cfg is not None else (
                320, 320)
            self.check(model, preprocessed_example(model, shape))

    def _cached_file(self, model, checkpoint, cfg) -> str:
        """The file to run when none is given: the cached export."""
        return self._cached_export(model, checkpoint, cfg)

    def _check_file(self, onnx_file: str) -> None:
        """Checks of the file before a session opens it (none here)."""

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
            metadata = dict(checkpoint=checkpoint or '')
            try:
                export_onnx(model, path, shape, dynamic=True,
                            metadata=metadata)
            except torch.onnx.OnnxExporterError as e:
                # e.g. mmseg's Fast-SCNN: adaptive pooling to bins that do
                # not divide its maps, which the tracer cannot write; every
                # input is resized to ``shape`` by the test pipeline
                print_log(
                    f'the model cannot be exported with a free height and '
                    f'width ({one_line(e)[:160]}); exporting it at '
                    f'{shape[0]}x{shape[1]} with a free batch through '
                    f'torch.export', logger='current', level=logging.WARNING)
                export_onnx(model, path, shape, dynamic='batch', dynamo=True,
                            metadata=metadata)
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

    def __call__(self, inputs: Tensor) -> Tuple[Tensor, ...]:
        out = self.session.run(
            None, {INPUT_NAME: inputs.float().cpu().contiguous().numpy()})
        return tuple(torch.from_numpy(t).to(self.device) for t in out)


class ONNXRuntimeInt8Backend(ONNXRuntimeBackend):
    """The onnxruntime export statically quantized to int8 (CPU).

    Without ``onnx_file`` the float export of :class:`ONNXRuntimeBackend`
    is quantized once by :func:`~.onnx_quantize.quantize_onnx` and cached
    beside it as ``<export stem>.int8-<key>.onnx``; the key hashes the
    calibration images (names, sizes, times) and the settings, so another
    calibration set or other islands make another file.

    Args:
        model, onnx_file, checkpoint, threads, precision: as
            :class:`ONNXRuntimeBackend`; ``onnx_file`` is an int8 (QDQ)
            export.
        calib_images (str | list[str], optional): A folder or files to
            calibrate on. Default: ``num_calib`` images spread over the
            config's training images
            (``train_dataloader.dataset.data_root/data_prefix.img_path``).
        num_calib (int): Calibration images. Default: 64 (measured:
            docs/inference_deploy.md).
        float_islands (Sequence[str]): Parts kept in float
            (:data:`~.onnx_quantize.ISLANDS`). Default:
            :data:`~.onnx_quantize.FLOAT_ISLANDS`.
        method (str): Activation ranges, 'minmax' or 'percentile'.
        fp32_file (str, optional): The float export to quantize. Default:
            the cached export of :class:`ONNXRuntimeBackend`.
        cache_dir (str, optional): Where a new int8 file is written.
            Default: beside the float export; a file already cached there
            is used in any case.
        check (bool): On load, check that the file keeps the islands in
            float (a file that does not raises a ``ValueError``) and that
            its class and mask agree with the float model on a synthetic
            slice at the config's input size (``min_agreement`` of the mask
            pixels). Default: True.
    """

    name = 'onnxruntime-int8'
    min_agreement = 0.98
    default_num_calib = 64

    def __init__(self,
                 model: nn.Module,
                 onnx_file: Optional[str] = None,
                 checkpoint: Optional[str] = None,
                 threads: Optional[int] = None,
                 precision: str = 'fp32',
                 check: bool = True,
                 calib_images=None,
                 num_calib: Optional[int] = None,
                 float_islands: Sequence[str] = FLOAT_ISLANDS,
                 method: str = 'minmax',
                 fp32_file: Optional[str] = None,
                 cache_dir: Optional[str] = None):
        self.fp32_file = fp32_file
        self.cache_dir = cache_dir
        self.calib_images = calib_images
        self.num_calib = num_calib or self.default_num_calib
        self.calibration_key = None
        self.float_islands = tuple(float_islands)
        self.method = method
        self.checks = check
        super().__init__(model, onnx_file, checkpoint, threads, precision,
                         check)

    def _cached_file(self, model, checkpoint, cfg) -> str:
        fp32 = self.fp32_file or self._cached_export(model, checkpoint, cfg)
        paths = calibration_images(cfg, self.calib_images, self.num_calib)
        self.calibration_key = calibration_key(paths, self.settings)
        path = int8_cache_path(fp32, self.calibration_key)
        if not osp.isfile(path) and self.cache_dir is not None:
            path = osp.join(self.cache_dir, osp.basename(path))
        if not osp.isfile(path):
            if self.fp32_file is None and not onnx_file_readable(fp32):
                # the cached float export is quantized without being
                # opened first: a damaged one is exported again here
                aside = move_aside(fp32)
                print_log(f'cached {fp32} is not a readable ONNX file; moved '
                          f'to {aside} and exported again', logger='current',
                          level=logging.WARNING)
                fp32 = self._cached_export(model, checkpoint, cfg)
            print_log(f'quantizing {fp32} to int8 on {len(paths)} '
                      f'calibration images -> {path} (once per calibration '
                      f'set and settings)', logger='current')
            quantize_onnx(
                fp32, path, _calibration_batches(model, paths),
                self.float_islands, method=self.method,
                metadata=dict(calibration_images=len(paths),
                              calibration_folder=osp.dirname(paths[0])))
        return path

    @property
    def settings(self) -> dict:
        """The quantization settings (part of the cache key)."""
        return self.default_settings(self.float_islands, self.method,
                                     self.num_calib)

    @classmethod
    def default_settings(cls, float_islands=FLOAT_ISLANDS, method='minmax',
                         num_calib=None) -> dict:
        return dict(float_islands=sorted(float_islands), method=method,
                    num_calib=num_calib or cls.default_num_calib,
                    per_channel=True, format='QDQ', activations='uint8',
                    weights='int8', export=EXPORT_VERSION)

    def _check_file(self, onnx_file: str) -> None:
        if self.checks:
            check_float_islands(onnx_file, self.float_islands)

    def check(self, model: nn.Module, inputs: Tensor):
        """Raise a ``ValueError`` naming the file unless its class and
        ``min_agreement`` of its mask pixels agree with ``model`` on
        ``inputs`` (int8 logits are not equal to float ones)."""
        try:
            report = compare_with_pytorch(self.session, model, inputs)
        except Exception as e:
            raise ValueError(
                f'{self.onnx_file} does not run on a {tuple(inputs.shape)} '
                f'batch of this model: {str(e).strip()[:300]}') from e
        agree = 1 - report['mask_mismatch'] / report['mask_pixels']
        if report['class_mismatch'] or agree < self.min_agreement:
            raise ValueError(
                f'{self.onnx_file} does not match the loaded model (another '
                f'model, other weights, or a bad quantization?): '
                f'{report["class_mismatch"]} classes differ, '
                f'{100 * agree:.2f} % of mask pixels agree (at least '
                f'{100 * self.min_agreement:.0f} % needed)')


def one_line(e: BaseException, limit: int = 300) -> str:
    """An exception as one short line (type and first words)."""
    text = ' '.join(str(e).split()) or type(e).__name__
    return f'{type(e).__name__}: {text[:limit]}'


def onnx_file_readable(path: str) -> bool:
    """Whether ``path`` parses as an ONNX model (a cut or overwritten copy
    does not)."""
    import onnx
    try:
        onnx.load(path, load_external_data=False)
    except Exception:
        return False
    return True


def move_aside(path: str) -> str:
    """Rename a damaged derived file to ``<path>.corrupt`` (replacing an
    older one) so that it is rebuilt; returns the new name."""
    aside = f'{path}.corrupt'
    os.replace(path, aside)
    return aside


def calibration_images(cfg, images=None, num: int = 64) -> List[str]:
    """The calibration files: ``images`` (a folder or a list of files),
    else the config's training images; ``num`` of them spread evenly over
    the sorted list. A ``FileNotFoundError`` says where to put them."""
    if images is None:
        ds = cfg.train_dataloader.dataset if cfg is not None else {}
        folder = osp.join(ds.get('data_root', ''),
                          ds.get('data_prefix', {}).get('img_path', ''))
        if not osp.isdir(folder):
            raise FileNotFoundError(
                f'int8 calibration needs images: the config\'s training '
                f'images ({folder!r}) are not there; pass a folder '
                f'(TumorInferencer(..., int8_options=dict(calib_images=...)'
                f'), tools/infer.py --calib-images)')
        images = folder
    if isinstance(images, str):
        if not osp.isdir(images):
            raise FileNotFoundError(f'calibration folder not found: {images}')
        images = list_images(images)
    if not images:
        raise FileNotFoundError('no calibration images found')
    return spread(sorted(images), num)


def _calibration_batches(model: nn.Module, paths: Sequence[str]):
    """Each file through the config's test pipeline and the model's data
    preprocessor, as at inference: (1, 3, H, W) float32 arrays."""
    pipeline = InferencePipeline(model.cfg)
    for path in paths:
        data = model.data_preprocessor(pipeline.collate(path), False)
        yield data['inputs'].float().cpu().numpy()


#: Where ``auto`` keeps its timings: one entry per CPU model, thread count,
#: int8 file (it names the checkpoint, model config and calibration) and
#: input size.
AUTO_TIMINGS = osp.join(
    osp.expanduser('~'), '.cache', 'efficient-mtnet', 'auto_backend.json')
#: int8 runs under ``auto`` only if its median time is at most this share
#: of fp32's: a smaller gain is inside the spread of two timings.
AUTO_INT8_MAX_RATIO = 0.95


def cpu_model() -> str:
    """The CPU's model name (``/proc/cpuinfo``), else what ``platform``
    knows."""
    import platform
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    return line.split(':', 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or 'unknown CPU'


#: Pause before each backend's turn in :func:`time_backends`: after a call
#: returns, onnxruntime's worker threads keep spinning for tens of
#: milliseconds (its default, good for latency) and slow down the calls of
#: another session on the same cores meanwhile. On a 2-core EPYC the first
#: ~8 calls after a switch between two sessions ran up to 2x slower; after
#: a 50 ms pause, none did (docs/benchmarks.md, "How the timings are taken").
SETTLE_S = 0.05


def time_backends(backends: dict, inputs: Tensor, rounds: int = 6,
                  block: int = 3, warmup: int = 2,
                  settle_s: float = SETTLE_S) -> dict:
    """Median milliseconds per call of each backend on ``inputs``.

    The backends take turns, round by round, so that all see the same
    machine state; each turn is a pause of ``settle_s`` (the previous
    backend's threads go idle, :data:`SETTLE_S`), ``warmup`` untimed calls
    and ``block`` timed ones.
    """
    import statistics
    times = {name: [] for name in backends}
    for _ in range(rounds):
        for name, backend in backends.items():
            time.sleep(settle_s)
            for _ in range(warmup):
                backend(inputs)
            for _ in range(block):
                t0 = time.perf_counter()
                backend(inputs)
                times[name].append(1000 * (time.perf_counter() - t0))
    return {name: statistics.median(t) for name, t in times.items()}


def _read_timings(path: str) -> dict:
    import json
    try:
        with open(path) as f:
            data = json.load(f)
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}  # none yet, or damaged: timed again and rewritten


def _write_timings(path: str, data: dict) -> None:
    import json
    os.makedirs(osp.dirname(path), exist_ok=True)
    tmp = f'{path}.tmp{os.getpid()}'
    with open(tmp, 'w') as f:
        json.dump(data, f, indent=1, sort_keys=True)
    os.replace(tmp, path)


def fastest_onnxruntime(model: nn.Module,
                        checkpoint: Optional[str] = None,
                        threads: Optional[int] = None,
                        int8_options: Optional[dict] = None,
                        timings_file: Optional[str] = None,
                        fp32_file: Optional[str] = None):
    """``auto`` between fp32 and int8 onnxruntime, where int8 meets the
    accuracy record: int8 only if it is faster on this CPU.

    Both backends are timed on a batch of one at the config's input size
    (:func:`time_backends`) the first time this CPU model, thread count,
    int8 file and size meet; the medians are kept in ``timings_file``
    (default :data:`AUTO_TIMINGS`) and reused. int8 runs if its median is
    at most :data:`AUTO_INT8_MAX_RATIO` of fp32's. One log line gives the
    choice, both timings and where they come from. ``fp32_file``: a float
    export to run instead of the cached one (``int8_options`` may name it
    as ``fp32_file`` too, with a ``cache_dir`` for the int8 file).
    """
    cfg = getattr(model, 'cfg', None)
    threads = threads or torch.get_num_threads()
    fp32 = ONNXRuntimeBackend(model, fp32_file, checkpoint, threads)
    int8 = ONNXRuntimeInt8Backend(model, None, checkpoint, threads,
                                  **(int8_options or {}))
    h, w = inference_input_shape(cfg) if cfg is not None else (320, 320)
    cpu = cpu_model()
    key = '|'.join(
        (cpu, f'{threads} threads', osp.basename(int8.onnx_file), f'{h}x{w}'))
    path = timings_file or AUTO_TIMINGS
    cache = _read_timings(path)
    entry = cache.get(key)
    if (isinstance(entry, dict) and
            all(isinstance(entry.get(k), (int, float)) and entry[k] > 0
                for k in (fp32.name, int8.name))):
        source = f'timed earlier, {path}'
    else:
        entry = time_backends({fp32.name: fp32, int8.name: int8},
                              preprocessed_example(model, (h, w)))
        source = 'timed now'
        cache[key] = entry
        try:
            _write_timings(path, cache)
        except OSError as e:
            source += f' (not kept: {e})'
    ratio = entry[int8.name] / entry[fp32.name]
    chosen = int8 if ratio <= AUTO_INT8_MAX_RATIO else fp32
    print_log(
        f'backend auto -> {chosen.name}: on {cpu} ({threads} threads, '
        f'{h}x{w}) int8 {entry[int8.name]:.2f} ms vs fp32 '
        f'{entry[fp32.name]:.2f} ms ({ratio:.2f}x; int8 runs at '
        f'<= {AUTO_INT8_MAX_RATIO:.2f}x), {source}', logger='current')
    return chosen


def build_backend(name: str,
                  model: nn.Module,
                  precision: str = 'fp32',
                  compile_mode: str = 'default',
                  onnx_file: Optional[str] = None,
                  checkpoint: Optional[str] = None,
                  threads: Optional[int] = None,
                  int8_options: Optional[dict] = None):
    """A backend of ``model``: ``name`` in :data:`BACKENDS`, or 'auto' for
    :func:`default_backend` of the model's device. ``compile_mode`` is for
    'compile'; ``onnx_file``, ``checkpoint`` (the cache key) and
    ``threads`` are for the onnxruntime backends; ``int8_options``
    (``calib_images``, ``num_calib``, ``float_islands``, ``method``) for
    'onnxruntime-int8'."""
    if name == 'auto':
        name = default_backend(str(next(model.parameters()).device),
                               checkpoint, getattr(model, 'cfg', None))
        if name == 'onnxruntime-int8' and onnx_file is None:
            return fastest_onnxruntime(model, checkpoint, threads,
                                       int8_options)
    if onnx_file is not None and not name.startswith('onnxruntime'):
        raise ValueError(f'an ONNX file ({onnx_file}) is run by the '
                         f"onnxruntime backends, not {name!r}")
    if int8_options and name != 'onnxruntime-int8':
        raise ValueError(f'int8_options are for the onnxruntime-int8 '
                         f'backend, not {name!r}')
    if name == 'pytorch':
        return PyTorchBackend(model, precision)
    if name == 'compile':
        return CompileBackend(model, precision, compile_mode)
    if name == 'onnxruntime':
        return ONNXRuntimeBackend(model, onnx_file, checkpoint, threads,
                                  precision)
    if name == 'onnxruntime-int8':
        return ONNXRuntimeInt8Backend(model, onnx_file, checkpoint, threads,
                                      precision, **(int8_options or {}))
    raise ValueError(f'unknown backend {name!r}; choose from {BACKENDS} or '
                     f"'auto'")
