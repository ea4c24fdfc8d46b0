import glob
import json
import os
import os.path as osp
import re

import pytest
import torch
from mmengine.config import Config

import mtnet_plugin  # noqa: F401  (registers the plugin's modules)

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
MODEL_CFG = osp.join(REPO, 'configs', '_base_', 'models', 'efficient_mtnet.py')

def _real_data_root():
    """The real export: where BRAIN_TUMOR_DATA_ROOT points, else the
    configs' default (data/brain-tumor-coco), else the CI machines' copy
    in ../shared."""
    for root in (os.environ.get('BRAIN_TUMOR_DATA_ROOT'),
                 osp.join(REPO, 'data', 'brain-tumor-coco'),
                 osp.join(REPO, '..', 'shared', 'data', 'brain-tumor-coco')):
        if root and osp.isdir(root):
            return osp.abspath(root)
    return osp.join(REPO, 'data', 'brain-tumor-coco')


REAL_DATA = _real_data_root()
# the configs read their data root from this variable (the documented way
# to point every dataloader at a copy); tools run as subprocesses inherit it
os.environ['BRAIN_TUMOR_DATA_ROOT'] = REAL_DATA


@pytest.fixture(autouse=True)
def _seeded_randomness():
    """Every test starts from the same random state, whatever ran before it
    (mmengine's dataset refetch, NMF's random bases and test inputs draw
    from these generators), so a test passes or fails on its code, not on
    its luck or its place in the run."""
    from mmengine.runner import set_random_seed
    set_random_seed(0)  # random, numpy, torch (and CUDA where present)


@pytest.fixture(autouse=True)
def _loggers_write_to_open_streams():
    """A tool run in-process (a Runner, an inferencer) leaves MMLogger
    instances whose console handler holds the stream pytest captured for
    that test, closed afterwards; a later test that logs through them would
    print '--- Logging error ---' tracebacks. After each test such handlers
    are pointed back at the real stderr."""
    yield
    import logging
    import sys

    from mmengine.logging import MMLogger
    for logger in list(MMLogger._instance_dict.values()):
        for handler in logger.handlers:
            stream = getattr(handler, 'stream', None)
            if isinstance(handler, logging.StreamHandler) and getattr(
                    stream, 'closed', False):
                handler.stream = sys.__stderr__  # setStream flushes the old


def load_tool(rel):
    """A script under tools/ (``rel``, e.g. 'infer.py') as a module: its
    ``parse_args`` and ``main`` run in the test's process, without the
    several seconds a new interpreter spends importing torch and mmseg."""
    import importlib.util
    path = osp.join(REPO, 'tools', rel)
    name = 'tool_' + rel.replace('/', '_')[:-3]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_tool(rel, argv, capsys):
    """``main(argv)`` of a tool in this process, as the shell would see it:
    (exit status, stdout, stderr). One test per tool still runs it as a
    real subprocess."""
    capsys.readouterr()  # drop what came before
    try:
        load_tool(rel).main(argv)
        code = 0
    except SystemExit as e:  # argparse errors, sys.exit(...)
        code = e.code if isinstance(e.code, int) else (e.code is not None)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def current_logger():
    """A fresh MMLogger, current (what ``print_log(logger='current')`` and
    the plugin's modules write to) and at INFO. The tools quiet the
    'mmengine' instance to WARNING; tests of them that ran earlier in the
    same process (the order of files differs under pytest-xdist) would
    leave it current and drop INFO records."""
    import logging
    import time

    from mmengine.logging import MMLogger
    logger = MMLogger.get_instance(f'test_{time.time_ns()}', log_level='INFO')
    logger.setLevel(logging.INFO)
    assert MMLogger.get_current_instance() is logger
    return logger


@pytest.fixture
def model_cfg():
    """The default EfficientMTNet model config (a fresh copy per test)."""
    return Config.fromfile(MODEL_CFG).model


@pytest.fixture(scope='session')
def synthetic_root(tmp_path_factory):
    """A small synthetic dataset in the Roboflow layout, made once."""
    from mtnet_plugin.datasets.synthetic_mri import generate_dataset
    root = tmp_path_factory.mktemp('synthetic_mri')
    generate_dataset(
        str(root), dict(train=24, valid=8, test=8), size=128, seed=3,
        tumor_free_ratio=0.25)
    return str(root)


@pytest.fixture(autouse=True)
def _mmseg_scope():
    """Configs name modules without a scope, as under mmseg's Runner."""
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')


def shipped_checkpoint():
    """(config path, checkpoint path) of the default weights, the file the
    README's ``CKPT=checkpoints/...`` line names, or None when that file is
    absent. Other files in checkpoints/ are zoo weights, peers' weights and
    starting points of recipes. The config is the one named in the
    checkpoint's meta."""
    with open(osp.join(REPO, 'README.md'), encoding='utf-8') as f:
        named = re.findall(r'^CKPT=(checkpoints/\S+\.pth)$', f.read(), re.M)
    assert len(named) == 1, f'one CKPT= line expected in README.md: {named}'
    path = osp.join(REPO, named[0])
    if not osp.isfile(path):
        return None
    meta = torch.load(path, map_location='cpu').get('meta', {})
    config = meta.get('config', 'configs/efficient_mtnet_640.py')
    return osp.join(REPO, config), path


@pytest.fixture(scope='session')
def shipped():
    found = shipped_checkpoint()
    if found is None:
        pytest.skip('no shipped checkpoint')
    return found


def int8_validated_checkpoint():
    """(config path, checkpoint path) of shipped weights whose int8
    validation record for this CPU (its class's
    ``<stem>.int8-valid-<kernels>.json``, else ``<stem>.int8-valid.json``)
    says the accuracy rule was met: the default weights when theirs does,
    else the first such weights in checkpoints/; None when there are
    none."""
    from mtnet_plugin.apis.onnx_quantize import find_int8_record
    found = []
    for ckpt in sorted(glob.glob(osp.join(REPO, 'checkpoints', '*.pth'))):
        rec_path = find_int8_record(ckpt)
        if rec_path is None:
            continue
        with open(rec_path) as f:
            rec = json.load(f)
        if rec.get('meets_rule'):
            found.append((osp.join(REPO, rec['config']), ckpt))
    default = shipped_checkpoint()
    if default in found:
        return default
    return found[0] if found else None


@pytest.fixture(scope='session')
def int8_validated():
    found = int8_validated_checkpoint()
    if found is None:
        pytest.skip('no shipped weights with an int8 record that meets '
                    'the rule')
    return found


@pytest.fixture(scope='session')
def real_data():
    """The real export, or skip: users may not have it."""
    if not osp.isdir(osp.join(REAL_DATA, 'valid')):
        pytest.skip(f'real data not found at {REAL_DATA}')
    return REAL_DATA
