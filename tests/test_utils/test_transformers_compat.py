"""``import mtnet_plugin`` and the tools work beside transformers >= 5.

mmpretrain 1.2.0's BLIP module dies on import with transformers 5
(``TypeError: NoneType takes no arguments``). The test builds, once per
machine, a side environment that layers transformers 5 over the project's
venv (a ``.pth`` file puts the venv's packages after its own), reproduces
the failure with mmpretrain alone and checks the plugin's guard.
"""
import os
import os.path as osp
import subprocess
import sys
import venv

import pytest

from ..conftest import REPO

pytestmark = pytest.mark.slow

SIDE = osp.join(
    os.environ.get('XDG_CACHE_HOME', osp.expanduser('~/.cache')),
    'efficient-mtnet', 'transformers5-py%d%d' % sys.version_info[:2])


@pytest.fixture(scope='module')
def side_python():
    py = osp.join(SIDE, 'bin', 'python')
    stamp = osp.join(SIDE, '.ready')
    if not osp.isfile(stamp):
        venv.create(SIDE, with_pip=True, clear=True)
        site = subprocess.run(
            [py, '-c', 'import sysconfig; print(sysconfig.get_paths()'
             '["purelib"])'], capture_output=True, text=True,
            check=True).stdout.strip()
        ours = subprocess.run(
            [sys.executable, '-c', 'import sysconfig; print(sysconfig.'
             'get_paths()["purelib"])'], capture_output=True, text=True,
            check=True).stdout.strip()
        with open(osp.join(site, 'zz_efficient_mtnet_venv.pth'), 'w') as f:
            f.write(ours + '\n')
        out = subprocess.run(
            [py, '-m', 'pip', 'install', '-q', '--disable-pip-version-check',
             'transformers>=5,<6'], capture_output=True, text=True)
        if out.returncode:
            pytest.skip('cannot install transformers 5 (no package '
                        f'registry?): {out.stderr[-500:]}')
        open(stamp, 'w').close()
    return py


def _run(py, code):
    env = dict(os.environ, PYTHONPATH=REPO)
    return subprocess.run([py, '-c', code], capture_output=True, text=True,
                          env=env, cwd=REPO)


def test_mmpretrain_alone_fails_there(side_python):
    """The environment reproduces the bug (or the test proves nothing)."""
    out = _run(side_python, 'import transformers, mmpretrain.models; '
               'print(transformers.__version__)')
    assert out.returncode != 0
    assert 'NoneType takes no arguments' in out.stderr


def test_plugin_and_tools_import_there(side_python):
    # the plugin and each tool in its own interpreter (its own import
    # order), started together: the imports overlap instead of queueing
    env = dict(os.environ, PYTHONPATH=REPO)
    plugin = subprocess.Popen([side_python, '-c', (
        'import transformers, mtnet_plugin\n'
        'assert transformers.__version__.startswith("5."), '
        'transformers.__version__\n'
        'from mmengine.config import Config\n'
        'from mmengine.registry import init_default_scope\n'
        'from mmseg.registry import MODELS\n'
        'init_default_scope("mmseg")\n'
        'cfg = Config.fromfile("configs/efficient_mtnet_640.py")\n'
        'MODELS.build(cfg.model)\n'
        'from mmpretrain.registry import METRICS\n'
        'assert METRICS.get("Accuracy") is not None\n'
        'print("built")\n')], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, cwd=REPO, env=env)
    tools = {
        tool: subprocess.Popen(
            [side_python, osp.join(REPO, 'tools', tool), '--help'],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            cwd=REPO, env=env)
        for tool in ('train.py', 'test.py', 'infer.py')
    }
    stdout, stderr = plugin.communicate(timeout=300)
    assert plugin.returncode == 0, stderr[-2000:]
    assert 'built' in stdout
    assert 'multimodal models (BLIP, CLIP, ...) are disabled' in \
        stdout + stderr
    for tool, proc in tools.items():
        stdout, stderr = proc.communicate(timeout=300)
        assert proc.returncode == 0, (tool, stderr[-1500:])
        assert 'usage' in stdout
