"""A deterministic-at-eval Hamburger built on mmseg's own.

mmseg's ``NMF2D`` (``rand_init=True``, its default) draws new random NMF bases
at every forward, in eval mode too, so two predictions of the same image
differ. With ``rand_init=False`` it registers a bases buffer only at the
first forward, i.e. after a checkpoint was loaded, so the buffer is not
saved and differs between processes.

:class:`DeterministicNMF2D` keeps mmseg's solver and its ``forward``, and
changes only the two hooks that matter:

- ``_build_bases``: in training, fresh random bases at every forward, exactly
  as mmseg (and SegNeXt) train, which acts as a regulariser; in eval, a fixed
  draw from the *same* distribution (uniform, L2-normalised over D), made
  once at construction from a seeded generator and stored as a persistent
  buffer, so it is saved in checkpoints and exported to ONNX.
- ``local_inference``: optionally without autograd (``one_step_grad``), the
  one-step gradient of HamNet (Geng et al., ICLR 2021, Sec. 2.2.2): the
  multiplicative-update iterations run under ``torch.no_grad()`` and only the
  final ``compute_coef`` step is differentiated. mmseg back-propagates
  through every iteration.

The network never sees a bases distribution at test time that it did not see
in training, which is why fixing the draw costs no accuracy; and the same
image twice gives bit-identical logits.
"""
import torch
import torch.nn.functional as F
from mmseg.models.decode_heads.ham_head import NMF2D, Hamburger


class DeterministicNMF2D(NMF2D):
    """mmseg's ``NMF2D`` with fixed, saved bases in eval mode.

    Args:
        channels (int): Channels C of the input; the latent dimension is
            ``D = C // MD_S``.
        args (dict): mmseg's NMF arguments (``MD_S``, ``MD_R``,
            ``train_steps``, ``eval_steps``). ``rand_init`` is ignored:
            bases are random in training and fixed in eval. ``inv_t`` is
            rejected: mmseg's ``NMF2D`` forces it to 1, so a config value
            would silently do nothing.
        seed (int): Seed of the generator that draws the eval bases.
        one_step_grad (bool): Run the NMF iterations without autograd and
            differentiate only the last coefficient update (HamNet's
            one-step gradient). Default: False (mmseg's full unrolled
            gradient).

    Shape:
        x: (B, C, H, W) non-negative features -> (B, C, H, W)
    """

    def __init__(self,
                 channels: int,
                 args: dict = dict(),
                 seed: int = 0,
                 one_step_grad: bool = False):
        if 'inv_t' in args:
            raise ValueError(
                'ham_kwargs.inv_t has no effect: mmseg\'s NMF2D forces '
                'inv_t=1; remove it from the config')
        args = {k: v for k, v in args.items() if k != 'rand_init'}
        super().__init__(args)
        # mmseg's forward then calls _build_bases at every forward.
        self.rand_init = True
        self.one_step_grad = one_step_grad
        assert channels % self.S == 0, \
            f'channels ({channels}) must be divisible by MD_S ({self.S})'
        gen = torch.Generator().manual_seed(seed)
        bases = torch.rand((self.S, channels // self.S, self.R), generator=gen)
        # (S, D, R): the same law as NMF2D._build_bases draws in training.
        self.register_buffer('bases', F.normalize(bases, dim=1))

    def _build_bases(self, B, S, D, R, device=None):
        """(B * S, D, R) bases: random in training, the saved draw in eval."""
        if self.training:
            return super()._build_bases(B, S, D, R, device=device)
        return self.bases.repeat(B, 1, 1)

    def local_inference(self, x, bases):
        """mmseg's multiplicative updates, optionally outside autograd.

        Args:
            x (Tensor): (B * S, D, N) features.
            bases (Tensor): (B * S, D, R) initial bases.

        Returns:
            tuple: bases (B * S, D, R) and coefficients (B * S, N, R).
        """
        bases = bases.to(x.dtype)
        if self.one_step_grad and torch.is_grad_enabled():
            with torch.no_grad():
                return super().local_inference(x, bases)
        return super().local_inference(x, bases)


class DeterministicHamburger(Hamburger):
    """mmseg's ``Hamburger`` (1x1 conv, NMF, 1x1 conv, residual) whose NMF
    is a :class:`DeterministicNMF2D`.

    Args:
        ham_channels (int): Input and output channels.
        ham_kwargs (dict): NMF arguments (see :class:`DeterministicNMF2D`);
            ``one_step_grad`` may be given here too.
        norm_cfg (dict | None): Norm of the output 1x1 conv.
        seed (int): Seed of the eval bases.

    Shape:
        x: (B, ham_channels, H, W) -> (B, ham_channels, H, W)
    """

    def __init__(self,
                 ham_channels: int = 512,
                 ham_kwargs: dict = dict(),
                 norm_cfg=None,
                 seed: int = 0,
                 **kwargs):
        ham_kwargs = dict(ham_kwargs)
        one_step_grad = ham_kwargs.pop('one_step_grad', False)
        super().__init__(ham_channels, ham_kwargs, norm_cfg, **kwargs)
        self.ham = DeterministicNMF2D(
            ham_channels, ham_kwargs, seed=seed, one_step_grad=one_step_grad)
