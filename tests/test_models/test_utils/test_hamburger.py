import torch
from mmseg.models.decode_heads.ham_head import NMF2D

from mtnet_plugin.models.utils import DeterministicHamburger, \
    DeterministicNMF2D


def test_eval_is_deterministic_train_is_random():
    nmf = DeterministicNMF2D(32, dict(MD_R=8))
    x = torch.rand(2, 32, 6, 5)
    nmf.eval()
    assert torch.equal(nmf(x), nmf(x))
    nmf.train()
    assert not torch.equal(nmf(x), nmf(x))


def test_bases_saved_and_restored_from_state_dict():
    a = DeterministicNMF2D(32, dict(MD_R=8), seed=0)
    b = DeterministicNMF2D(32, dict(MD_R=8), seed=1)
    assert 'bases' in a.state_dict()
    assert tuple(a.bases.shape) == (1, 32, 8)
    assert not torch.equal(a.bases, b.bases)
    b.load_state_dict(a.state_dict())
    x = torch.rand(1, 32, 4, 4)
    assert torch.equal(a.eval()(x), b.eval()(x))


def test_same_solver_as_mmseg_given_same_bases():
    """Only the origin of the bases differs from mmseg's NMF2D."""
    ours = DeterministicNMF2D(16, dict(MD_R=4)).eval()
    theirs = NMF2D(dict(MD_R=4, rand_init=False)).eval()
    x = torch.rand(1, 16, 5, 5)
    theirs.register_buffer('bases', ours.bases.clone())
    assert torch.allclose(ours(x), theirs(x))


def test_hamburger_uses_deterministic_nmf_and_keeps_shape():
    ham = DeterministicHamburger(32, dict(MD_R=8)).eval()
    assert isinstance(ham.ham, DeterministicNMF2D)
    x = torch.randn(2, 32, 7, 9)
    assert ham(x).shape == x.shape
