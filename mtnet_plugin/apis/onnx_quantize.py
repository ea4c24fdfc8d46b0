"""Static int8 quantization of an ONNX export with onnxruntime, and the
checks that its float islands stayed float.

onnxruntime's ``quantize_static`` in the QDQ format with per-channel int8
weights and uint8 activations (the pairing onnxruntime's CPU kernels fuse
into ``QLinearConv``/``QGemm`` on x86 with VNNI), calibrated on real
images through the config's test pipeline. Some parts of the network must
stay in float (:data:`FLOAT_ISLANDS`); the quantizer is told to leave their
nodes alone, and :func:`quantized_islands` checks the result, since a
graph that quantizes them still runs, only with worse masks.

The islands, found in the graph by the module scopes the exporter writes
into node names:

================  ==========================================================
``stem``          the first convolution (3 input channels at full input
                  resolution): onnxruntime's int8 kernel ran it 3x slower
                  than the float one (6.2 against 2.0 ms at 640x640), and
                  keeping it float spares quantizing the input image
``nmf``           the Hamburgers' NMF (mmseg's ``NMF2D``, module ``ham``):
                  iterative multiplicative updates, a softmax and divisions
                  whose ratios int8 cannot represent
``final_resize``  the bilinear resize of the segmentation logits to the
                  input size (the node that writes ``seg_logits``): an int8
                  logit map moves the mask boundary by its rounding
``cls_head``      the classification branch (Hamburger, pooling, FCs): ~2 %
                  of the multiply-adds; its calibrated probabilities are
                  what the user reads
================  ==========================================================

Which to keep was chosen by measurement on valid/ (docs/inference_deploy.md,
"int8 on CPU").
"""
import hashlib
import json
import os
import os.path as osp
from typing import Dict, Iterable, List, Optional, Sequence

import numpy as np

from .onnx_export import INPUT_NAME, OUTPUT_NAMES, ONNX_EXTRA_HINT

#: Float islands of :func:`quantize_onnx` by default (chosen by measuring
#: valid/ accuracy and CPU latency).
FLOAT_ISLANDS = ('stem', 'nmf', 'final_resize', 'cls_head')
ISLANDS = ('stem', 'nmf', 'final_resize', 'cls_head')
CALIBRATION_METHODS = ('minmax', 'percentile')


def require_quantization():
    """Import ``onnxruntime.quantization``, or raise an ImportError that
    names the extra."""
    try:
        from onnxruntime import quantization
    except ImportError as e:
        raise ImportError(f'int8 quantization needs onnxruntime; '
                          f'{ONNX_EXTRA_HINT}') from e
    return quantization


def island_nodes(proto, islands: Sequence[str]) -> Dict[str, List[str]]:
    """Names of the nodes of each island of ``islands`` in an ONNX graph
    (float or quantized: the quantizer keeps node names).

    Unknown island names raise a ``ValueError``; an island the graph does
    not have (e.g. ``nmf`` in Fast-SCNN) is an empty list.
    """
    unknown = set(islands) - set(ISLANDS)
    if unknown:
        raise ValueError(f'unknown float islands {sorted(unknown)}; '
                         f'choose from {ISLANDS}')
    found = {name: [] for name in islands}
    # the graph input, and its dequantized copies in a quantized graph
    quantized_input = {
        n.output[0] for n in proto.graph.node
        if n.op_type == 'QuantizeLinear' and n.input[0] == INPUT_NAME
    }
    inputs = {INPUT_NAME} | {
        n.output[0] for n in proto.graph.node
        if n.op_type == 'DequantizeLinear' and n.input[0] in quantized_input
    }
    for node in proto.graph.node:
        if node.op_type in ('QuantizeLinear', 'DequantizeLinear'):
            continue
        if 'stem' in found and node.op_type == 'Conv' and \
                node.input[0] in inputs:
            found['stem'].append(node.name)
        if 'nmf' in found and '/ham/' in node.name:
            found['nmf'].append(node.name)
        if 'cls_head' in found and node.name.startswith('/cls_head/'):
            found['cls_head'].append(node.name)
        if 'final_resize' in found and node.op_type == 'Resize' and (
                _final_output(proto, node) == OUTPUT_NAMES[0]):
            found['final_resize'].append(node.name)
    return found


