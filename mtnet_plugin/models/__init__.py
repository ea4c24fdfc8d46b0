from .backbones import *  # noqa: F401,F403
from .backbones import __all__ as _backbones
from .decode_heads import *  # noqa: F401,F403
from .decode_heads import __all__ as _decode_heads
from .heads import *  # noqa: F401,F403
from .heads import __all__ as _heads
from .losses import *  # noqa: F401,F403
from .losses import __all__ as _losses
from .necks import *  # noqa: F401,F403
from .necks import __all__ as _necks
from .segmentors import *  # noqa: F401,F403
from .segmentors import __all__ as _segmentors

__all__ = (_backbones + _decode_heads + _heads + _losses + _necks +
           _segmentors)
