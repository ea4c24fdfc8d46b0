"""mmengine's CheckpointHook with atomic writes."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from ..fileio import atomic_write


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose checkpoints and ``last_checkpoint`` pointer
    are written atomically: a kill, a full disk or a file-size limit during
    a save leaves the previous files intact and no truncated file under a
    final name, so ``--resume`` keeps working.

    - Checkpoints (``epoch_N.pth``, ``iter_N.pth``, ``best_*.pth``) go
      through :class:`AtomicLocalBackend` (temporary file in the same
      folder, fsync, ``os.replace``), chosen by default through
      ``backend_args``.
    - mmengine writes ``last_checkpoint`` with a plain ``open(..., 'w')``
      after the checkpoint; this hook rewrites it atomically right after.

    What mmengine still does in place: it removes the previous
    ``best_*.pth`` *before* writing the new one, so a failed save of a new
    best leaves no best file (the periodic checkpoints and the pointer are
    unaffected).

    Args:
        backend_args (dict): Default ``dict(backend='atomic_local')``; a
            remote backend given here is used as is.
        **kwargs: ``CheckpointHook`` arguments (``interval``,
            ``max_keep_ckpts``, ``save_best``, ``rule``, ...).
    """

    def __init__(self, *args, backend_args: dict = None, **kwargs):
        if backend_args is None:
            backend_args = dict(backend='atomic_local')
        super().__init__(*args, backend_args=backend_args, **kwargs)

    def _save_checkpoint_with_step(self, runner, step, meta):
        super()._save_checkpoint_with_step(runner, step, meta)
        if is_main_process():
            atomic_write(
                str(self.last_ckpt).encode('utf-8'),
                osp.join(runner.work_dir, 'last_checkpoint'))