def _final_output(proto, node) -> Optional[str]:
    """The graph output ``node`` writes, directly or through a
    Quantize/DequantizeLinear pair (a quantized resize), else None."""
    outputs = {o.name for o in proto.graph.output}
    consumers = {}
    for n in proto.graph.node:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
    tensor = node.output[0]
    for _ in range(3):
        if tensor in outputs:
            return tensor
        nxt = [n for n in consumers.get(tensor, [])
               if n.op_type in ('QuantizeLinear', 'DequantizeLinear')]
        if len(nxt) != 1:
            return None
        tensor = nxt[0].output[0]
    return tensor if tensor in outputs else None


def quantized_islands(proto, islands: Sequence[str] = FLOAT_ISLANDS
                      ) -> Dict[str, List[str]]:
    """The nodes of ``islands`` that a quantized graph runs in int8.

    A node counts as quantized when it runs between int8 tensors (an
    input comes from a ``DequantizeLinear`` and an output goes into a
    ``QuantizeLinear``: onnxruntime fuses that into an int8 kernel) or
    reads a dequantized initializer (int8 weights). Rounding at an
    island's edges (its input coming from a quantized node outside it, its
    result quantized for an int8 node after it) is the boundary, not a
    fault. Returns island -> offending node names (empty lists: all float).
    """
    initializers = {t.name for t in proto.graph.initializer}
    quantize_inputs = {
        n.input[0] for n in proto.graph.node if n.op_type == 'QuantizeLinear'
    }
    dequantized = {}
    for n in proto.graph.node:
        if n.op_type == 'DequantizeLinear':
            dequantized[n.output[0]] = n.input[0] in initializers
    by_name = {n.name: n for n in proto.graph.node}
    bad = {}
    for island, names in island_nodes(proto, islands).items():
        bad[island] = []
        for name in names:
            node = by_name[name]
            weights = any(dequantized.get(i) for i in node.input)
            int8_in = any(i in dequantized for i in node.input)
            int8_out = any(o in quantize_inputs for o in node.output)
            if weights or (int8_in and int8_out):
                bad[island].append(name)
    return bad


def is_quantized(onnx_file: str) -> bool:
    """Whether an ONNX file is a QDQ int8 graph (has a QuantizeLinear)."""
    import onnx
    return _has_quantize(onnx.load(onnx_file, load_external_data=False))


def _has_quantize(proto) -> bool:
    return any(n.op_type == 'QuantizeLinear' for n in proto.graph.node)


def check_float_islands(onnx_file: str,
                        islands: Sequence[str] = FLOAT_ISLANDS) -> None:
    """Raise a ``ValueError`` naming ``onnx_file`` and the nodes at fault
    if the quantized graph runs any of ``islands`` in int8, or if it has
    no quantized node at all (not an int8 export)."""
    import onnx
    proto = onnx.load(onnx_file, load_external_data=False)
    if not _has_quantize(proto):
        raise ValueError(f'{onnx_file} has no QuantizeLinear node: it is '
                         f'not an int8 (QDQ) export')
    bad = {k: v for k, v in quantized_islands(proto, islands).items() if v}
    if bad:
        detail = '; '.join(f'{k}: {len(v)} nodes, e.g. {v[0]}'
                           for k, v in bad.items())
        raise ValueError(
            f'{onnx_file} quantizes what must stay float ({detail}); '
            f'quantize it again with these islands excluded')


class _Reader:
    """onnxruntime ``CalibrationDataReader`` over preprocessed batches."""

    def __init__(self, batches: Iterable[np.ndarray]):
        self._it = iter(batches)

    def get_next(self):
        x = next(self._it, None)
        return None if x is None else {
            INPUT_NAME: np.ascontiguousarray(x, np.float32)
        }

    def __len__(self):  # some onnxruntime versions ask
        return 0


