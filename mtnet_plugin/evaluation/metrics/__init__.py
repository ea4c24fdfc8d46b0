from .readable_confusion_matrix import ReadableConfusionMatrix
from .tumor_iou_metric import TumorIoUMetric

__all__ = ['ReadableConfusionMatrix', 'TumorIoUMetric']
