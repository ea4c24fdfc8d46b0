"""mmengine's CheckpointHook with atomic writes."""
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmseg.registry import HOOKS

from ..fileio import atomic_write


@HOOKS.register_module()
class AtomicCheckpointHook(CheckpointHook):
    """``CheckpointHook`` whose periodic saves survive a kill, a full disk
    or a file-size limit at any point: the previous checkpoint and the
    ``last_checkpoint`` pointer stay intact and no truncated file is left
    under a final name, so ``--resume`` keeps working.

    - Checkpoints (``epoch_N.pth``, ``iter_N.pth``, ``best_*.pth``) go
      through :class:`AtomicLocalBackend` (temporary file in the same
      folder, fsync, ``os.replace``), chosen by default through
      ``backend_args``.
    - A periodic save runs in a safe order: (1) write the checkpoint, (2)
      point ``last_checkpoint`` at it, atomically, (3) only then delete the
      checkpoints beyond ``max_keep_ckpts``. mmengine's own order deletes
      the outdated checkpoint first and truncates ``last_checkpoint`` in
      place last, so a failure leaves no checkpoint, or an empty pointer
      (both seen in this project's tests).

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
        """Save the periodic checkpoint of ``step`` in the safe order."""
        outdated = []
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and
                                            self.keep_ckpt_ids[-1] == step):
            # (mmengine's deque has maxlen=max_keep_ckpts: split by hand)
            ids = list(self.keep_ckpt_ids) + [step]
            outdated = ids[:-self.max_keep_ckpts]
            self.keep_ckpt_ids.clear()
            self.keep_ckpt_ids.extend(ids[-self.max_keep_ckpts:])
            # saved in the checkpoint, restored by CheckpointHook on resume
            runner.message_hub.update_info('keep_ckpt_ids',
                                           list(self.keep_ckpt_ids))
        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir,
                                                     ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args)
        if not is_main_process():
            return
        atomic_write(
            str(self.last_ckpt).encode('utf-8'),
            osp.join(runner.work_dir, 'last_checkpoint'))
        for old in outdated:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(old))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints
                self.file_backend.rmtree(path)