def quantize_onnx(fp32_file: str,
                  out: str,
                  calib_batches: Iterable[np.ndarray],
                  float_islands: Sequence[str] = FLOAT_ISLANDS,
                  per_channel: bool = True,
                  method: str = 'minmax',
                  metadata: Optional[dict] = None) -> str:
    """Quantize ``fp32_file`` statically to ``out`` (QDQ).

    Args:
        fp32_file (str): The float export (dynamic batch and size).
        out (str): Written to a temporary name and renamed, never left
            half-written.
        calib_batches (Iterable[np.ndarray]): (N, 3, H, W) float32
            preprocessed batches (the test pipeline and data preprocessor
            of the config, as at inference).
        float_islands (Sequence[str]): Parts kept in float, see
            :data:`ISLANDS`.
        per_channel (bool): Per-output-channel weight scales.
        method (str): 'minmax' or 'percentile' (99.999th) activation ranges.
        metadata (dict, optional): Written into the file's metadata.

    Returns:
        str: ``out``.
    """
    quantization = require_quantization()
    import onnx
    from onnxruntime.quantization.shape_inference import quant_pre_process
    if method not in CALIBRATION_METHODS:
        raise ValueError(f'method must be one of {CALIBRATION_METHODS}, '
                         f'got {method!r}')
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    tmp_pre = f'{out}.pre{os.getpid()}.onnx'
    tmp = f'{out}.tmp{os.getpid()}.onnx'
    try:
        # shape inference and graph optimisation first, as onnxruntime
        # advises for static quantization
        quant_pre_process(fp32_file, tmp_pre, skip_symbolic_shape=True)
        proto = onnx.load(tmp_pre)
        exclude = sorted(
            {n for names in island_nodes(proto, float_islands).values()
             for n in names})
        if _unshare_initializers(proto, set(exclude)):
            onnx.save(proto, tmp_pre)
        calibrate = dict(
            minmax=quantization.CalibrationMethod.MinMax,
            percentile=quantization.CalibrationMethod.Percentile)[method]
        quantization.quantize_static(
            tmp_pre,
            tmp,
            _Reader(calib_batches),
            quant_format=quantization.QuantFormat.QDQ,
            per_channel=per_channel,
            activation_type=quantization.QuantType.QUInt8,
            weight_type=quantization.QuantType.QInt8,
            nodes_to_exclude=exclude,
            calibrate_method=calibrate,
            # (not CalibMaxIntermediateOutputs: onnxruntime 1.2x-1.3x drops
            # the batches collected so far instead of folding them in;
            # minmax keeps only per-image ReduceMin/Max scalars anyway)
            extra_options=dict(CalibPercentile=99.999))
        proto = onnx.load(tmp)
        meta = dict(metadata or {})
        meta.update(
            quantization=json.dumps(
                dict(float_islands=list(float_islands),
                     per_channel=per_channel, method=method,
                     excluded_nodes=len(exclude))))
        for key, value in meta.items():
            entry = proto.metadata_props.add()
            entry.key, entry.value = str(key), str(value)
        onnx.save(proto, tmp)
        os.replace(tmp, out)
    finally:
        for path in (tmp_pre, tmp):
            if osp.exists(path):
                os.remove(path)
    return out


def _unshare_initializers(proto, float_nodes: set) -> int:
    """Give float-island nodes their own copy of every initializer they
    share with other nodes; return how many were copied.

    onnxruntime's graph optimisation merges equal initializers (e.g. the
    zero biases of freshly initialised convolutions); the quantizer then
    dequantizes the shared tensor for the int8 node and the island node
    would read int8-rounded weights.
    """
    import copy
    init = {t.name: t for t in proto.graph.initializer}
    users = {}
    for node in proto.graph.node:
        for name in node.input:
            if name in init:
                users.setdefault(name, set()).add(node.name)
    copied = 0
    for node in proto.graph.node:
        if node.name not in float_nodes:
            continue
        for i, name in enumerate(node.input):
            if name in init and users[name] - float_nodes:
                twin = copy.deepcopy(init[name])
                twin.name = f'{name}__float_{copied}'
                proto.graph.initializer.append(twin)
                node.input[i] = twin.name
                copied += 1
    return copied


def calibration_key(paths: Sequence[str], settings: dict) -> str:
    """Hash of a calibration set (file names and contents, in order) and
    the quantization settings: the int8 cache entry changes when either
    does, and is the same for the same images on another machine."""
    h = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    for p in paths:
        h.update(osp.basename(p).encode())
        with open(p, 'rb') as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def int8_cache_path(fp32_file: str, key: str) -> str:
    """``<fp32 export stem>.int8-<key[:8]>.onnx`` beside the float
    export."""
    stem = osp.splitext(fp32_file)[0]
    return f'{stem}.int8-{key[:8]}.onnx'


#: The accuracy rule an int8 file must meet on valid/ against fp32 before
#: ``--backend auto`` runs it: tumor Dice within 0.5 point, accuracy within
#: one image (tools/analysis_tools/compare_backends.py measures it).
INT8_RULE = dict(max_dice_drop=0.5, max_extra_wrong_images=1)


