"""A local file backend whose writes are atomic."""
import os
import os.path as osp
import tempfile
from pathlib import Path
from typing import Union

from mmengine.fileio import LocalBackend, register_backend


def atomic_write(data: bytes, filepath: Union[str, Path]) -> None:
    """Write ``data`` to ``filepath`` so that readers see either the old
    file or the complete new one, never a truncated file.

    The bytes go to a temporary file in the same folder, which is flushed
    and fsync'ed, then renamed over ``filepath`` with ``os.replace`` (atomic
    on POSIX and Windows within one file system); the folder is fsync'ed so
    the rename survives a power loss. If anything fails (a kill, a full
    disk, a file-size limit), the temporary file is removed and the error
    is raised; ``filepath`` is untouched.
    """
    filepath = str(filepath)
    folder = osp.dirname(osp.abspath(filepath))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        dir=folder, prefix=f'.{osp.basename(filepath)}.', suffix='.part')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, filepath)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    try:  # persist the rename itself
        dir_fd = os.open(folder, os.O_RDONLY)
    except OSError:  # e.g. Windows: folders cannot be opened
        return
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


@register_backend('atomic_local')
class AtomicLocalBackend(LocalBackend):
    """mmengine's ``LocalBackend`` with :func:`atomic_write` for ``put`` and
    ``put_text``.

    mmengine's ``save_checkpoint`` serialises to memory and hands the bytes
    to the file backend's ``put``; the local backend writes them in place,
    so a kill or a full disk half-way leaves a truncated ``epoch_N.pth``
    under its final name. Select this backend with
    ``backend_args=dict(backend='atomic_local')`` (what
    :class:`AtomicCheckpointHook` does by default).
    """

    def put(self, obj: bytes, filepath: Union[str, Path]) -> None:
        atomic_write(obj, filepath)

    def put_text(self,
                 obj: str,
                 filepath: Union[str, Path],
                 encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), filepath)
