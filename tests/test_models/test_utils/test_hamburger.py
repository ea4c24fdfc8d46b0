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


def test_inv_t_is_rejected_because_mmseg_ignores_it():
    import pytest
    with pytest.raises(ValueError, match='inv_t'):
        DeterministicNMF2D(16, dict(MD_R=4, inv_t=100))


def _train_forward(one_step_grad, seed=3):
    nmf = DeterministicNMF2D(
        16, dict(MD_R=4, train_steps=5), one_step_grad=one_step_grad).train()
    x = torch.rand(2, 16, 5, 5, generator=torch.Generator().manual_seed(0))
    x.requires_grad_(True)
    torch.manual_seed(seed)  # the same random training bases for both
    y = nmf(x)
    return x, y


def test_one_step_grad_same_forward_cheaper_backward():
    """HamNet's one-step gradient: identical output, but autograd sees
    only the last coefficient update, not the unrolled iterations."""
    x_full, y_full = _train_forward(False)
    x_one, y_one = _train_forward(True)
    assert torch.allclose(y_full, y_one, atol=1e-6)

    def graph_size(t):
        seen, stack = set(), [t.grad_fn]
        while stack:
            fn = stack.pop()
            if fn is None or fn in seen:
                continue
            seen.add(fn)
            stack.extend(f for f, _ in fn.next_functions)
        return len(seen)

    # 5 unrolled steps of 6 bmm each are gone from the graph
    assert graph_size(y_one) + 5 * 6 < graph_size(y_full)
    g_full, = torch.autograd.grad(y_full.sum(), x_full)
    g_one, = torch.autograd.grad(y_one.sum(), x_one)
    assert g_one.abs().sum() > 0  # x still gets a gradient ...
    assert not torch.allclose(g_full, g_one)  # ... a different one


def test_one_step_grad_does_not_change_eval():
    a = DeterministicNMF2D(16, dict(MD_R=4), one_step_grad=False).eval()
    b = DeterministicNMF2D(16, dict(MD_R=4), one_step_grad=True).eval()
    x = torch.rand(1, 16, 4, 4)
    assert torch.equal(a(x), b(x))


def test_hamburger_takes_one_step_grad_from_ham_kwargs():
    ham = DeterministicHamburger(32, dict(MD_R=8, one_step_grad=True))
    assert ham.ham.one_step_grad
    assert not DeterministicHamburger(32, dict(MD_R=8)).ham.one_step_grad