def int8_kernels(flags: Optional[Sequence[str]] = None) -> str:
    """Which of onnxruntime's int8 matrix kernels this CPU runs, by how
    they add up u8 x s8 products: 'vnni' (AVX-512 VNNI, AVX-VNNI or AMX:
    exact int32 sums), 'avx2' (x86 without VNNI: ``vpmaddubsw`` adds pairs
    into int16, which can saturate), 'arm-dot' (Arm's SDOT/UDOT: int32)
    or 'other'. The same int8 file can score differently on two of these
    (docs/inference_deploy.md), so a validation record names its class.
    ``flags``: the CPU's feature flags (default: ``/proc/cpuinfo``'s)."""
    if flags is None:
        flags = []
        try:
            with open('/proc/cpuinfo') as f:
                for line in f:
                    if line.split(':')[0].strip() in ('flags', 'Features'):
                        flags = line.split(':', 1)[1].split()
                        break
        except OSError:
            pass
    flags = set(flags)
    if flags & {'avx512_vnni', 'avx_vnni', 'amx_int8'}:
        return 'vnni'
    if 'avx2' in flags:
        return 'avx2'
    if 'asimddp' in flags:
        return 'arm-dot'
    return 'other'


def int8_record_path(checkpoint: str,
                     kernels: Optional[str] = None) -> str:
    """Where the validation of ``checkpoint``'s int8 backend lies, beside
    the checkpoint: ``<stem>.int8-valid-<kernels>.json`` for a CPU class
    of :func:`int8_kernels` (one record per class, so validating on one
    class keeps the others'), ``<stem>.int8-valid.json`` without one (the
    records written before they named a class)."""
    stem = osp.splitext(checkpoint)[0]
    if kernels is None:
        return stem + '.int8-valid.json'
    return f'{stem}.int8-valid-{kernels}.json'


def find_int8_record(checkpoint: str,
                     kernels: Optional[str] = None) -> Optional[str]:
    """The record ``auto`` reads for ``checkpoint`` on a CPU with
    ``kernels`` (default: this CPU's :func:`int8_kernels`): the one of
    that class, else the record without a class; None when neither
    exists."""
    kernels = kernels or int8_kernels()
    for path in (int8_record_path(checkpoint, kernels),
                 int8_record_path(checkpoint)):
        if osp.isfile(path):
            return path
    return None


def read_int8_record(checkpoint: str, settings: dict,
                     calib_key: str) -> tuple:
    """Whether the int8 file that ``settings`` and the calibration set
    ``calib_key`` make from ``checkpoint`` was validated on valid/ and met
    :data:`INT8_RULE` on a CPU of this one's class
    (:func:`find_int8_record`): ``(ok, reason)``; the reason says what is
    missing or what differs."""
    from .onnx_export import file_sha256
    here = int8_kernels()
    path = find_int8_record(checkpoint, here)
    if path is None:
        return False, ('no int8 validation record for '
                       f'{here} kernels '
                       f'({int8_record_path(checkpoint, here)})')
    with open(path) as f:
        record = json.load(f)
    if record.get('checkpoint_sha256') != file_sha256(checkpoint):
        return False, f'{path} validated other weights'
    if record.get('settings') != settings:
        return False, (f'{path} validated other settings '
                       f'({record.get("settings")})')
    if record.get('calibration_key') != calib_key:
        return False, (f'{path} validated another calibration set (key '
                       f'{str(record.get("calibration_key"))[:8]}, here '
                       f'{calib_key[:8]})')
    kernels = record.get('int8_kernels')
    if kernels is not None and kernels != here:
        return False, (f'{path} validated int8 on a CPU with {kernels} '
                       f'kernels, this one runs {here} kernels '
                       f'that round differently; validate it here with '
                       f'{record.get("command", "compare_backends.py")}')
    if not record.get('meets_rule'):
        return False, f'{path}: int8 did not meet the accuracy rule'
    return True, (f'validated on {record.get("dataset")}'
                  f'{" with " + kernels + " kernels" if kernels else ""}: '
                  f'tumor Dice {record["int8"]["tumor_Dice"]} vs fp32 '
                  f'{record["fp32"]["tumor_Dice"]}, accuracy '
                  f'{record["int8"]["accuracy"]} vs '
                  f'{record["fp32"]["accuracy"]} ({path})')


def spread(items: Sequence, num: int) -> list:
    """``num`` items spread evenly over ``items`` (all if fewer)."""
    if num >= len(items):
        return list(items)
    idx = np.linspace(0, len(items) - 1, num).round().astype(int)
    return [items[i] for i in idx]
