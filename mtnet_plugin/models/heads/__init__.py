from .ham_cls_head import HamClsHead

__all__ = ['HamClsHead']
