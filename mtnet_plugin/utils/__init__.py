from .checkpoint_fit import (TRAINING_ONLY_PREFIXES, CheckpointMismatchError,
                             check_checkpoint_fits, checkpoint_mismatches,
                             describe_mismatches, exit_on_mismatch,
                             raise_on_mismatch, read_state_dict,
                             unwrap_model)
from .dist import init_cpu_dist_if_needed
from .safe_checkpoint import (checkpoint_safe_globals,
                              register_checkpoint_safe_globals)

__all__ = [
    'CheckpointMismatchError', 'TRAINING_ONLY_PREFIXES', 'exit_on_mismatch',
    'check_checkpoint_fits', 'checkpoint_mismatches',
    'checkpoint_safe_globals', 'describe_mismatches',
    'init_cpu_dist_if_needed', 'raise_on_mismatch', 'read_state_dict',
    'unwrap_model',
    'register_checkpoint_safe_globals'
]
