import glob
import hashlib
import os.path as osp

import torch

from ..conftest import REPO, load_tool

publish_model = load_tool('model_converters/publish_model.py')


def test_strips_and_names_by_sha256(tmp_path):
    src = tmp_path / 'epoch_3.pth'
    torch.save(
        dict(
            state_dict={'w': torch.ones(3)},
            optimizer={'state': {}},
            message_hub={'log_scalars': {}},
            meta=dict(epoch=3, iter=30, seed=7, cfg='a long config text')),
        str(src))
    final = publish_model.publish(
        str(src), str(tmp_path / 'model.pth'), config='configs/x.py',
        commit='abc123')
    sha = hashlib.sha256(open(final, 'rb').read()).hexdigest()
    assert osp.basename(final) == f'model-{sha[:8]}.pth'
    ckpt = torch.load(final)
    assert set(ckpt) == {'state_dict', 'meta'}
    assert ckpt['meta'] == dict(epoch=3, iter=30, seed=7,
                                config='configs/x.py', commit='abc123')
    assert torch.equal(ckpt['state_dict']['w'], torch.ones(3))
    assert not glob.glob(str(tmp_path / '*.tmp'))  # no half-written file


def test_commit_defaults_to_the_checkout_head(tmp_path):
    import subprocess
    src = tmp_path / 'in.pth'
    torch.save(dict(state_dict={}, meta={}), str(src))
    # into a folder that does not exist yet
    final = publish_model.publish(str(src), str(tmp_path / 'new' / 'm.pth'))
    assert osp.dirname(final) == str(tmp_path / 'new')
    head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=REPO,
                          capture_output=True, text=True).stdout.strip()
    assert torch.load(final)['meta']['commit'] == head
