from . import fileio  # noqa: F401  (registers the 'atomic_local' backend)
from .hooks import *  # noqa: F401,F403
from .hooks import __all__  # noqa: F401
