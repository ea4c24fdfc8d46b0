from .hamburger import DeterministicHamburger, DeterministicNMF2D

__all__ = ['DeterministicHamburger', 'DeterministicNMF2D']
