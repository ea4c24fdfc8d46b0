"""Load mmengine checkpoints on torch>=2.6 without disabling ``weights_only``.

torch>=2.6 unpickles with ``weights_only=True`` by default: only tensors,
containers and allow-listed classes may appear in a checkpoint. mmengine
0.10.7 passes nothing to ``torch.load``, and its checkpoints hold a few
non-tensor objects (``message_hub`` keeps :class:`HistoryBuffer` objects with
numpy arrays and scalars), so ``load_from``, ``--resume`` and
``tools/test.py CKPT`` fail with an ``UnpicklingError`` (mmengine#1655).

Rather than turning the safety check off (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
lets a checkpoint run arbitrary code), :func:`register_checkpoint_safe_globals`
allow-lists exactly the classes an mmengine checkpoint holds. Anything else —
for example a pickle whose ``__reduce__`` calls ``os.system`` — is still
refused by torch before it can run.
"""
import pickle
from typing import List

import numpy as np
import torch

_REGISTERED = False


def _numpy_reconstruct_globals() -> list:
    """The numpy functions that rebuild an ``ndarray`` / a numpy scalar.

    numpy 2 pickles them from ``numpy._core.multiarray``; checkpoints written
    under numpy 1 name ``numpy.core.multiarray``. Both are the same objects
    under different module names, so both names are allow-listed.
    """
    try:
        from numpy._core import multiarray  # numpy>=2
    except ImportError:  # pragma: no cover - numpy<2
        from numpy.core import multiarray
    reconstruct, scalar = multiarray._reconstruct, multiarray.scalar
    entries = [reconstruct, scalar]
    # The same callables under the numpy-1 module path.
    entries += [(reconstruct, 'numpy.core.multiarray._reconstruct'),
                (scalar, 'numpy.core.multiarray.scalar')]
    return entries


_HISTORY_BUFFER_METHODS = ('min', 'max', 'current', 'mean')


def _history_buffer_getattr(obj, name):
    """Stand-in for ``builtins.getattr`` while unpickling a checkpoint.

    ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')`` and so on. Allow-listing the real
    ``getattr`` would let a pickle reach any attribute of any allowed object
    (and from there ``os.system``), so only these look-ups are honoured.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and name in _HISTORY_BUFFER_METHODS:
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'checkpoint asks for getattr({obj!r}, {name!r}); only '
        f'HistoryBuffer statistics methods {_HISTORY_BUFFER_METHODS} are '
        'allowed')


def checkpoint_safe_globals() -> List:
    """The allow-list: every non-tensor class found in mmengine checkpoints.

    - ``mmengine.logging.HistoryBuffer``: the message hub's logged scalars;
    - ``numpy.ndarray`` and its rebuild function: HistoryBuffer's history;
    - ``numpy.dtype`` and the dtype classes of the numeric types numpy pickles
      (``numpy.dtypes.Float64DType`` ...): the arrays' and scalars' dtypes;
    - numpy's scalar rebuild function: numpy scalars in ``runtime_info``
      and in logged values;
    - ``getattr``, restricted to ``HistoryBuffer``'s statistics methods
      (:func:`_history_buffer_getattr`).
    """
    from mmengine.logging import HistoryBuffer

    dtype_classes = [
        type(np.dtype(t)) for t in (np.float16, np.float32, np.float64,
                                    np.int8, np.int16, np.int32, np.int64,
                                    np.uint8, np.bool_)
    ]
    return [HistoryBuffer, np.ndarray, np.dtype, *dtype_classes,
            *_numpy_reconstruct_globals(),
            (_history_buffer_getattr, 'builtins.getattr')]


def register_checkpoint_safe_globals() -> None:
    """Allow-list :func:`checkpoint_safe_globals` for ``torch.load``.

    Called once at ``import mtnet_plugin``. A no-op on torch versions without
    ``torch.serialization.add_safe_globals`` (<2.4), where ``torch.load``
    still defaults to full unpickling.
    """
    global _REGISTERED
    if _REGISTERED or not hasattr(torch.serialization, 'add_safe_globals'):
        return
    torch.serialization.add_safe_globals(checkpoint_safe_globals())
    _REGISTERED = True
