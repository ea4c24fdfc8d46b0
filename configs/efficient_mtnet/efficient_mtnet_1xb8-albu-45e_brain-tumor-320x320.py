# The 320x320 recipe plus albumentations transforms for MRI through mmseg's
# Albu (SeededAlbu: reproducible under the run's seed); needs the extra:
# pip install -e ".[albu]". After the cache, per sample: flip, +-15 deg
# rotation, then mild affine (scale 0.9-1.1, shift +-6 %), elastic or grid
# distortion, Gaussian noise or blur, gamma or CLAHE, and the recipe's
# brightness/contrast. valid tumor Dice 74.90 / 75.89 on seeds 0 / 1
# against the recipe's 75.86 / 75.79 (docs/ablations.md).
_base_ = ['./efficient_mtnet_1xb8-45e_brain-tumor-320x320.py']
albu_transforms = [
    dict(
        type='Affine',
        scale=(0.9, 1.1),
        translate_percent=(-0.06, 0.06),
        border_mode=0,
        fill=0,
        fill_mask=0,
        p=0.5),
    dict(
        type='OneOf',
        transforms=[
            dict(type='ElasticTransform', alpha=30, sigma=6, p=1.0),
            dict(type='GridDistortion', distort_limit=0.2, p=1.0),
        ],
        p=0.25),
    dict(
        type='OneOf',
        transforms=[
            dict(type='GaussNoise', std_range=(0.02, 0.06), p=1.0),
            dict(type='GaussianBlur', blur_limit=(3, 5), p=1.0),
        ],
        p=0.25),
    dict(
        type='OneOf',
        transforms=[
            dict(type='RandomGamma', gamma_limit=(80, 125), p=1.0),
            dict(type='CLAHE', clip_limit=2.0, p=1.0),
        ],
        p=0.3),
]
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
    dict(type='SeededAlbu', transforms=albu_transforms),
    dict(
        type='PhotoMetricDistortion',
        brightness_delta=24,
        contrast_range=(0.8, 1.2),
        saturation_range=(1.0, 1.0),
        hue_delta=1),
    dict(type='PackMultiTaskInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
