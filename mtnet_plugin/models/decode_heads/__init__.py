from .progressive_light_ham_head import ProgressiveLightHamHead

__all__ = ['ProgressiveLightHamHead']
