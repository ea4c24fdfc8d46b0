from .ensemble_logits import ensemble_logits
from .hamburger import DeterministicHamburger, DeterministicNMF2D

__all__ = ['DeterministicHamburger', 'DeterministicNMF2D', 'ensemble_logits']
