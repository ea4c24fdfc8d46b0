"""Progress that suits where it goes: mmengine's bar on a terminal, a few
summary lines in a log file or a pipe (mmengine's bar writes one line per
step there)."""
import sys
import time
from typing import Optional, TextIO


class LogProgress:
    """A progress report of ``total`` steps for a stream that is not a
    terminal: one line each time another ``every`` (a fraction) of the
    steps is done, and at the end, e.g.
    ``40/215 (19 %) in 3.1 s, 12.9/s``.

    Args:
        total (int): Steps in all.
        file (TextIO): Where the lines go. Default: ``sys.stderr``.
        every (float): Fraction of ``total`` between two lines.
            Default: 0.1.
        label (str): Word before the counts. Default: ''.
    """

    def __init__(self, total: int, file: Optional[TextIO] = None,
                 every: float = 0.1, label: str = ''):
        self.total = max(int(total), 0)
        self.file = file if file is not None else sys.stderr
        self.step = max(1, int(round(self.total * every)))
        self.label = f'{label} ' if label else ''
        self.done = 0
        self.start = time.perf_counter()

    def update(self, num: int = 1) -> None:
        before = self.done
        self.done += num
        if self.done // self.step > before // self.step or \
                self.done == self.total:
            elapsed = time.perf_counter() - self.start
            pct = 100 * self.done / self.total if self.total else 100.0
            print(f'{self.label}{self.done}/{self.total} ({pct:.0f} %) in '
                  f'{elapsed:.1f} s, {self.done / max(elapsed, 1e-9):.1f}/s',
                  file=self.file, flush=True)


def progress(total: int, file: Optional[TextIO] = None, label: str = ''):
    """mmengine's ``ProgressBar`` when ``file`` is a terminal, else a
    :class:`LogProgress`; both have ``update()``."""
    file = file if file is not None else sys.stderr
    isatty = getattr(file, 'isatty', None)
    if isatty is not None and isatty():
        from mmengine.utils import ProgressBar
        return ProgressBar(total, file=file)
    return LogProgress(total, file, label=label)
