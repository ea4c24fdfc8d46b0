# The brain-tumor export read at 320x320 (metrics at the images' original
# 640x640): decoded, resized images and masks cached in the loader worker
# (CachedCompose); augmentation after the cache, fresh every epoch: flip,
# +-15 deg rotation, brightness/contrast. Batch 8, one loader worker.
_base_ = ['./brain_tumor_coco.py']
crop_size = (320, 320)
train_pipeline = [
    dict(
        type='CachedCompose',
        transforms=[
            dict(type='LoadMRIImageFromFile'),
            dict(type='LoadTumorAnnotations'),
            dict(type='Resize', scale=crop_size, keep_ratio=False),
        ]),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='RandomRotate', prob=0.5, degree=15, pad_val=0, seg_pad_val=0),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=24,
        contrast_range=(0.8, 1.2),
        saturation_range=(1.0, 1.0),
        hue_delta=1),
    dict(type='PackMultiTaskInputs'),
]
test_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(type='Resize', scale=crop_size, keep_ratio=False),
    dict(type='LoadTumorAnnotations'),
    dict(type='PackMultiTaskInputs'),
]
tta_pipeline = [
    dict(type='LoadMRIImageFromFile'),
    dict(
        type='TestTimeAug',
        transforms=[
            [dict(type='Resize', scale=crop_size, keep_ratio=False)],
            [
                dict(type='RandomFlip', prob=0., direction='horizontal'),
                dict(type='RandomFlip', prob=1., direction='horizontal')
            ],
            [dict(type='LoadTumorAnnotations')],
            [dict(type='PackMultiTaskInputs')],
        ])
]
train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8, num_workers=1, dataset=dict(pipeline=test_pipeline))
test_dataloader = dict(
    batch_size=8, num_workers=1, dataset=dict(pipeline=test_pipeline))
