from .calibration_error import ExpectedCalibrationError
from .multi_task_score import MultiTaskScore
from .readable_confusion_matrix import ReadableConfusionMatrix
from .tumor_iou_metric import TumorIoUMetric
from .volume_dice_metric import VolumeDiceMetric

__all__ = [
    'ExpectedCalibrationError', 'MultiTaskScore', 'ReadableConfusionMatrix',
    'TumorIoUMetric', 'VolumeDiceMetric'
]
