"""A deterministic-at-eval Hamburger built on mmseg's own.

mmseg's ``NMF2D`` (``rand_init=True``, its default) draws new random NMF bases
at every forward, in eval mode too, so two predictions of the same image
differ. With ``rand_init=False`` it registers a bases buffer only at the
first forward, i.e. after a checkpoint was loaded, so the buffer is not
saved and differs between processes.

:class:`DeterministicNMF2D` keeps mmseg's multiplicative-update solver and
changes only where the initial bases come from:

- training: fresh random bases at every forward, exactly as mmseg (and
  SegNeXt) train, which acts as a regulariser;
- eval: a fixed draw from the *same* distribution (uniform, L2-normalised
  over D), made once at construction from a seeded generator and stored as a
  persistent buffer, so it is saved in checkpoints and exported to ONNX.

The network never sees a bases distribution at test time that it did not see
in training, which is why fixing the draw costs no accuracy (measured in the
README); and the same image twice gives bit-identical logits.
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
            ``train_steps``, ``eval_steps``, ``inv_t``). ``rand_init`` is
            ignored: bases are random in training and fixed in eval.
        seed (int): Seed of the generator that draws the eval bases.

    Shape:
        x: (B, C, H, W) non-negative features -> (B, C, H, W)
    """

    def __init__(self, channels: int, args: dict = dict(), seed: int = 0):
        args = {k: v for k, v in args.items() if k != 'rand_init'}
        super().__init__(args)
        self.rand_init = False
        assert channels % self.S == 0, \
            f'channels ({channels}) must be divisible by MD_S ({self.S})'
        gen = torch.Generator().manual_seed(seed)
        bases = torch.rand((self.S, channels // self.S, self.R), generator=gen)
        # (S, D, R): the same law as NMF2D._build_bases draws in training.
        self.register_buffer('bases', F.normalize(bases, dim=1))

    def forward(self, x: torch.Tensor, return_bases: bool = False):
        """Factorise ``x``: (B, C, H, W) -> low-rank (B, C, H, W)."""
        B, C, H, W = x.shape
        D, N = C // self.S, H * W
        x = x.view(B * self.S, D, N)
        if self.training:
            # (B * S, D, R), redrawn at every step as in mmseg.
            bases = self._build_bases(B, self.S, D, self.R, device=x.device)
        else:
            bases = self.bases.to(x.dtype).repeat(B, 1, 1)
        bases, coef = self.local_inference(x, bases)
        coef = self.compute_coef(x, bases, coef)  # (B * S, N, R)
        x = torch.bmm(bases, coef.transpose(1, 2))  # (B * S, D, N)
        return x.view(B, C, H, W)


class DeterministicHamburger(Hamburger):
    """mmseg's ``Hamburger`` (1x1 conv, NMF, 1x1 conv, residual) whose NMF
    is a :class:`DeterministicNMF2D`.

    Args:
        ham_channels (int): Input and output channels.
        ham_kwargs (dict): NMF arguments (see :class:`DeterministicNMF2D`).
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
        super().__init__(ham_channels, ham_kwargs, norm_cfg, **kwargs)
        self.ham = DeterministicNMF2D(ham_channels, ham_kwargs, seed=seed)
