"""torch.distributed set-up that also works without a GPU."""
import os

import torch
import torch.distributed as dist


def init_cpu_dist_if_needed(cfg, launcher: str) -> None:
    """Prepare ``cfg`` for a distributed run on this machine.

    mmengine's ``init_dist('pytorch')`` calls ``torch.cuda.set_device``
    unconditionally, which fails on a CPU-only torch. Without a GPU, this
    initialises the gloo process group itself (the Runner then skips
    ``init_dist``) and wraps the model in DDP without ``device_ids``. With
    GPUs it only picks the nccl backend and leaves the rest to mmengine.
    """
    if launcher == 'none':
        return
    if torch.cuda.is_available():
        cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'nccl'
        return
    cfg.env_cfg.setdefault('dist_cfg', {})['backend'] = 'gloo'
    cfg.model_wrapper_cfg = dict(
        type='MMDistributedDataParallel', device_ids=None)
    if not dist.is_initialized():
        if launcher != 'pytorch':
            raise RuntimeError(
                f'launcher {launcher!r} needs a GPU here; on CPU use '
                '--launcher pytorch (torchrun / tools/dist_train.sh)')
        dist.init_process_group(
            backend='gloo',
            rank=int(os.environ['RANK']),
            world_size=int(os.environ['WORLD_SIZE']))
