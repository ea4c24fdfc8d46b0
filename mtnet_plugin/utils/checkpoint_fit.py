"""Whether a checkpoint fits a model, said in one line.

mmengine loads ``load_from`` leniently: a checkpoint of another architecture
loads what matches, warns about the rest hundreds of lines up, and the run
goes on with random weights where they did not fit. The evaluation and
inference tools call :func:`check_checkpoint_fits` first and stop with one
:class:`CheckpointMismatchError` line instead.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.fileio import get_local_path

#: Parameters of the training-only heads (the auxiliary heads): a checkpoint
#: may have them or not, and an inference model has none.
TRAINING_ONLY_PREFIXES = ('auxiliary_head.', )


class CheckpointMismatchError(RuntimeError):
    """A checkpoint that does not fit the model it is loaded into."""


def read_state_dict(checkpoint: str) -> dict:
    """The ``state_dict`` of a checkpoint file (or of a bare state dict),
    without a ``module.`` prefix; the whole checkpoint as ``meta`` too.

    Returns:
        tuple[dict, dict]: (state_dict, checkpoint)
    """
    if not osp.isfile(checkpoint) and '://' not in checkpoint:
        raise FileNotFoundError(f'checkpoint not found: {checkpoint}')
    with get_local_path(checkpoint) as local:
        ckpt = torch.load(local, map_location='cpu')
    if not isinstance(ckpt, dict):
        raise CheckpointMismatchError(
            f'{checkpoint} is not a checkpoint (a {type(ckpt).__name__})')
    state_dict = ckpt.get('state_dict', ckpt)
    return {
        k[len('module.'):] if k.startswith('module.') else k: v
        for k, v in state_dict.items() if isinstance(v, torch.Tensor)
    }, ckpt


def unwrap_model(model: nn.Module) -> nn.Module:
    """The segmentor inside a TTA or distributed wrapper (``.module``)."""
    while hasattr(model, 'module'):
        model = model.module
    return model


def checkpoint_mismatches(
        model: nn.Module,
        state_dict: dict,
        ignore_prefixes: Sequence[str] = TRAINING_ONLY_PREFIXES
) -> Dict[str, List[str]]:
    """What keeps ``state_dict`` from loading strictly into ``model``.

    The model's own ``_load_from_state_dict`` hooks run (on a copy), so
    what a module fills in itself (e.g. an old checkpoint without
    ``cls_temperature``) is not reported. Keys under ``ignore_prefixes``
    may be missing or unexpected.

    Returns:
        dict: ``size`` ('key: checkpoint (a, b) vs model (c, d)'),
        ``missing`` and ``unexpected`` key lists; all empty if it fits.
    """
    ignore = tuple(ignore_prefixes)
    model = unwrap_model(model)
    own = model.state_dict()
    size = [
        f'{k}: checkpoint {tuple(v.shape)} vs model {tuple(own[k].shape)}'
        for k, v in state_dict.items()
        if k in own and tuple(v.shape) != tuple(own[k].shape)
    ]
    same = {
        k: v
        for k, v in state_dict.items()
        if k not in own or tuple(v.shape) == tuple(own[k].shape)
    }
    result = copy.deepcopy(model).load_state_dict(same, strict=False)
    return dict(
        size=size,
        missing=[k for k in result.missing_keys if not k.startswith(ignore)
                 and k not in state_dict],
        unexpected=[
            k for k in result.unexpected_keys if not k.startswith(ignore)
        ])


def describe_mismatches(mismatches: Dict[str, List[str]],
                        first: int = 3) -> str:
    """'3 size mismatches (a: ...; ...), 2 missing keys (...)'."""
    parts = []
    for kind, label in (('size', 'size mismatches'),
                        ('missing', 'missing keys'),
                        ('unexpected', 'unexpected keys')):
        items = mismatches.get(kind, [])
        if items:
            more = f'; ... {len(items) - first} more' if len(
                items) > first else ''
            parts.append(f'{len(items)} {label} '
                         f'({"; ".join(items[:first])}{more})')
    return ', '.join(parts)


def check_checkpoint_fits(
        model: nn.Module,
        checkpoint: str,
        config: Optional[str] = None,
        ignore_prefixes: Sequence[str] = TRAINING_ONLY_PREFIXES) -> dict:
    """Raise a :class:`CheckpointMismatchError` (one line: the checkpoint,
    the config and the first mismatches) unless ``checkpoint`` loads
    strictly into ``model`` up to ``ignore_prefixes``.

    Returns:
        dict: the loaded checkpoint.
    """
    state_dict, ckpt = read_state_dict(checkpoint)
    raise_on_mismatch(checkpoint_mismatches(model, state_dict,
                                            ignore_prefixes), checkpoint,
                      config)
    return ckpt


def raise_on_mismatch(mismatches: Dict[str, List[str]], checkpoint: str,
                      config: Optional[str] = None) -> None:
    """The :class:`CheckpointMismatchError` line for ``mismatches`` of
    :func:`checkpoint_mismatches`, if there are any."""
    if any(mismatches.values()):
        what = f'the model of {config}' if config else 'the model'
        raise CheckpointMismatchError(
            f'{checkpoint} does not fit {what}: '
            f'{describe_mismatches(mismatches)}')


def exit_on_mismatch(main, *args, **kwargs):
    """Run a tool's ``main``; a checkpoint or a file that does not fit (a
    :class:`CheckpointMismatchError` or ``FileNotFoundError``) ends the
    process with one ``error:`` line and status 1 instead of a
    traceback."""
    import sys
    try:
        return main(*args, **kwargs)
    except (CheckpointMismatchError, FileNotFoundError) as e:
        sys.exit(f'error: {e}')
