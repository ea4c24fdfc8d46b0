import subprocess
import sys

import pytest
from mmengine.fileio import get_file_backend

import mtnet_plugin  # noqa: F401  (registers the backend)
from mtnet_plugin.engine.fileio import AtomicLocalBackend

resource = pytest.importorskip('resource')  # POSIX only


def test_registered_and_round_trips(tmp_path):
    backend = get_file_backend(backend_args=dict(backend='atomic_local'))
    assert isinstance(backend, AtomicLocalBackend)
    target = tmp_path / 'sub' / 'f.bin'
    backend.put(b'abc', target)
    assert target.read_bytes() == b'abc'
    backend.put_text('héllo', target)
    assert target.read_text(encoding='utf-8') == 'héllo'
    assert [p.name for p in target.parent.iterdir()] == ['f.bin']


# Writes under a file-size limit: the write fails half-way with EFBIG.
_LIMITED_WRITE = '''
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of a kill
from mtnet_plugin.engine.fileio import AtomicLocalBackend
from mmengine.fileio import LocalBackend
backend = AtomicLocalBackend() if sys.argv[2] == 'atomic' else LocalBackend()
resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))
backend.put(b'n' * 100000, sys.argv[1])
'''


@pytest.mark.parametrize('kind', ['atomic', 'plain'])
def test_failed_write_leaves_the_previous_file(tmp_path, kind):
    target = tmp_path / 'epoch_1.pth'
    target.write_bytes(b'old checkpoint')
    out = subprocess.run(
        [sys.executable, '-c', _LIMITED_WRITE, str(target), kind],
        capture_output=True, text=True)
    assert out.returncode != 0 and 'File too large' in out.stderr
    if kind == 'atomic':
        assert target.read_bytes() == b'old checkpoint'
        assert [p.name for p in tmp_path.iterdir()] == ['epoch_1.pth']
    else:  # what mmengine's LocalBackend does: a truncated file
        assert target.stat().st_size == 4096
