"""Progress: a bar on a terminal, a few lines in a log."""
import io

from mtnet_plugin.utils.progress import LogProgress, progress


class _Tty(io.StringIO):

    def isatty(self):
        return True


def test_a_log_gets_one_line_per_tenth_not_per_step():
    out = io.StringIO()
    bar = progress(215, out, 'inputs')
    assert isinstance(bar, LogProgress)
    for _ in range(215):
        bar.update()
    lines = out.getvalue().splitlines()
    assert 10 <= len(lines) <= 11  # every 22 steps, and the last
    assert lines[0].startswith('inputs 22/215 (10 %)')
    assert lines[-1].startswith('inputs 215/215 (100 %)')


def test_a_terminal_gets_mmengines_bar():
    from mmengine.utils import ProgressBar
    assert isinstance(progress(10, _Tty()), ProgressBar)


def test_few_steps_each_get_a_line():
    out = io.StringIO()
    bar = LogProgress(3, out)
    for _ in range(3):
        bar.update()
    assert [x.split(' ')[0] for x in out.getvalue().splitlines()] == \
        ['1/3', '2/3', '3/3']
