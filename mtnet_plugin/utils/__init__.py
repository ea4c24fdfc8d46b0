from .dist import init_cpu_dist_if_needed
from .safe_checkpoint import (checkpoint_safe_globals,
                              register_checkpoint_safe_globals)

__all__ = [
    'checkpoint_safe_globals', 'init_cpu_dist_if_needed',
    'register_checkpoint_safe_globals'
]
