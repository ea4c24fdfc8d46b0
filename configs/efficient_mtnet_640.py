# EfficientMTNet at 640x640 with the design's defaults: batch 8, 100 epochs,
# AdamW lr 1e-4 halved on plateau, early stopping; loss weights
# classification 0.4 / segmentation 0.6 / auxiliary 0.4.
_base_ = [
    './_base_/models/efficient_mtnet.py',
    './_base_/datasets/brain_tumor_coco.py',
    './_base_/schedules/schedule_100e.py', './_base_/default_runtime.py'
]
crop_size = (640, 640)
