from .distill_multi_task_encoder_decoder import DistillMultiTaskEncoderDecoder
from .multi_task_encoder_decoder import MultiTaskEncoderDecoder
from .multi_task_tta_model import MultiTaskTTAModel

__all__ = [
    'DistillMultiTaskEncoderDecoder', 'MultiTaskEncoderDecoder',
    'MultiTaskTTAModel'
]
