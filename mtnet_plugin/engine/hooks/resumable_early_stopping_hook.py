"""mmengine's EarlyStoppingHook whose state survives ``--resume``."""
from mmengine.hooks import EarlyStoppingHook
from mmseg.registry import HOOKS


@HOOKS.register_module()
class ResumableEarlyStoppingHook(EarlyStoppingHook):
    """``EarlyStoppingHook`` that saves its best score and its count of
    validations without improvement in each checkpoint and restores them on
    resume.

    mmengine's hook keeps both in memory only, so a resumed run restarts
    its patience from zero and trusts whatever score comes first, however
    bad. (``ReduceOnPlateauLR`` needs nothing of the kind: the runner saves
    and restores scheduler states.)

    Note that mmengine saves the periodic checkpoint of epoch N before
    epoch N's validation, so the state in ``epoch_N.pth`` is the one after
    validation N-1; a run resumed from it does not redo validation N.

    Args: as ``EarlyStoppingHook`` (``monitor``, ``rule``, ``min_delta``,
        ``strict``, ``check_finite``, ``patience``, ``stopping_threshold``).
    """

    _KEY = 'early_stopping'

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint.setdefault('meta', {})[self._KEY] = dict(
            monitor=self.monitor,
            best_score=float(self.best_score),
            wait_count=int(self.wait_count))

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        state = checkpoint.get('meta', {}).get(self._KEY)
        if state is None or state.get('monitor') != self.monitor:
            return
        self.best_score = state['best_score']
        self.wait_count = state['wait_count']
        runner.logger.info(
            f'early stopping resumed: best {self.monitor} '
            f'{self.best_score:.4f}, {self.wait_count} validation(s) '
            f'without improvement (patience {self.patience})')
