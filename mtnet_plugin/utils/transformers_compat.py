"""Import mmpretrain beside transformers >= 5."""
import importlib.metadata
import sys

from mmengine.logging import print_log


def guard_mmpretrain_multimodal() -> bool:
    """Keep mmpretrain's multimodal models (BLIP, CLIP, ...) out of
    ``import mmpretrain.models`` when transformers >= 5 is installed.

    mmpretrain 1.2.0 imports them whenever ``transformers>=4.28`` is
    present, and its BLIP module subclasses a class that transformers 5 no
    longer provides (``class BertPreTrainedModel(PreTrainedModel)`` ->
    ``TypeError: NoneType takes no arguments``), so any import of
    ``mmpretrain.models`` dies. mmpretrain has its own fallback for
    environments without transformers: placeholders that raise an
    ImportError naming the missing extra when a multimodal model is built.
    This switches that fallback on (``WITH_MULTIMODAL = False``) before
    ``mmpretrain.models`` is first imported. EfficientMTNet uses none of
    those models; the user's transformers stays as it is.

    Returns:
        bool: True when the fallback was switched on.
    """
    try:
        version = importlib.metadata.version('transformers')
    except importlib.metadata.PackageNotFoundError:
        return False
    try:
        major = int(version.split('.')[0])
    except ValueError:
        return False
    if major < 5:
        return False
    if 'mmpretrain.models' in sys.modules:
        # Too late to switch; if the import had failed we would not be here.
        return False
    import mmpretrain.utils.dependency as dependency
    dependency.WITH_MULTIMODAL = False
    print_log(
        f'transformers {version} is installed: mmpretrain\'s multimodal '
        'models (BLIP, CLIP, ...) are disabled, as without transformers; '
        'EfficientMTNet does not use them', logger='current')
    return True
