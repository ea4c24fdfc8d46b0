# The shipped weights' recipe (README, "Trained weights"):
# efficient_mtnet_320_2core.py without the
# scale jitter and random crop (the cached 320x320 image is augmented by
# flip, rotation and photometric distortion only). Trained second, same
# seed, to measure what the jitter does.
_base_ = ['./efficient_mtnet_320_2core.py']
train_pipeline = [
    dict(
        type='CachedCompose',
        transforms=[
            dict(type='LoadMRIImageFromFile'),
            dict(type='LoadTumorAnnotations'),
            dict(type='Resize', scale={{_base_.crop_size}}, keep_ratio=False),
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
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
